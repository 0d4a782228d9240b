/**
 * The contrastive losses written the naive tfjs way (normalise, similarity
 * matMul with a transpose flag, softmax cross-entropy, autodiff), forward +
 * backward: on stock tfjs wasm, on wasm with selfsup's kernels registered
 * (flag-free matMul, zero-copy clones), on tfjs cpu, and in PyTorch
 * (bench/peers/losses_torch.py). selfsup's own fused losses are added to this
 * module when they land.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runPythonPeer, type Measurement } from '../lib/harness.js';
import {
  IMPL,
  measureOrExplain,
  selfsupWasm,
  stockWasm,
  type Comparison,
  type GroupResult,
  type Unavailable,
  type WorkloadGroup,
} from '../lib/workload.js';
import { useBackend } from '../../src/backend/use-backend.js';

const normalize = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;

function ntXentNaive(z1: tf.Tensor2D, z2: tf.Tensor2D, tau = 0.5): tf.Scalar {
  const n = z1.shape[0];
  const z = normalize(tf.concat([z1, z2], 0));
  const sim = tf.div(tf.matMul(z, z, false, true), tau);
  const masked = tf.sub(sim, tf.mul(tf.eye(2 * n), 1e9));
  const labels = tf.oneHot(tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]), 2 * n);
  return tf.losses.softmaxCrossEntropy(labels, masked) as tf.Scalar;
}

function infoNceNaive(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, tau = 0.07): tf.Scalar {
  const qn = normalize(q);
  const kn = normalize(k);
  const pos = tf.sum(tf.mul(qn, kn), 1, true);
  const neg = tf.matMul(qn, queue, false, true);
  const logits = tf.div(tf.concat([pos, neg], 1), tau);
  const labels = tf.oneHot(tf.zeros([q.shape[0]], 'int32') as tf.Tensor1D, logits.shape[1]!);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

function clipNaive(img: tf.Tensor2D, txt: tf.Tensor2D, scale = 1 / 0.07): tf.Scalar {
  const logits = tf.mul(tf.matMul(normalize(img), normalize(txt), false, true), scale);
  const labels = tf.oneHot(tf.range(0, img.shape[0], 1, 'int32') as tf.Tensor1D, img.shape[0]);
  const a = tf.losses.softmaxCrossEntropy(labels, logits);
  const b = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
  return tf.div(tf.add(a, b), 2) as tf.Scalar;
}

interface Case {
  name: string;
  make: () => { inputs: tf.Tensor[]; loss: (...xs: tf.Tensor[]) => tf.Scalar; keep: tf.Tensor[] };
}

const CASES: Case[] = [
  ...[256, 1024].map((n) => ({
    name: `ntXent N=${n} D=128 fwd+bwd`,
    make: () => {
      const inputs = [tf.randomNormal([n, 128], 0, 1, 'float32', 1), tf.randomNormal([n, 128], 0, 1, 'float32', 2)];
      return { inputs, keep: [], loss: (a: tf.Tensor, b: tf.Tensor) => ntXentNaive(a as tf.Tensor2D, b as tf.Tensor2D) };
    },
  })),
  {
    name: 'infoNCE N=256 queue=4096 D=128 fwd+bwd',
    make: () => {
      const inputs = [tf.randomNormal([256, 128], 0, 1, 'float32', 3), tf.randomNormal([256, 128], 0, 1, 'float32', 4)];
      const queue = tf.tidy(() => normalize(tf.randomNormal([4096, 128], 0, 1, 'float32', 5)));
      return { inputs, keep: [queue], loss: (q: tf.Tensor, k: tf.Tensor) => infoNceNaive(q as tf.Tensor2D, k as tf.Tensor2D, queue) };
    },
  },
  {
    name: 'clip N=256 D=512 fwd+bwd',
    make: () => {
      const inputs = [tf.randomNormal([256, 512], 0, 1, 'float32', 6), tf.randomNormal([256, 512], 0, 1, 'float32', 7)];
      return { inputs, keep: [], loss: (a: tf.Tensor, b: tf.Tensor) => clipNaive(a as tf.Tensor2D, b as tf.Tensor2D) };
    },
  },
];

export const lossesGroup: WorkloadGroup = {
  name: 'losses',
  description: 'contrastive losses, forward + backward (naive tfjs compositions; selfsup rows come with the losses)',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    const impls: [string, () => Promise<void>][] = [
      [IMPL.naiveWasm, stockWasm],
      [IMPL.naiveWasmKernels, selfsupWasm],
      [IMPL.cpu, async () => { await useBackend('cpu'); }],
    ];
    for (const c of CASES) {
      for (const [impl, setup] of impls) {
        await setup();
        const { inputs, loss, keep } = c.make();
        const grads = tf.grads(loss);
        const run = () => tf.tidy(() => { grads(inputs); });
        const m = await measureOrExplain(c.name, impl, run, impl === IMPL.cpu ? { warmup: 0, runs: 2 } : ctx.options, unavailable);
        if (m) rows.push(m);
        tf.dispose([...inputs, ...keep]);
      }
      comparisons.push(
        { workload: c.name, subject: IMPL.naiveWasmKernels, baseline: IMPL.naiveWasm, label: 'vs stock wasm' },
        { workload: c.name, subject: IMPL.naiveWasmKernels, baseline: IMPL.pytorch, label: 'vs pytorch' },
        { workload: c.name, subject: IMPL.naiveWasm, baseline: IMPL.pytorch, label: 'vs pytorch' },
      );
    }
    await selfsupWasm();
    const peer = runPythonPeer('losses_torch.py', ctx.quick ? ['--quick'] : []);
    if (peer) rows.push(...peer);
    return {
      rows,
      unavailable,
      comparisons,
      notes: ['Losses: both sides are the plain composition with autodiff; selfsup\'s fused losses are benchmarked after they are merged.'],
    };
  },
};
