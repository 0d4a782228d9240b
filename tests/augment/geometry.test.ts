import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import {
  applyHorizontalFlip,
  applyResizedCrop,
  applyVerticalFlip,
  RandomHorizontalFlip,
  RandomResizedCrop,
  randomHorizontalFlip,
  randomResizedCrop,
  randomVerticalFlip,
  sampleFlip,
  sampleResizedCrop,
  type ResizedCropParams,
} from '../../src/augment/index.js';
import { createRng } from '../../src/core/rng.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { flat } from './fixture-utils.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

beforeAll(async () => {
  await useBackend('cpu');
});

type Nested = number[][][][];
interface CropCase { top: number[]; left: number[]; height: number[]; width: number[]; size: [number, number]; output: Nested }
const fx = loadFixture<{ images: Nested; resized_crop: CropCase[] }>('augment');

function cropParams(c: CropCase): ResizedCropParams {
  return {
    batchSize: 2,
    inputSize: [8, 8],
    outputSize: c.size,
    top: Int32Array.from(c.top),
    left: Int32Array.from(c.left),
    height: Int32Array.from(c.height),
    width: Int32Array.from(c.width),
  };
}

describeBackends('resized crop', () => {
  it('matches torchvision resized_crop (bilinear, antialias=False) at fixed boxes', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    for (const c of fx.resized_crop) {
      const y = expectNoLeak(() => applyResizedCrop(x, cropParams(c)));
      expect(y.shape).toEqual([2, c.size[0], c.size[1], 3]);
      expectClose(y, flat(c.output), { atol: 1e-5, rtol: 0, label: `boxes ${JSON.stringify(c.top)} ${JSON.stringify(c.size)}` });
      y.dispose();
    }
    x.dispose();
  });

  it('is the identity for the full box at the input size, and exact for unscaled boxes', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const full = { batchSize: 2, inputSize: [8, 8], outputSize: [8, 8], top: new Int32Array(2), left: new Int32Array(2), height: Int32Array.of(8, 8), width: Int32Array.of(8, 8) } as ResizedCropParams;
    const y = applyResizedCrop(x, full);
    expectClose(y, x, { atol: 0, rtol: 0 });
    const box = { ...full, outputSize: [3, 4], top: Int32Array.of(1, 5), left: Int32Array.of(2, 0), height: Int32Array.of(3, 3), width: Int32Array.of(4, 4) } as ResizedCropParams;
    const z = applyResizedCrop(x, box);
    const ref = tf.concat([tf.slice(x, [0, 1, 2, 0], [1, 3, 4, 3]), tf.slice(x, [1, 5, 0, 0], [1, 3, 4, 3])]);
    expectClose(z, ref, { atol: 0, rtol: 0 });
    tf.dispose([x, y, z, ref]);
  });

  it('replays exactly, is seeded and keeps sameOnBatch boxes equal', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const { images, params } = randomResizedCrop(x, { size: 6, seed: 5, returnParams: true });
    const again = new RandomResizedCrop({ size: 6 }).apply(x, params);
    expectClose(again, images, { atol: 0, rtol: 0 });
    const seeded = randomResizedCrop(x, { size: 6, seed: 5 });
    expectClose(seeded, images, { atol: 0, rtol: 0 });
    const same = sampleResizedCrop([5, 32, 32, 3], 1, { sameOnBatch: true });
    expect(new Set(same.top).size + new Set(same.height).size + new Set(same.width).size).toBe(3);
    tf.dispose([x, images, again, seeded]);
  });

  it('rejects bad input', () => {
    const x = tf.ones([2, 8, 8, 3]);
    expect(() => randomResizedCrop(tf.ones([8, 8, 3]))).toThrow('randomResizedCrop: images must be a rank-4 tensor [B, H, W, C] (NHWC), got rank 3');
    expect(() => randomResizedCrop(x, { scale: [0.5, 0.2] })).toThrow('randomResizedCrop: options.scale must be a [min, max] pair with min ≤ max within [0, 1], got [0.5, 0.2]');
    expect(() => randomResizedCrop(x, { size: 0 })).toThrow('randomResizedCrop: options.size must be an integer ≥ 1, got 0');
    const bad = cropParams(fx.resized_crop[0]!);
    bad.top[0] = 6;
    expect(() => applyResizedCrop(x as tf.Tensor4D, bad)).toThrow('applyResizedCrop: params must hold boxes inside the 8×8 images (shape [2, 8, 8, 3]), got box 0 = top 6, left 2, height 5, width 4');
    x.dispose();
  });
});

it('crop sampling follows torchvision: scale and ratio ranges, 10 attempts, centre fallback', () => {
  const n = 20000;
  const p = sampleResizedCrop([n, 64, 48, 3], createRng(2), { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
  let fallbacks = 0;
  let outside = 0;
  let badRatio = 0;
  const areas: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = p.height[i]!;
    const w = p.width[i]!;
    if (p.top[i]! + h > 64 || p.left[i]! + w > 48 || p.top[i]! < 0 || p.left[i]! < 0) outside++;
    if (h === 64 && w === 48 && p.top[i] === 0) {
      fallbacks++;
      continue;
    }
    areas.push((h * w) / (64 * 48));
    // Rounding of the sides widens the range a little.
    if (!(w / h > (3 / 4) * 0.8 && w / h < (4 / 3) * 1.25)) badRatio++;
  }
  expect(outside).toBe(0);
  expect(badRatio).toBe(0);
  const lo = Math.min(...areas);
  expect(lo).toBeLessThan(0.09);
  expect(lo).toBeGreaterThan(0.06);
  // Accepted crops: area uniform in [0.08, 1] conditioned on fitting, so the mean sits below 0.54.
  const mean = areas.reduce((a, b) => a + b, 0) / areas.length;
  expect(mean).toBeGreaterThan(0.4);
  expect(mean).toBeLessThan(0.54);
  expect(fallbacks).toBeLessThan(n * 0.01);
  // A ratio range the image cannot satisfy always falls back to the clamped central crop.
  const f = sampleResizedCrop([50, 10, 40, 3], 3, { scale: [0.9, 1], ratio: [0.5, 1] });
  for (let i = 0; i < 50; i++) {
    expect([f.top[i], f.left[i], f.height[i], f.width[i]]).toEqual([0, 15, 10, 10]);
  }
  // Python's round(): 2.5 → 2; checks the half-even rule via a box of target side 2.5.
  const tiny = sampleResizedCrop([200, 5, 5, 3], 4, { scale: [0.25, 0.25], ratio: [1, 1] });
  expect(new Set(tiny.height)).toEqual(new Set([2]));
});

describeBackends('flips', () => {
  it('flip exactly the selected samples', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const params = { batchSize: 2, applied: Uint8Array.of(0, 1) };
    const h = expectNoLeak(() => applyHorizontalFlip(x, params));
    const v = expectNoLeak(() => applyVerticalFlip(x, params));
    const [x0, x1] = tf.unstack(x);
    expectClose(tf.slice(h, [0], [1]), tf.expandDims(x0!, 0), { atol: 0, rtol: 0 });
    expectClose(tf.slice(h, [1], [1]), tf.expandDims(tf.reverse(x1!, 1), 0), { atol: 0, rtol: 0 });
    expectClose(tf.slice(v, [0], [1]), tf.expandDims(x0!, 0), { atol: 0, rtol: 0 });
    expectClose(tf.slice(v, [1], [1]), tf.expandDims(tf.reverse(x1!, 0), 0), { atol: 0, rtol: 0 });
    tf.dispose([x, h, v, x0!, x1!]);
  });

  it('replays and samples p', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const { images, params } = randomVerticalFlip(x, { seed: 2, returnParams: true, p: 0.5 });
    const again = applyVerticalFlip(x, params);
    expectClose(again, images, { atol: 0, rtol: 0 });
    const none = randomHorizontalFlip(x, { p: 0, seed: 1 });
    expectClose(none, x, { atol: 0, rtol: 0 });
    tf.dispose([x, images, again, none]);
    expect(() => new RandomHorizontalFlip({ p: -0.1 })).toThrow('RandomHorizontalFlip: options.p must be a number in [0, 1], got -0.1');
  });
});

it('flip probability and sameOnBatch', () => {
  const n = 20000;
  const p = sampleFlip([n, 1, 1, 1], 7, { p: 0.3 });
  const count = p.applied.reduce((a, b) => a + b, 0);
  expect(Math.abs(count - 0.3 * n)).toBeLessThan(5 * Math.sqrt(n * 0.3 * 0.7));
  const same = sampleFlip([64, 1, 1, 1], 7, { sameOnBatch: true });
  expect(new Set(same.applied).size).toBe(1);
});

it('geometric ops agree exactly on cpu and wasm', async () => {
  const params = sampleResizedCrop([2, 8, 8, 3], 3, { size: [7, 5] });
  const out = await onEachBackend(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(fx.images) as tf.Tensor4D;
      return [applyResizedCrop(x, params), applyHorizontalFlip(x, { batchSize: 2, applied: Uint8Array.of(1, 0) })].map((t) => Array.from(t.dataSync()));
    }),
  );
  expectClose(out.wasm[0]!, out.cpu[0]!, { atol: 2e-6, rtol: 0 });
  expectClose(out.wasm[1]!, out.cpu[1]!, { atol: 0, rtol: 0 });
});
