/**
 * selfsup's augmentation kernels on wasm (src/kernels/c/augment.c: planar
 * layout changes, colour jitter, grayscale, Gaussian blur, bilinear
 * resampling, the pixel-range summary) against the tfjs compositions they
 * replace, run on the same images and parameters with the kernels hidden:
 * odd sizes that exercise the SIMD tails and the reflect borders, every
 * jitter order, neutral factors, hue shifts of ±0.5, partial batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { FUSED, hasFusedKernel } from '../../src/core/fused-kernels.js';
import { createRng } from '../../src/core/rng.js';
import {
  ColorJitter,
  colorJitter,
  compose,
  GaussianBlur,
  RandomGrayscale,
  RandomHorizontalFlip,
  RandomResizedCrop,
  sampleColorJitter,
  simclrAugment,
  twoViews,
  type ColorJitterParams,
  type Transform,
} from '../../src/augment/index.js';
import { fromPlanar, toPlanar } from '../../src/augment/planar.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

const AUGMENT_KERNELS = [FUSED.toPlanar, FUSED.fromPlanar, FUSED.colorJitter, FUSED.grayscale, FUSED.gaussianBlur, FUSED.resample, FUSED.minMax];

/** Runs `fn` with selfsup's augmentation kernels hidden from the wasm backend (the transforms fall back to tfjs ops). */
function composed<T>(fn: () => T): T {
  const saved = AUGMENT_KERNELS.map((name) => tf.getKernel(name, 'wasm')).filter((k): k is tf.KernelConfig => k !== undefined);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    return fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

function images(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(createRng(seed).uniformArray(n, 0, 1), shape);
}

/** A transform's output with the kernels and with the compositions agree to `atol`. */
function expectSameOutput(label: string, t: Transform, x: tf.Tensor4D, seed: number, atol: number): void {
  const output = () => {
    const { images: out } = t.run(x, { seed });
    const values = Array.from(out.dataSync());
    out.dispose();
    return values;
  };
  const fused = output();
  const plain = composed(output);
  expectClose(fused, plain, { rtol: 0, atol, label });
}

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await useBackend('cpu');
});

describe('augmentation kernels (wasm)', () => {
  it('are registered and hidden by the test helper', () => {
    for (const name of AUGMENT_KERNELS) expect(hasFusedKernel(name), name).toBe(true);
    composed(() => {
      for (const name of AUGMENT_KERNELS) expect(hasFusedKernel(name), name).toBe(false);
    });
  });

  it('change layout exactly (3 channels vectorised, others not; odd pixel counts)', () => {
    for (const shape of [[2, 3, 5, 3], [1, 1, 1, 3], [3, 4, 7, 1], [2, 5, 3, 4]] as [number, number, number, number][]) {
      const x = images(shape, shape[2]);
      const planar = toPlanar(x);
      const reference = composed(() => toPlanar(x));
      expect(Array.from(planar.dataSync())).toEqual(Array.from(reference.dataSync()));
      const back = fromPlanar(planar);
      expect(Array.from(back.dataSync())).toEqual(Array.from(x.dataSync()));
      tf.dispose([x, planar, reference, back]);
    }
  });

  it('colour jitter matches the composition in every order, with neutral factors and extreme hue shifts', () => {
    const x = images([24, 5, 7, 3], 1); // 35 pixels: a SIMD tail in every plane
    const base = sampleColorJitter(x.shape, 2, { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5, p: 0.8 });
    const rng = createRng(3);
    const params: ColorJitterParams = {
      ...base,
      // Every sample its own order, some neutral factors, hue at the ±0.5 ends.
      order: Uint8Array.from({ length: 4 * 24 }, (_, i) => rng.permutation(4)[i % 4]!),
      brightness: base.brightness.map((v, i) => (i % 5 === 0 ? 1 : v)),
      contrast: base.contrast.map((v, i) => (i % 6 === 1 ? 1 : v)),
      hue: base.hue.map((v, i) => (i === 2 ? 0.5 : i === 3 ? -0.5 : i % 7 === 4 ? 0 : v)),
    };
    for (let i = 0; i < 24; i++) params.order.set(rng.permutation(4), 4 * i);
    const jitter = new ColorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5, p: 0.8 });
    const fused = tf.tidy(() => Array.from(jitter.apply(x, params).dataSync()));
    const plain = composed(() => tf.tidy(() => Array.from(jitter.apply(x, params).dataSync())));
    expectClose(fused, plain, { rtol: 0, atol: 2e-6, label: 'applyColorJitter' });
    expectSameOutput('ColorJitter in compose', compose([new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 })]), x, 4, 2e-6);
    // Saturated colours, grays and black / white pixels through the hue rotation.
    const edge = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0.2, 0.9, 0.9], [1, 2, 4, 3]);
    for (const hue of [0.5, -0.5, 0.25, 1 / 6]) {
      const a = colorJitter(edge, { hue: [hue, hue], seed: 0 });
      const b = composed(() => colorJitter(edge, { hue: [hue, hue], seed: 0 }));
      expectClose(a, b, { rtol: 0, atol: 1e-6, label: `hue ${hue}` });
      tf.dispose([a, b]);
    }
    tf.dispose([x, edge]);
  });

  it('grayscale, blur and crop-and-flip resampling match the composition', () => {
    const x = images([9, 11, 13, 3], 5);
    expectSameOutput('RandomGrayscale', compose([new RandomGrayscale({ p: 0.5 })]), x, 6, 1e-7);
    for (const kernelSize of [3, 5, 9]) {
      expectSameOutput(`GaussianBlur k=${kernelSize}`, compose([new GaussianBlur({ kernelSize, sigma: [0.1, 2], p: 0.6 })]), x, 7, 2e-6);
    }
    const crop = (size: number) => compose([new RandomResizedCrop({ size, scale: [0.08, 1] }), new RandomHorizontalFlip()]);
    for (const size of [5, 11, 17]) expectSameOutput(`crop + flip to ${size}`, crop(size), x, size, 2e-6);
    tf.dispose(x);
  });

  it('the SimCLR pipeline gives the composition\'s views, without leaks', () => {
    const x = images([6, 33, 35, 3], 8); // above 32 px: blur on
    const pipeline = simclrAugment({ size: 29 });
    const fused = expectNoLeak(() => twoViews(x, pipeline, { seed: 9 }));
    const plain = composed(() => twoViews(x, pipeline, { seed: 9 }));
    fused.forEach((v, i) => expectClose(v, plain[i]!, { rtol: 0, atol: 5e-6, label: `view ${i}` }));
    tf.dispose([x, ...fused, ...plain]);
  });

  it('the pixel-range check still rejects out-of-range, NaN and infinite pixels with the same messages', () => {
    const bad = tf.tensor4d([0, 0.5, 2, 0.1, 0.2, 0.3], [1, 1, 2, 3]);
    const nan = tf.tensor4d([0, NaN, 0.5, 0.1, 0.2, 0.3], [1, 1, 2, 3]);
    const inf = tf.tensor4d([0, Infinity, 0.5, 0.1, 0.2, 0.3], [1, 1, 2, 3]);
    for (const t of [bad, nan, inf]) {
      let fusedMessage = '';
      let plainMessage = '';
      try {
        colorJitter(t, { brightness: 0.4, seed: 0 });
      } catch (e) {
        fusedMessage = (e as Error).message;
      }
      composed(() => {
        try {
          colorJitter(t, { brightness: 0.4, seed: 0 });
        } catch (e) {
          plainMessage = (e as Error).message;
        }
      });
      expect(fusedMessage).toContain('colorJitter: images must have pixel values in [0, 1]');
      expect(fusedMessage).toBe(plainMessage);
    }
    tf.dispose([bad, nan, inf]);
  });
});
