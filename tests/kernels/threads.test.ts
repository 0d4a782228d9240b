/**
 * selfsup's kernels split over threads give the same bits as on one thread.
 *
 * The wasm backend runs with 3 threads (tfjs's threaded build in Node, on a
 * shared memory, with selfsup's kernel pool: 2 workers + this thread), and
 * every call is split however small (the work threshold is set to 0). Each
 * case runs once capped at 1 thread and again at 2 and 3 (uneven splits,
 * ranges that end mid-block, threads with nothing to do), and the outputs
 * must be identical bit for bit: every output element is computed by one
 * thread, in the same order as on one thread, and the per-row terms of the
 * losses are summed in row order by one thread. Shapes are odd on purpose
 * (SIMD tails, partial tiles and blocks). Every kernel family is covered:
 * convolutions forward and backward, products (k blocks, small products),
 * sums, pooling, ReLU, bias/activation and batch-norm passes, GELU, the
 * optimizer updates, the fused losses, k-means and augmentation. This file
 * runs the SIMD128 build; tests/kernels/relaxed-simd.test.ts checks the
 * relaxed build at 1 and 3 threads.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, useBackend } from '../../src/backend/use-backend.js';
import { createRng } from '../../src/core/rng.js';
import { clipLoss, infoNCELoss, kMeans, ntXentLoss } from '../../src/losses/index.js';
import { applyColorJitter, compose, GaussianBlur, RandomGrayscale, RandomResizedCrop, sampleColorJitter } from '../../src/augment/index.js';
import { fromPlanar, toPlanar } from '../../src/augment/planar.js';
import { gelu } from '../../src/heads/transformer.js';
import { kernelThreadInfo, setKernelSplitForTesting, type WasmBackendLike } from '../../src/kernels/wasm-runtime.js';

const THREADS = 3;

function rand(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(createRng(seed).uniformArray(n, lo, hi), shape);
}

/** The exact bits of every output (float32 or int32). */
function bits(list: tf.Tensor[]): number[][] {
  return list.map((t) => Array.from(new Uint32Array((t.dataSync() as Float32Array | Int32Array).slice().buffer)));
}

const pooledCalls = () => kernelThreadInfo(tf.findBackend('wasm') as unknown as WasmBackendLike).pooledCalls;

/**
 * `fn`'s outputs capped at 1 thread and at 2..THREADS threads are identical,
 * and the multi-threaded runs did go through the pool. Every run's outputs
 * stay alive until the end, so no run can find an earlier run's results in
 * a reused buffer.
 */
function expectSameBits(label: string, fn: () => tf.Tensor | tf.Tensor[]): void {
  const kept: tf.Tensor[] = [];
  const run = (threads: number) => {
    setKernelSplitForTesting({ minWork: 0, maxThreads: threads });
    const out = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    kept.push(...out);
    return bits(out);
  };
  try {
    const one = run(1);
    expect(one.flat().length, label).toBeGreaterThan(0);
    for (let t = 2; t <= THREADS; t++) {
      const before = pooledCalls();
      const many = run(t);
      expect(pooledCalls(), `${label}: no call was split over the pool`).toBeGreaterThan(before);
      many.forEach((b, i) => {
        const first = b.findIndex((v, j) => v !== one[i]![j]);
        expect(first, `${label}: output ${i} with ${t} threads differs from 1 thread at element ${first}`).toBe(-1);
      });
    }
  } finally {
    tf.dispose(kept);
  }
}

const grads = (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]) => [f(...xs), ...tf.grads(f)(xs)];

beforeAll(async () => {
  await useBackend('wasm', { threads: THREADS });
});

afterAll(async () => {
  setKernelSplitForTesting(undefined);
  await useBackend('cpu');
});

describe('selfsup kernels on threads', () => {
  it(`run with ${THREADS} threads on tfjs's threaded build`, () => {
    expect(backendInfo()).toMatchObject({ backend: 'wasm', threads: THREADS, kernelThreads: THREADS, threadsReason: null });
  });

  it('conv2d gradients (filter: row groups and first-layer column groups; input: images) are bit-identical', () => {
    const cases: { x: number[]; w: number[]; s: number; d: number; pad: 'same' | 'valid' }[] = [
      { x: [3, 13, 11, 8], w: [3, 3, 8, 12], s: 2, d: 1, pad: 'same' }, // co not a multiple of 8
      { x: [5, 9, 10, 5], w: [3, 2, 5, 16], s: 1, d: 2, pad: 'valid' }, // c not a multiple of 4, dilated
      { x: [4, 12, 12, 3], w: [5, 5, 3, 24], s: 2, d: 1, pad: 'same' }, // first layer (c <= 3)
    ];
    for (const c of cases) {
      const x = rand(c.x, 1) as tf.Tensor4D;
      const w = rand(c.w, 2) as tf.Tensor4D;
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d)));
      expectSameBits(`conv2d ${JSON.stringify(c)}`, () => tf.grads(f)([x, w]));
    }
  });

  it('depthwise gradients (filter: channel groups; input: images) are bit-identical', () => {
    for (const [c, q] of [[40, 1], [7, 2]] as [number, number][]) {
      const x = rand([5, 9, 8, c], 3) as tf.Tensor4D;
      const w = rand([3, 3, c, q], 4) as tf.Tensor4D;
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')));
      expectSameBits(`depthwise c=${c} q=${q}`, () => tf.grads(f)([x, w]));
    }
  });

  it('matrix products (units: product × column panel × row block) are bit-identical', () => {
    const a = rand([3, 70, 33], 5);
    const b = rand([3, 33, 19], 6);
    const bt = rand([1, 19, 33], 7);
    expectSameBits('batched', () => tf.matMul(a, b));
    expectSameBits('shared transposed b', () => tf.matMul(a, bt, false, true));
    expectSameBits('transposed a', () => tf.matMul(rand([2, 33, 130], 8), rand([2, 33, 9], 9), true, false));
    // k > 256: blocks of k summed separately and added (a weight gradient's xᵀ·dy, a read in place); shared b over 4 products.
    expectSameBits('long k, transposed a', () => tf.matMul(rand([600, 37], 30), rand([600, 21], 31), true, false));
    expectSameBits('long k, shared b', () => tf.matMul(rand([4, 30, 530], 32), rand([530, 27], 33)));
    // Small products (n <= 32, k <= 64: attention heads) and a tall one that splits its rows.
    expectSameBits('small products', () => tf.matMul(rand([2, 5, 17, 16], 34), rand([2, 5, 17, 16], 35), false, true));
    expectSameBits('small, tall', () => tf.matMul(rand([300, 12], 36), rand([12, 7], 37)));
  });

  it('forward convolution (Conv2D, FusedConv2D with bias and ReLU; units: output pixels) is bit-identical', () => {
    const x = rand([3, 11, 9, 12], 40) as tf.Tensor4D;
    const w = rand([3, 3, 12, 19], 41) as tf.Tensor4D;
    const bias = rand([19], 42) as tf.Tensor1D;
    expectSameBits('conv2d', () => tf.conv2d(x, w, 2, 'same'));
    expectSameBits('fused conv2d', () => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' }));
    // Its gradient: the bias + ReLU gradient in one pass (channels) and the convolution gradients.
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'relu6' })));
    expectSameBits('fused conv2d gradient', () => tf.grads(f)([x, w, bias]));
  });

  it('batch norm (statistics and gradient sums: channels; normalising and dx passes: rows) and GELU are bit-identical', () => {
    const x = rand([6, 7, 5, 37], 43); // 37 channels: a group of 16 with a SIMD tail
    const layer = tfl.layers.batchNormalization({});
    layer.apply(x, { training: true }); // builds the layer once: every run uses the same weights
    expectSameBits('batch norm training, value and gradient', () =>
      grads((a) => tf.sum(tf.square(layer.apply(a, { training: true }) as tf.Tensor)), [x]),
    );
    const [mean, variance] = [rand([37], 44), rand([37], 45, 0.5, 2)];
    expectSameBits('FusedBatchNorm', () => tf.batchNorm(x, mean, variance, rand([37], 46), rand([37], 47), 1e-3));
    const g = rand([9, 1031], 48); // not a multiple of the 1,024-element grain
    expectSameBits('GELU, value and gradient', () => grads((a) => tf.sum(tf.mul(gelu(a), a)), [g]));
  });

  it('optimizer updates (Adam, momentum, SGD; units: elements of each variable) are bit-identical', () => {
    const init = [rand([61, 33], 50), rand([5000], 51)];
    const gradient = [rand([61, 33], 52), rand([5000], 53)];
    for (const [name, make] of [
      ['adam', () => tf.train.adam(0.01)],
      ['momentum', () => tf.train.momentum(0.01, 0.9, true)],
      ['sgd', () => tf.train.sgd(0.01)],
    ] as [string, () => tf.Optimizer][]) {
      expectSameBits(name, () => {
        const optimizer = make();
        const vars = init.map((t, i) => tf.variable(t, true, `threads_${name}_${i}_${Math.random()}`));
        for (let step = 0; step < 2; step++) {
          optimizer.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, gradient[i]!])));
        }
        const out = vars.map((v) => v.clone());
        optimizer.dispose();
        tf.dispose(vars);
        return out;
      });
    }
  });

  it('sums over leading axes, ReLU and pooling gradients are bit-identical', () => {
    expectSameBits('sum narrow', () => tf.sum(rand([1000, 37], 10), 0));
    expectSameBits('mean wide', () => tf.mean(rand([300, 100], 11), 0));
    const x = rand([5, 11, 9, 6], 12) as tf.Tensor4D;
    expectSameBits('relu grad', () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(x));
    expectSameBits('max pool grad', () => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.maxPool(v as tf.Tensor4D, 3, 2, 'same'))))(x));
    expectSameBits('avg pool grad', () => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.avgPool(v as tf.Tensor4D, 2, 1, 'valid'))))(x));
  });

  it('fused contrastive losses (value and gradients) are bit-identical', () => {
    const z1 = rand([70, 20], 13);
    const z2 = rand([70, 20], 14);
    expectSameBits('NT-Xent', () => grads((a, b) => ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: 0.1 }), [z1, z2]));
    const q = rand([37, 24], 15);
    const k = rand([37, 24], 16);
    const queue = rand([101, 24], 17);
    expectSameBits('InfoNCE with a queue', () =>
      grads((a, b, c) => infoNCELoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, { temperature: 0.2 }), [q, k, queue]),
    );
    const images = rand([45, 20], 18);
    const texts = rand([45, 20], 19);
    const logScale = tf.scalar(Math.log(10));
    expectSameBits('CLIP', () => grads((a, b, s) => clipLoss(a as tf.Tensor2D, b as tf.Tensor2D, { logScale: s as tf.Scalar }), [images, texts, logScale]));
  });

  it('k-means (assignment, sums, inertia) is bit-identical', () => {
    const x = rand([301, 10], 20) as tf.Tensor2D;
    expectSameBits('kMeans', () => {
      const r = kMeans(x, { k: 13, iterations: 3, seed: 1 });
      return [r.centroids, r.assignments, tf.scalar(r.inertia)];
    });
  });

  it('augmentation kernels (planar layout, jitter, grayscale, blur, resampling) are bit-identical', () => {
    const x = rand([7, 33, 31, 3], 21, 0, 1) as tf.Tensor4D; // 7161 pixels: 7 grains of the planar kernels
    expectSameBits('planar round trip', () => {
      const p = toPlanar(x);
      return [p, fromPlanar(p)];
    });
    const params = sampleColorJitter(x.shape, 3, { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5, p: 0.8 });
    expectSameBits('color jitter', () => applyColorJitter(x, params));
    const pipeline = compose([new RandomResizedCrop({ size: [19, 20] }), new RandomGrayscale({ p: 0.5 }), new GaussianBlur({ kernelSize: 5, p: 1 })]);
    expectSameBits('crop, grayscale, blur', () => pipeline.run(x, { seed: 4 }).images);
  });
});
