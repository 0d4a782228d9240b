/**
 * Thread scaling: the same workloads at 1 thread and at more (`--threads`,
 * default 1 and every core), selfsup and its peers side by side at each
 * count, in one run. selfsup re-creates its wasm backend per count
 * (`useBackend('wasm', { threads })`: tfjs's thread pool for its XNNPACK ops
 * and selfsup's pool for its own kernels); PyTorch and scikit-learn run with
 * OMP_NUM_THREADS set to the count.
 *
 * Workloads: a 1024³ matrix product (selfsup's BatchMatMul kernel on a batch
 * of one; the same product of rank-2 tensors goes to tfjs's XNNPACK kernel), a 3×3
 * convolution forward + backward and one training step of the conv encoder
 * (the conv and encoder groups' shapes), the contrastive losses forward +
 * backward (the losses group's) and k-means (the kmeans group's).
 *
 * Ratios: each count > 1 against selfsup's 1-thread time (the speed-up is its
 * inverse) and against the peer at the same count. Wall times: with several
 * threads the process CPU time also counts the time threads spin while they
 * wait, so it is not the figure to compare.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo } from '../../src/backend/use-backend.js';
import { clipLoss, infoNCELoss, kMeans, ntXentLoss } from '../../src/losses/index.js';
import { runPythonPeer, type Measurement } from '../lib/harness.js';
import { IMPL, measureOrExplain, selfsupWasm, type Comparison, type GroupResult, type Unavailable, type WorkloadGroup } from '../lib/workload.js';
import { convName } from './conv.js';
import { encoderName, encoderTrainingStep } from './encoder.js';

/** Implementation label at a thread count (the whole-step group's convention). */
export const implAt = (base: string, threads: number) => (threads === 1 ? base : `${base} ${threads} threads`);

const MATMUL = 'matMul 1024x1024x1024';
const CONV: [[number, number, number, number], number] = [[256, 16, 16, 32], 64];
const ENCODER: [number, number, number, number] = [256, 32, 32, 3];
const KMEANS = 'kmeans 10000x128 k=100 10 iters';

interface Workload {
  name: string;
  /** The peer's workload name, where it differs. */
  peerName?: string;
  /** Which peer measures it and with which arguments. */
  peer: { script: string; args: string[]; requires: string[]; impl: string };
  /** Builds the inputs on the active backend; returns the timed function and the cleanup. */
  make(): { run: () => void; dispose: () => void };
}

function lossWorkload(name: string, inputs: () => tf.Tensor[], loss: (...xs: tf.Tensor[]) => tf.Scalar, keep: () => tf.Tensor[] = () => []): Workload {
  return {
    name,
    peer: { script: 'losses_torch.py', args: [], requires: ['torch'], impl: IMPL.pytorch },
    make() {
      const xs = inputs();
      const kept = keep();
      const grads = tf.grads((...a: tf.Tensor[]) => loss(...a, ...kept));
      return { run: () => tf.tidy(() => { grads(xs); }), dispose: () => tf.dispose([...xs, ...kept]) };
    },
  };
}

const randn = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

const WORKLOADS: Workload[] = [
  {
    // A batch of one: selfsup's BatchMatMul kernel (rank-2 products go to tfjs's).
    name: MATMUL,
    peer: { script: 'matmul_torch.py', args: [], requires: ['torch'], impl: IMPL.pytorch },
    make() {
      const a = randn([1, 1024, 1024], 1);
      const b = randn([1, 1024, 1024], 2);
      return { run: () => tf.tidy(() => { tf.matMul(a, b); }), dispose: () => tf.dispose([a, b]) };
    },
  },
  {
    name: `${MATMUL} rank 2 (tfjs XNNPACK)`,
    peerName: MATMUL,
    peer: { script: 'matmul_torch.py', args: [], requires: ['torch'], impl: IMPL.pytorch },
    make() {
      const a = randn([1024, 1024], 1);
      const b = randn([1024, 1024], 2);
      return { run: () => tf.tidy(() => { tf.matMul(a, b); }), dispose: () => tf.dispose([a, b]) };
    },
  },
  {
    name: convName(CONV[0], CONV[1], 'fwd+bwd'),
    peer: { script: 'conv_torch.py', args: ['--only', 'conv'], requires: ['torch'], impl: IMPL.pytorch },
    make() {
      const [shape, co] = CONV;
      const x = randn(shape, 1) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, shape[3], co], 0, 0.1, 'float32', 2) as tf.Tensor4D;
      const dy = randn([shape[0], shape[1], shape[2], co], 3) as tf.Tensor4D;
      const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'));
      return { run: () => tf.tidy(() => { grads([x, w], dy); }), dispose: () => tf.dispose([x, w, dy]) };
    },
  },
  {
    name: encoderName(ENCODER),
    peer: { script: 'conv_torch.py', args: ['--only', 'encoder'], requires: ['torch'], impl: IMPL.pytorch },
    make() {
      const { step, dispose } = encoderTrainingStep(ENCODER);
      return { run: step, dispose };
    },
  },
  ...[256, 1024].map((n) =>
    lossWorkload(`ntXent N=${n} D=128 fwd+bwd`, () => [randn([n, 128], 1), randn([n, 128], 2)], (a, b) =>
      ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: 0.5 }),
    ),
  ),
  lossWorkload(
    'infoNCE N=256 queue=4096 D=128 fwd+bwd',
    () => [randn([256, 128], 3), randn([256, 128], 4)],
    (q, k, queue) => infoNCELoss(q as tf.Tensor2D, k as tf.Tensor2D, queue as tf.Tensor2D, { temperature: 0.07 }),
    () => [tf.tidy(() => { const r = randn([4096, 128], 5); return tf.div(r, tf.norm(r, 'euclidean', 1, true)); })],
  ),
  lossWorkload('clip N=256 D=512 fwd+bwd', () => [randn([256, 512], 6), randn([256, 512], 7)], (a, b) =>
    clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, { logScale: Math.log(1 / 0.07) }),
  ),
  {
    name: KMEANS,
    peer: { script: 'kmeans_sklearn.py', args: [], requires: ['sklearn'], impl: IMPL.sklearn },
    make() {
      const x = randn([10000, 128], 1) as tf.Tensor2D;
      const init = tf.slice(x, [0, 0], [100, 128]) as tf.Tensor2D;
      const run = () => {
        const { centroids, assignments } = kMeans(x, { k: 100, iterations: 10, init });
        tf.dispose([centroids, assignments]);
      };
      return { run, dispose: () => tf.dispose([x, init]) };
    },
  },
];

export const threadsGroup: WorkloadGroup = {
  name: 'threads',
  description: 'thread scaling: matMul, conv, encoder step, contrastive losses and k-means at 1 thread and more, next to PyTorch / scikit-learn at the same counts',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    const notes: string[] = [];
    // Default: 1 and every core (the point of this group is the comparison).
    const asked = ctx.threads && ctx.threads.some((t) => t > 1) ? ctx.threads : [1, availableParallelism()];
    const counts = [...new Set([1, ...asked])].sort((a, b) => a - b);
    const opts = ctx.quick ? ctx.options : { ...ctx.options, runs: 7, maxTimeMs: 20_000 };
    for (const threads of counts) {
      await selfsupWasm(threads);
      const info = backendInfo();
      if (info.threads !== threads || info.kernelThreads !== threads) {
        notes.push(`asked for ${threads} threads; tfjs runs ${info.threads}, selfsup's kernels ${info.kernelThreads} (${info.threadsReason ?? 'no reason given'})`);
      }
      for (const w of WORKLOADS) {
        const { run, dispose } = w.make();
        try {
          const m = await measureOrExplain(w.name, implAt(IMPL.selfsup, threads), run, w.name === KMEANS ? { ...opts, runs: 5 } : opts, unavailable);
          if (m) rows.push(m);
        } finally {
          dispose();
        }
      }
      const peers = new Map<string, Workload['peer']>();
      for (const w of WORKLOADS) peers.set(`${w.peer.script} ${w.peer.args.join(' ')}`, w.peer);
      for (const p of peers.values()) {
        const measured = runPythonPeer(p.script, [...p.args, ...(ctx.quick ? ['--quick'] : [])], p.requires, threads);
        const wanted = new Set(WORKLOADS.map((w) => w.peerName ?? w.name));
        for (const r of measured ?? []) if (wanted.has(r.workload)) rows.push({ ...r, impl: implAt(r.impl, threads) });
      }
    }
    // Back to one thread for the groups that run after this one.
    await selfsupWasm(1);
    for (const w of WORKLOADS) {
      for (const t of counts) {
        comparisons.push({
          workload: w.name, subject: implAt(IMPL.selfsup, t), baseline: implAt(w.peer.impl, t), label: `vs ${w.peer.impl}`,
          ...(w.peerName ? { baselineWorkload: w.peerName } : {}),
        });
        if (t > 1) comparisons.push({ workload: w.name, subject: implAt(IMPL.selfsup, t), baseline: IMPL.selfsup, label: 'vs 1 thread' });
      }
      for (const t of counts.filter((c) => c > 1)) {
        const one = rows.find((r) => r.workload === w.name && r.impl === IMPL.selfsup);
        const many = rows.find((r) => r.workload === w.name && r.impl === implAt(IMPL.selfsup, t));
        const peerOne = rows.find((r) => r.workload === (w.peerName ?? w.name) && r.impl === w.peer.impl);
        const peerMany = rows.find((r) => r.workload === (w.peerName ?? w.name) && r.impl === implAt(w.peer.impl, t));
        if (one && many) {
          const peer = peerOne && peerMany ? `; ${w.peer.impl} ×${(peerOne.medianMs / peerMany.medianMs).toFixed(2)}` : '';
          notes.push(`${w.name}: speed-up 1→${t} threads selfsup ×${(one.medianMs / many.medianMs).toFixed(2)} (median wall)${peer}`);
        }
      }
    }
    notes.push('Wall-time ratios; with more than one thread the CPU column also counts threads spinning while they wait for work.');
    return { rows, unavailable, comparisons, notes };
  },
};
