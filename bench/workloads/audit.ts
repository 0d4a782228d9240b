/**
 * Training steps of other encoder shapes, to catch kernels that are missing
 * or pathologically slow on wasm outside the plain conv encoder: a conv net
 * with batch norm and pooling, an MLP trained with Adam, and a transformer
 * block (fused qkv projection, 4-head attention, GELU MLP, layer norm).
 * selfsup's kernels against stock tfjs-backend-wasm, same run.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type Measurement } from '../lib/harness.js';
import { IMPL, measureOrExplain, selfsupWasm, stockWasm, type Comparison, type GroupResult, type Unavailable, type WorkloadGroup } from '../lib/workload.js';

interface Step {
  name: string;
  make: () => { step: () => void; dispose: () => void };
}

function minimizeStep(model: (x: tf.Tensor) => tf.Tensor, xShape: number[], targetShape: number[], optimizer: tf.Optimizer, extra: tf.Variable[] = []) {
  const x = tf.randomNormal(xShape, 0, 1, 'float32', 1);
  const target = tf.randomNormal(targetShape, 0, 1, 'float32', 2);
  return {
    step: () => optimizer.minimize(() => tf.mean(tf.squaredDifference(model(x), target)) as tf.Scalar, true)?.dispose(),
    dispose: () => { optimizer.dispose(); tf.dispose([x, target, ...extra]); },
  };
}

const STEPS: Step[] = [
  {
    name: 'conv+BN+pool net step [128,32,32,3]',
    make: () => {
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: 'same' }),
          tfl.layers.batchNormalization({}),
          tfl.layers.activation({ activation: 'relu' }),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tfl.layers.averagePooling2d({ poolSize: 2 }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 128, activation: 'relu' }),
          tfl.layers.dense({ units: 64 }),
        ],
      });
      const s = minimizeStep((x) => m.apply(x, { training: true }) as tf.Tensor, [128, 32, 32, 3], [128, 64], tf.train.sgd(0.01));
      return { step: s.step, dispose: () => { s.dispose(); m.dispose(); } };
    },
  },
  {
    name: 'MLP 784-512-512-128 step (Adam) [256,784]',
    make: () => {
      const m = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [784], units: 512, activation: 'relu' }),
          tfl.layers.dense({ units: 512, activation: 'relu' }),
          tfl.layers.dense({ units: 128 }),
        ],
      });
      const s = minimizeStep((x) => m.apply(x) as tf.Tensor, [256, 784], [256, 128], tf.train.adam(1e-3));
      return { step: s.step, dispose: () => { s.dispose(); m.dispose(); } };
    },
  },
  {
    name: 'transformer block step B=64 T=65 D=128 H=4',
    make: () => {
      const [B, T, D, H] = [64, 65, 128, 4];
      const v = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.05, 'float32', seed));
      const w = { qkv: v([D, 3 * D], 3), o: v([D, D], 4), up: v([D, 4 * D], 5), down: v([4 * D, D], 6) };
      const norm = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, -1, true);
        return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5)));
      };
      const block = (x: tf.Tensor) => {
        const tokens = tf.reshape(x, [B * T, D]);
        const qkv = tf.reshape(tf.matMul(norm(tokens), w.qkv), [B, T, 3, H, D / H]);
        const [q, k, val] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])).map((t) => tf.reshape(t, [B * H, T, D / H]));
        const att = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(D / H)));
        const heads = tf.reshape(tf.transpose(tf.reshape(tf.matMul(att, val!), [B, H, T, D / H]), [0, 2, 1, 3]), [B * T, D]);
        const y = tf.add(tokens, tf.matMul(heads, w.o));
        const u = tf.matMul(norm(y), w.up);
        const gelu = tf.mul(u, tf.sigmoid(tf.mul(1.702, u)));
        return tf.reshape(tf.add(y, tf.matMul(gelu, w.down)), [B * T, D]);
      };
      return minimizeStep(block, [B, T, D], [B * T, D], tf.train.sgd(0.01), Object.values(w));
    },
  },
];

export const auditGroup: WorkloadGroup = {
  name: 'audit',
  description: 'other encoders\' training steps: selfsup kernels vs stock tfjs wasm',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    for (const s of STEPS) {
      for (const [impl, setup] of [[IMPL.selfsup, selfsupWasm], [IMPL.naiveWasm, stockWasm]] as const) {
        await setup();
        const { step, dispose } = s.make();
        const m = await measureOrExplain(s.name, impl, step, { ...ctx.options, runs: Math.min(ctx.options.runs ?? 10, 5) }, unavailable);
        if (m) rows.push(m);
        dispose();
      }
      comparisons.push({ workload: s.name, subject: IMPL.selfsup, baseline: IMPL.naiveWasm, label: 'vs stock wasm' });
    }
    await selfsupWasm();
    return { rows, unavailable, comparisons, notes: [] };
  },
};
