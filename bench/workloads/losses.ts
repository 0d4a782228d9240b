/**
 * The contrastive losses forward + backward (gradients of both embedding
 * batches): selfsup's losses on wasm (fused kernels), the same losses as tfjs
 * compositions (wasm without the fused kernels, and tfjs cpu), the naive tfjs
 * composition (normalise, similarity matMul with a transpose flag, softmax
 * cross-entropy, autodiff) on stock tfjs wasm, on wasm with selfsup's kernels
 * registered and on tfjs cpu, and PyTorch (bench/peers/losses_torch.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runPythonPeer, type Measurement } from '../lib/harness.js';
import {
  IMPL,
  measureOrExplain,
  selfsupWasm,
  selfsupWasmComposed,
  stockWasm,
  type Comparison,
  type GroupResult,
  type Unavailable,
  type WorkloadGroup,
} from '../lib/workload.js';
import { useBackend } from '../../src/backend/use-backend.js';
import { clipLoss, infoNCELoss, ntXentLoss } from '../../src/losses/index.js';

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

type Loss = (...xs: tf.Tensor[]) => tf.Scalar;

interface Case {
  name: string;
  /** `loss` is the naive composition, `selfsup` the library's loss (same definition and temperature). */
  make: () => { inputs: tf.Tensor[]; loss: Loss; selfsup: Loss; keep: tf.Tensor[] };
}

const CASES: Case[] = [
  ...[256, 1024].map((n) => ({
    name: `ntXent N=${n} D=128 fwd+bwd`,
    make: () => {
      const inputs = [tf.randomNormal([n, 128], 0, 1, 'float32', 1), tf.randomNormal([n, 128], 0, 1, 'float32', 2)];
      return {
        inputs,
        keep: [],
        loss: (a: tf.Tensor, b: tf.Tensor) => ntXentNaive(a as tf.Tensor2D, b as tf.Tensor2D),
        selfsup: (a: tf.Tensor, b: tf.Tensor) => ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: 0.5 }),
      };
    },
  })),
  {
    name: 'infoNCE N=256 queue=4096 D=128 fwd+bwd',
    make: () => {
      const inputs = [tf.randomNormal([256, 128], 0, 1, 'float32', 3), tf.randomNormal([256, 128], 0, 1, 'float32', 4)];
      const queue = tf.tidy(() => normalize(tf.randomNormal([4096, 128], 0, 1, 'float32', 5)));
      return {
        inputs,
        keep: [queue],
        loss: (q: tf.Tensor, k: tf.Tensor) => infoNceNaive(q as tf.Tensor2D, k as tf.Tensor2D, queue),
        selfsup: (q: tf.Tensor, k: tf.Tensor) => infoNCELoss(q as tf.Tensor2D, k as tf.Tensor2D, queue, { temperature: 0.07 }),
      };
    },
  },
  {
    name: 'clip N=256 D=512 fwd+bwd',
    make: () => {
      const inputs = [tf.randomNormal([256, 512], 0, 1, 'float32', 6), tf.randomNormal([256, 512], 0, 1, 'float32', 7)];
      return {
        inputs,
        keep: [],
        loss: (a: tf.Tensor, b: tf.Tensor) => clipNaive(a as tf.Tensor2D, b as tf.Tensor2D),
        selfsup: (a: tf.Tensor, b: tf.Tensor) => clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, { logScale: Math.log(1 / 0.07) }),
      };
    },
  },
];

export const lossesGroup: WorkloadGroup = {
  name: 'losses',
  description: 'contrastive losses, forward + backward: selfsup (fused on wasm) vs tfjs compositions vs PyTorch',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    const cpu = async () => { await useBackend('cpu'); };
    // [label, backend setup, which loss]
    const impls: [string, () => Promise<void>, 'selfsup' | 'loss'][] = [
      [IMPL.selfsup, selfsupWasm, 'selfsup'],
      [IMPL.selfsupComposed, selfsupWasmComposed, 'selfsup'],
      [IMPL.naiveWasm, stockWasm, 'loss'],
      [IMPL.naiveWasmKernels, selfsupWasm, 'loss'],
      [IMPL.selfsupCpu, cpu, 'selfsup'],
      [IMPL.cpu, cpu, 'loss'],
    ];
    for (const c of CASES) {
      for (const [impl, setup, which] of impls) {
        await setup();
        const made = c.make();
        const grads = tf.grads(made[which]);
        const run = () => tf.tidy(() => { grads(made.inputs); });
        const slow = impl === IMPL.cpu || impl === IMPL.selfsupCpu;
        const m = await measureOrExplain(c.name, impl, run, slow ? { warmup: 0, runs: 2 } : ctx.options, unavailable);
        if (m) rows.push(m);
        tf.dispose([...made.inputs, ...made.keep]);
      }
      comparisons.push(
        { workload: c.name, subject: IMPL.selfsup, baseline: IMPL.pytorch, label: 'vs pytorch' },
        { workload: c.name, subject: IMPL.selfsup, baseline: IMPL.selfsupComposed, label: 'vs tfjs ops' },
        { workload: c.name, subject: IMPL.selfsup, baseline: IMPL.naiveWasm, label: 'vs naive stock wasm' },
        { workload: c.name, subject: IMPL.selfsup, baseline: IMPL.selfsupCpu, label: 'vs cpu' },
        { workload: c.name, subject: IMPL.naiveWasmKernels, baseline: IMPL.naiveWasm, label: 'vs stock wasm' },
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
      notes: [
        'selfsup wasm runs the fused kernels (normalisation, GEMM, log-sum-exp and analytic backward in one forward and one backward kernel per input).',
        'selfsup\'s losses normalise the InfoNCE queue on every call (PyTorch\'s and the naive composition use a pre-normalised queue).',
      ],
    };
  },
};
