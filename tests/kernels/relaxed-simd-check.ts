/**
 * Run by tests/kernels/relaxed-simd.test.ts in a child Node process with
 * relaxed SIMD (Node 20 with `--experimental-wasm-relaxed-simd`, or Node ≥ 22
 * as is): computes selfsup's GEMM-based kernels once with the relaxed-SIMD
 * module and once with the SIMD128 module (`useBackend`'s `relaxedSimd`
 * option) and prints, as JSON on its last line, which module each run used
 * and the largest difference of each result relative to its largest
 * magnitude; then, on tfjs's threaded build with 3 threads (the relaxed
 * module on shared memory, selfsup's kernel pool), which results differ in any
 * bit between 1 thread and 3 (every call split, however small).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { backendInfo, useBackend } from '../../src/backend/use-backend.js';
import { kMeans } from '../../src/losses/k-means.js';
import { clipLoss, infoNCELoss, ntXentLoss } from '../../src/losses/index.js';
import { kernelThreadInfo, setKernelSplitForTesting, type WasmBackendLike } from '../../src/kernels/wasm-runtime.js';

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
const rand2 = (shape: [number, number], seed: number) => rand(shape, seed) as tf.Tensor2D;

/** Every result, flattened: conv gradients (first layer and GEMM path), batched and flagged products, losses, k-means, BN, Adam. */
function results(): Record<string, Float32Array> {
  let layer: tfl.layers.Layer | undefined;
  const values = tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, xs, co, s] of [['conv c1', [4, 13, 11, 1], 8, 2], ['conv c13', [3, 9, 10, 13], 21, 1], ['conv c32', [2, 8, 8, 32], 64, 2]] as const) {
      const x = rand([...xs], 1);
      const w = rand([3, 3, xs[3], co], 2);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same'))))([x, w]);
      out[`${name} forward`] = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same');
      out[`${name} dx`] = dx!;
      out[`${name} dw`] = dw!;
    }
    out['batch matmul'] = tf.matMul(rand([3, 17, 33], 3), rand([3, 33, 9], 4));
    out['matmul transposed'] = tf.matMul(rand([19, 37], 5), rand([23, 37], 6), false, true);
    const z1 = rand2([24, 16], 7);
    const z2 = rand2([24, 16], 8);
    out['nt-xent grad'] = tf.grad((a: tf.Tensor) => ntXentLoss(a as tf.Tensor2D, z2, { temperature: 0.2 }))(z1);
    out['infonce queue'] = infoNCELoss(z1, z2, rand2([40, 16], 9), { temperature: 0.1 }) as tf.Tensor;
    out['clip grad'] = tf.grad((a: tf.Tensor) => clipLoss(a as tf.Tensor2D, z2))(z1);
    out['kmeans'] = kMeans(rand2([200, 12], 10), { k: 5, seed: 3, iterations: 5 }).centroids;
    const bn = tfl.layers.batchNormalization({});
    layer = bn;
    out['batch norm'] = tf.grad((a: tf.Tensor) => tf.sum(tf.square(bn.apply(a, { training: true }) as tf.Tensor)))(rand([6, 5, 7], 11));
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
  });
  layer?.dispose(); // its weights: nothing may stay on the backend, which useBackend re-creates for another thread count
  return values;
}

function relativeDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

await useBackend('wasm');
const relaxedSimd = backendInfo().kernelsSimd;
const relaxed = results();
await useBackend('wasm', { relaxedSimd: false });
const simd128Simd = backendInfo().kernelsSimd;
const simd128 = results();
await useBackend('wasm');
const back = backendInfo().kernelsSimd;
const diffs = Object.fromEntries(Object.keys(relaxed).map((k) => [k, relativeDiff(relaxed[k]!, simd128[k]!)]));
const finite = Object.values(relaxed).every((a) => a.every(Number.isFinite));

// The relaxed module split over threads: the same bits at 1 and 3 threads.
const bitsOf = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, a]) => [k, new Uint32Array(a.buffer)]));
await useBackend('wasm', { threads: 3 });
const threaded = { ...backendInfo() };
setKernelSplitForTesting({ minWork: 0, maxThreads: 1 });
const oneThread = bitsOf(results());
const pooledBefore = kernelThreadInfo(tf.backend() as unknown as WasmBackendLike).pooledCalls;
setKernelSplitForTesting({ minWork: 0 });
const threeThreads = bitsOf(results());
const pooled = kernelThreadInfo(tf.backend() as unknown as WasmBackendLike).pooledCalls - pooledBefore;
setKernelSplitForTesting(undefined);
const threadDiffs = Object.keys(oneThread).filter((k) => oneThread[k]!.some((v, i) => v !== threeThreads[k]![i]));
console.log(JSON.stringify({
  node: process.version, kernelsSimd: [relaxedSimd, simd128Simd, back], finite, diffs,
  threaded: { kernelsSimd: threaded.kernelsSimd, threads: threaded.threads, kernelThreads: threaded.kernelThreads, pooled, threadDiffs },
}));
