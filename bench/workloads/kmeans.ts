/**
 * Lloyd k-means on 10,000 × 128 points, k = 100, 10 iterations from given
 * centres: selfsup's `kMeans` on wasm (fused kernels) and as tfjs ops (wasm
 * without the fused kernels), and the naive tfjs composition (full distance
 * matrix from ‖x‖² − 2x·cᵀ + ‖c‖², argMin, one-hot matMul for the new
 * centres) on stock wasm, wasm with selfsup's kernels and tfjs cpu, against
 * scikit-learn (bench/peers/kmeans_sklearn.py).
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
import { kMeans } from '../../src/losses/k-means.js';

const NAME = 'kmeans 10000x128 k=100 10 iters';

function kmeansNaive(x: tf.Tensor2D, init: tf.Tensor2D, iterations: number): tf.Tensor2D {
  let centres = tf.clone(init);
  const xx = tf.sum(tf.square(x), 1, true);
  for (let it = 0; it < iterations; it++) {
    const next = tf.tidy(() => {
      const d = tf.add(tf.sub(xx, tf.mul(2, tf.matMul(x, centres, false, true))), tf.transpose(tf.sum(tf.square(centres), 1, true)));
      const onehot = tf.cast(tf.oneHot(tf.argMin(d, 1) as tf.Tensor1D, init.shape[0]), 'float32');
      const sums = tf.matMul(onehot, x, true, false);
      const counts = tf.transpose(tf.sum(onehot, 0, true));
      return tf.where(tf.greater(counts, 0), tf.div(sums, tf.maximum(counts, 1)), centres) as tf.Tensor2D;
    });
    centres.dispose();
    centres = next;
  }
  xx.dispose();
  return centres;
}

export const kmeansGroup: WorkloadGroup = {
  name: 'kmeans',
  description: 'k-means: selfsup (fused on wasm) vs tfjs compositions vs scikit-learn',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const selfsup = (x: tf.Tensor2D, init: tf.Tensor2D) => {
      const { centroids, assignments } = kMeans(x, { k: 100, iterations: 10, init });
      tf.dispose([centroids, assignments]);
    };
    const naive = (x: tf.Tensor2D, init: tf.Tensor2D) => { kmeansNaive(x, init, 10).dispose(); };
    const impls: [string, () => Promise<void>, typeof naive][] = [
      [IMPL.selfsup, selfsupWasm, selfsup],
      [IMPL.selfsupComposed, selfsupWasmComposed, selfsup],
      [IMPL.naiveWasm, stockWasm, naive],
      [IMPL.naiveWasmKernels, selfsupWasm, naive],
      [IMPL.cpu, async () => { await useBackend('cpu'); }, naive],
    ];
    for (const [impl, setup, f] of impls) {
      await setup();
      const x = tf.randomNormal([10000, 128], 0, 1, 'float32', 1) as tf.Tensor2D;
      const init = tf.slice(x, [0, 0], [100, 128]) as tf.Tensor2D;
      const run = () => { f(x, init); };
      const opts = impl === IMPL.cpu ? { warmup: 0, runs: 1 } : { ...ctx.options, runs: Math.min(ctx.options.runs ?? 10, 5) };
      const m = await measureOrExplain(NAME, impl, run, opts, unavailable);
      if (m) rows.push(m);
      tf.dispose([x, init]);
    }
    await selfsupWasm();
    const peer = runPythonPeer('kmeans_sklearn.py', ctx.quick ? ['--quick'] : [], ['sklearn']);
    if (peer) rows.push(...peer);
    const comparisons: Comparison[] = [
      { workload: NAME, subject: IMPL.selfsup, baseline: IMPL.sklearn, label: 'vs scikit-learn' },
      { workload: NAME, subject: IMPL.selfsup, baseline: IMPL.selfsupComposed, label: 'vs tfjs ops' },
      { workload: NAME, subject: IMPL.selfsup, baseline: IMPL.naiveWasm, label: 'vs naive stock wasm' },
      { workload: NAME, subject: IMPL.naiveWasmKernels, baseline: IMPL.naiveWasm, label: 'vs stock wasm' },
      { workload: NAME, subject: IMPL.naiveWasmKernels, baseline: IMPL.sklearn, label: 'vs scikit-learn' },
    ];
    return {
      rows,
      unavailable,
      comparisons,
      notes: [
        'k-means: tfjs cpu runs once (it takes seconds). selfsup\'s kMeans also centres the data and computes the inertia, as scikit-learn does.',
      ],
    };
  },
};
