import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import {
  applyErasing,
  applyGaussianBlur,
  applyGaussianNoise,
  applyPosterize,
  applyRotate90,
  applySolarize,
  cutout,
  denormalize,
  gaussianBlur,
  GaussianBlur,
  gaussianNoise,
  normalize,
  randomErasing,
  randomRotate90,
  randomSolarize,
  rotate90,
  sampleCutout,
  sampleGaussianBlur,
  sampleRandomErasing,
  sampleRotate90,
  type ErasingParams,
} from '../../src/augment/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { flat } from './fixture-utils.js';

beforeAll(async () => {
  await useBackend('cpu');
});

type Nested = number[][][][];
interface Fixture {
  images: Nested;
  blur: { kernelSize: number; sigma: [number, number]; output: Nested }[];
  solarize: { threshold: number; output: Nested };
  posterize: { bits: number; output: Nested }[];
  rot90: { k: number; output: Nested }[];
}
const fx = loadFixture<Fixture>('augment');
const images = () => tf.tensor4d(fx.images) as tf.Tensor4D;
const all = (b: number) => new Uint8Array(b).fill(1);

describeBackends('blur, solarize, posterize, rot90 vs torchvision', () => {
  it('gaussian_blur at fixed sigma per sample (kernel sizes 3, 5, 7; reflect padding)', () => {
    const x = images();
    for (const c of fx.blur) {
      const y = expectNoLeak(() => applyGaussianBlur(x, { batchSize: 2, applied: all(2), sigma: Float32Array.from(c.sigma), kernelSize: c.kernelSize }));
      expectClose(y, flat(c.output), { atol: 2e-6, rtol: 0, label: `blur k=${c.kernelSize}` });
      y.dispose();
    }
    x.dispose();
  });

  it('blurs only the selected samples and derives the kernel size from the image', () => {
    const x = images();
    const y = applyGaussianBlur(x, { batchSize: 2, applied: Uint8Array.of(0, 1), sigma: Float32Array.of(1, 1), kernelSize: 5 });
    expectClose(tf.slice(y, [0], [1]), tf.slice(x, [0], [1]), { atol: 0, rtol: 0 });
    const ref = flat(fx.blur[1]!.output).slice(8 * 8 * 3);
    const blurred = applyGaussianBlur(x, { batchSize: 2, applied: Uint8Array.of(0, 1), sigma: Float32Array.of(1, 2), kernelSize: 5 });
    expectClose(tf.slice(blurred, [1], [1]), ref, { atol: 2e-6, rtol: 0 });
    // 10 % of 8 px → kernel 3.
    const auto = applyGaussianBlur(x, { batchSize: 2, applied: all(2), sigma: Float32Array.of(0.5, 1), kernelSize: null });
    expectClose(auto, flat(fx.blur[0]!.output), { atol: 2e-6, rtol: 0 });
    tf.dispose([x, y, blurred, auto]);
  });

  it('solarize, posterize and rot90 match torchvision', () => {
    const x = images();
    const s = expectNoLeak(() => applySolarize(x, { batchSize: 2, applied: all(2), threshold: 0.5 }));
    expectClose(s, flat(fx.solarize.output), { atol: 1e-6, rtol: 0 });
    for (const c of fx.posterize) {
      const p = applyPosterize(x, { batchSize: 2, applied: all(2), bits: c.bits });
      expectClose(p, flat(c.output), { atol: 1e-6, rtol: 0, label: `posterize ${c.bits}` });
      p.dispose();
    }
    for (const c of fx.rot90) {
      const r = expectNoLeak(() => rotate90(x, c.k));
      expectClose(r, flat(c.output), { atol: 1e-7, rtol: 0, label: `rot90 k=${c.k}` });
      r.dispose();
    }
    // Per-sample k.
    const mixed = applyRotate90(x, { batchSize: 2, k: Uint8Array.of(3, 1) });
    expectClose(tf.slice(mixed, [0], [1]), flat(fx.rot90[2]!.output).slice(0, 192), { atol: 1e-7, rtol: 0 });
    expectClose(tf.slice(mixed, [1], [1]), flat(fx.rot90[0]!.output).slice(192), { atol: 1e-7, rtol: 0 });
    tf.dispose([x, s, mixed]);
  });

  it('neutral parameters are the identity', () => {
    const x = images();
    const outs = [
      applyGaussianBlur(x, { batchSize: 2, applied: new Uint8Array(2), sigma: Float32Array.of(1, 1), kernelSize: 3 }),
      applySolarize(x, { batchSize: 2, applied: new Uint8Array(2), threshold: 0.5 }),
      applySolarize(x, { batchSize: 2, applied: all(2), threshold: 1 }),
      applyPosterize(x, { batchSize: 2, applied: new Uint8Array(2), bits: 2 }),
      rotate90(x, 4),
      applyGaussianNoise(x, { batchSize: 2, applied: new Uint8Array(2), std: Float32Array.of(1, 1), noiseSeed: Uint32Array.of(1, 2), mean: 0, clip: true }),
      cutout(x, { p: 0, seed: 0 }),
    ];
    // threshold 1 still inverts exact 1.0 pixels: exclude them by comparing against the data.
    outs.forEach((y, i) => {
      if (i === 2) return;
      expectClose(y, x, { atol: 0, rtol: 0, label: `op ${i}` });
    });
    tf.dispose([x, ...outs]);
  });

  it('random erasing and cutout fill the sampled boxes only', () => {
    const x = tf.ones([3, 16, 16, 2]) as tf.Tensor4D;
    const params: ErasingParams = sampleRandomErasing(x.shape, 4, { p: 1, value: [0.25, 0.5] });
    const y = expectNoLeak(() => applyErasing(x, params));
    const data = y.arraySync();
    for (let b = 0; b < 3; b++) {
      const [t, l, h, w] = [params.top[b]!, params.left[b]!, params.height[b]!, params.width[b]!];
      expect(h * w).toBeGreaterThan(0);
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 16; j++) {
          const inside = i >= t && i < t + h && j >= l && j < l + w;
          expect(data[b]![i]![j]).toEqual(inside ? [0.25, 0.5] : [1, 1]);
        }
      }
    }
    const cut = sampleCutout([2, 16, 16, 2], 1, { size: 6, count: 3 });
    const c = applyErasing(tf.slice(x, [0], [2]), cut);
    const holes = 2 * 16 * 16 * 2 - tf.sum(c).dataSync()[0]!;
    expect(holes).toBeGreaterThan(0);
    expect(holes).toBeLessThanOrEqual(2 * 3 * 36 * 2);
    const random = randomErasing(tf.fill([2, 8, 8, 1], 0.5), { p: 1, value: 'random', seed: 2, returnParams: true });
    const again = applyErasing(tf.fill([2, 8, 8, 1], 0.5) as tf.Tensor4D, random.params);
    expectClose(again, random.images, { atol: 0, rtol: 0 });
    tf.dispose([x, y, c, random.images, again]);
  });

  it('gaussian noise: replayable, statistics, clipping', () => {
    const x = tf.fill([4, 16, 16, 3], 0.5) as tf.Tensor4D;
    const { images: y, params } = gaussianNoise(x, { std: 0.1, seed: 3, returnParams: true });
    const again = applyGaussianNoise(x, params);
    expectClose(again, y, { atol: 0, rtol: 0 });
    const d = tf.tidy(() => tf.sub(y, x));
    const { mean, variance } = tf.moments(d);
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(variance.dataSync()[0]!) - 0.1)).toBeLessThan(0.01);
    const big = gaussianNoise(x, { std: 2, seed: 0 });
    expect(tf.min(big).dataSync()[0]).toBe(0);
    expect(tf.max(big).dataSync()[0]).toBe(1);
    tf.dispose([x, y, again, d, mean, variance, big]);
  });

  it('normalize and denormalize are inverse', () => {
    const x = images();
    const n = expectNoLeak(() => normalize(x));
    const ref = tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d([0.485, 0.456, 0.406])), tf.tensor1d([0.229, 0.224, 0.225])));
    expectClose(n, ref, { atol: 1e-5, rtol: 1e-5 });
    const back = denormalize(n);
    expectClose(back, x, { atol: 1e-6, rtol: 0 });
    const gray = normalize(tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D, { mean: [0.5], std: [0.5] });
    expectClose(gray, [0, 0, 0, 0], { atol: 1e-7 });
    expect(() => normalize(x, { std: [1, 0, 1] })).toThrow('normalize: options.std must be 1 or 3 finite numbers > 0 (one per channel), got [1, 0, 1]');
    tf.dispose([x, n, ref, back, gray]);
  });

  it('replays seeded randomness exactly', () => {
    const x = images();
    const blur = gaussianBlur(x, { seed: 1, returnParams: true, kernelSize: 5, p: 0.5 });
    expectClose(new GaussianBlur().apply(x, blur.params), blur.images, { atol: 0, rtol: 0 });
    const rot = randomRotate90(x, { seed: 9, returnParams: true });
    expectClose(applyRotate90(x, rot.params), rot.images, { atol: 0, rtol: 0 });
    const sol = randomSolarize(x, { seed: 9, returnParams: true });
    expectClose(applySolarize(x, sol.params), sol.images, { atol: 0, rtol: 0 });
    tf.dispose([x, blur.images, rot.images, sol.images]);
  });

  it('rejects bad input', () => {
    const x = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
    expect(() => gaussianBlur(x, { kernelSize: 4 })).toThrow('gaussianBlur: options.kernelSize must be an odd integer ≥ 1, got 4');
    expect(() => applyGaussianBlur(x, { batchSize: 2, applied: all(2), sigma: Float32Array.of(1, 1), kernelSize: 17 })).toThrow(
      'applyGaussianBlur: images must be larger than half the blur kernel (reflect padding of 8 pixels needs H and W > 8), got [2, 8, 8, 3]',
    );
    expect(() => cutout(x, { size: 9 })).toThrow('cutout: options.size must be at most the image side (8 for images [2, 8, 8, 3]), got 9');
    expect(() => randomSolarize(tf.fill([1, 2, 2, 3], -0.5))).toThrow('randomSolarize: images must have pixel values in [0, 1], got values in [-0.5, -0.5]');
    expect(() => rotate90(tf.ones([2, 4, 6, 1]) as tf.Tensor4D, [0, 1])).toThrow('rotate90: images must be square when samples are rotated by both even and odd quarter turns');
    expect(() => randomErasing(x, { scale: [0.1, 2] })).toThrow('randomErasing: options.scale must be a [min, max] pair with min ≤ max within [0, 1], got [0.1, 2]');
    x.dispose();
  });
});

it('samplers: blur sigma range, erasing scale/ratio, rotation uniform', () => {
  const blur = sampleGaussianBlur([5000, 8, 8, 3], 1, { sigma: [0.1, 2], p: 0.5 });
  const applied = blur.applied.reduce((a, b) => a + b, 0);
  expect(Math.abs(applied - 2500)).toBeLessThan(200);
  expect(Math.min(...blur.sigma)).toBeGreaterThanOrEqual(0.1 - 1e-6);
  expect(Math.max(...blur.sigma)).toBeLessThanOrEqual(2 + 1e-6);
  const er = sampleRandomErasing([4000, 32, 32, 3], 2, { p: 1 });
  let bad = 0;
  for (let i = 0; i < 4000; i++) {
    const area = (er.height[i]! * er.width[i]!) / 1024;
    if (er.height[i]! === 0) continue;
    if (area < 0.015 || area > 0.36 || er.height[i]! >= 32 || er.width[i]! >= 32) bad++;
  }
  expect(bad).toBe(0);
  const rot = sampleRotate90([4000, 4, 4, 3], 5);
  const counts = [0, 0, 0, 0];
  rot.k.forEach((k) => counts[k]!++);
  for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
});

it('pixel ops agree on cpu and wasm', async () => {
  const out = await onEachBackend(() =>
    tf.tidy(() => {
      const x = images();
      return [
        applyGaussianBlur(x, { batchSize: 2, applied: all(2), sigma: Float32Array.of(0.7, 1.9), kernelSize: 5 }),
        applyRotate90(x, { batchSize: 2, k: Uint8Array.of(1, 2) }),
        applyErasing(x, sampleRandomErasing(x.shape, 3, { p: 1, value: 'random' })),
        applyGaussianNoise(x, { batchSize: 2, applied: all(2), std: Float32Array.of(0.1, 0.3), noiseSeed: Uint32Array.of(5, 6), mean: 0, clip: true }),
      ].map((t) => Array.from(t.dataSync()));
    }),
  );
  out.cpu.forEach((c, k) => expectClose(out.wasm[k]!, c, { atol: 1e-6, rtol: 0, label: `op ${k}` }));
});
