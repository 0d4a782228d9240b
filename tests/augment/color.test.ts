import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyColorJitter,
  ColorJitter,
  colorJitter,
  hsvToRgb,
  labToRgb,
  rgbToGrayscale,
  rgbToHsv,
  rgbToLab,
  sampleColorJitter,
  type ColorJitterParams,
} from '../../src/augment/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { flat } from './fixture-utils.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

type Nested = number[][][][];
interface AugmentFixture {
  images: Nested;
  brightness: { factor: number; output: Nested }[];
  contrast: { factor: number; output: Nested }[];
  saturation: { factor: number; output: Nested }[];
  hue: { factor: number; output: Nested }[];
  grayscale: Nested;
  hsv: Nested;
  hsv_skimage: Nested;
  hsv_to_rgb: { input: Nested; output: Nested };
  lab: Nested;
  lab_to_rgb: { input: Nested; output: Nested; roundtrip: Nested };
}

const fx = loadFixture<AugmentFixture>('augment');
const t4 = (v: Nested) => tf.tensor4d(v) as tf.Tensor4D;

describeBackends('colour adjustments vs torchvision', () => {
  it('adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue at fixed factors', () => {
    const x = t4(fx.images);
    const cases = [
      ['brightness', adjustBrightness, fx.brightness],
      ['contrast', adjustContrast, fx.contrast],
      ['saturation', adjustSaturation, fx.saturation],
      ['hue', adjustHue, fx.hue],
    ] as const;
    for (const [name, fn, refs] of cases) {
      for (const ref of refs) {
        const y = expectNoLeak(() => fn(x, ref.factor));
        expectClose(y, flat(ref.output), { atol: 2e-6, rtol: 0, label: `${name} ${ref.factor}` });
        y.dispose();
      }
    }
    x.dispose();
  });

  it('takes per-sample factors', () => {
    const x = t4(fx.images);
    const y = adjustHue(x, [fx.hue[0]!.factor, fx.hue[2]!.factor]);
    const [a, b] = tf.unstack(y);
    expectClose(a!, flat(fx.hue[0]!.output[0]!), { atol: 2e-6 });
    expectClose(b!, flat(fx.hue[2]!.output[1]!), { atol: 2e-6 });
    tf.dispose([x, y, a!, b!]);
  });

  it('rgb_to_grayscale, HSV (torchvision and scikit-image) and Lab (scikit-image)', () => {
    const x = t4(fx.images);
    const gray = expectNoLeak(() => rgbToGrayscale(x));
    expectClose(gray, flat(fx.grayscale), { atol: 1e-6, rtol: 0, label: 'grayscale' });
    const gray3 = rgbToGrayscale(x, { outputChannels: 3 });
    expect(gray3.shape).toEqual([2, 8, 8, 3]);
    const hsv = expectNoLeak(() => rgbToHsv(x));
    expectClose(hsv, flat(fx.hsv), { atol: 2e-6, rtol: 0, label: 'hsv (torchvision)' });
    expectClose(hsv, flat(fx.hsv_skimage), { atol: 2e-6, rtol: 0, label: 'hsv (scikit-image)' });
    const back = hsvToRgb(hsv);
    expectClose(back, flat(fx.images), { atol: 3e-6, rtol: 0, label: 'hsv round trip' });
    const hsvIn = t4(fx.hsv_to_rgb.input);
    const rgb = expectNoLeak(() => hsvToRgb(hsvIn));
    expectClose(rgb, flat(fx.hsv_to_rgb.output), { atol: 2e-6, rtol: 0, label: 'hsv_to_rgb' });
    const lab = expectNoLeak(() => rgbToLab(x));
    expectClose(lab, flat(fx.lab), { atol: 1e-3, rtol: 0, label: 'rgb2lab' });
    const labIn = t4(fx.lab_to_rgb.input);
    const labRgb = expectNoLeak(() => labToRgb(labIn));
    expectClose(labRgb, flat(fx.lab_to_rgb.output), { atol: 1e-3, rtol: 0, label: 'lab2rgb' });
    const round = labToRgb(lab);
    expectClose(round, flat(fx.lab_to_rgb.roundtrip), { atol: 1e-3, rtol: 0, label: 'lab round trip' });
    tf.dispose([x, gray, gray3, hsv, back, hsvIn, rgb, lab, labIn, labRgb, round]);
  });

  it('is the identity at neutral factors', () => {
    const x = t4(fx.images);
    for (const [fn, f] of [[adjustBrightness, 1], [adjustContrast, 1], [adjustSaturation, 1]] as const) {
      const y = fn(x, f);
      expectClose(y, x, { atol: 0, rtol: 0 });
      y.dispose();
    }
    const h = adjustHue(x, 0);
    expectClose(h, x, { atol: 2e-6, rtol: 0 });
    tf.dispose([x, h]);
  });

  it('rejects bad input with clear messages', () => {
    const x = tf.ones([1, 2, 2, 3]);
    expect(() => adjustBrightness(tf.ones([2, 2, 3]), 1)).toThrow('adjustBrightness: images must be a rank-4 tensor [B, H, W, C] (NHWC), got rank 3 with shape [2, 2, 3]');
    expect(() => adjustSaturation(tf.ones([1, 2, 2, 4]), 1)).toThrow('adjustSaturation: images must have 3 channels (last axis of NHWC), got 4 in shape [1, 2, 2, 4]');
    expect(() => adjustHue(x, 0.7)).toThrow('adjustHue: factor must be a number in [-0.5, 0.5], got 0.7');
    // Found by the fuzz test: an infinite factor gave ∞·0 = NaN pixels; an empty batch, a raw tfjs error.
    expect(() => adjustBrightness(x, Infinity)).toThrow('adjustBrightness: factor must be a finite number ≥ 0, got Infinity');
    expect(() => adjustContrast(x, [NaN])).toThrow('adjustContrast: factor[0] must be a finite number ≥ 0, got NaN');
    expect(() => adjustBrightness(tf.zeros([0, 2, 2, 3]), 1)).toThrow('adjustBrightness: images must have B, H, W and C ≥ 1');
    expect(() => adjustBrightness(x, 1, { inputRange: 2 as 1 })).toThrow('adjustBrightness: options.inputRange must be');
    expect(() => adjustContrast(x, [1, 2])).toThrow('adjustContrast: factor must be a number or 1 per-sample numbers, got [1, 2]');
    expect(() => rgbToLab(tf.fill([1, 1, 1, 3], 1.5))).toThrow('rgbToLab: images must have pixel values in [0, 1], got values in [1.5, 1.5]');
    expect(() => rgbToHsv(tf.ones([1, 1, 1, 3], 'int32') as tf.Tensor4D)).toThrow(
      'rgbToHsv: images must have dtype float32 with values in [0, 1] (pass inputRange: 255 for [0, 255] integer images), got int32',
    );
    x.dispose();
  });

  it('accepts [0, 255] integer images with inputRange: 255', () => {
    const x = tf.tensor4d([0, 51, 255], [1, 1, 1, 3], 'int32');
    const y = adjustBrightness(x, 1, { inputRange: 255 });
    expectClose(y, [0, 0.2, 1], { atol: 1e-7 });
    expect(() => adjustBrightness(tf.tensor4d([0, 300, 0], [1, 1, 1, 3], 'int32'), 1, { inputRange: 255 })).toThrow(
      'adjustBrightness: images must have pixel values in [0, 255], got values in [0, 300]',
    );
    tf.dispose([x, y]);
  });
});

/** Runs the four adjustments one after the other in `order`, the torchvision way. */
function sequentialJitter(x: tf.Tensor4D, p: ColorJitterParams, i: number): tf.Tensor4D {
  const one = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
  let y: tf.Tensor4D = one;
  for (let s = 0; s < 4; s++) {
    const op = p.order[4 * i + s];
    const prev = y;
    if (op === 0) y = adjustBrightness(prev, p.brightness[i]!);
    else if (op === 1) y = adjustContrast(prev, p.contrast[i]!);
    else if (op === 2) y = adjustSaturation(prev, p.saturation[i]!);
    else y = adjustHue(prev, p.hue[i]!);
    prev.dispose();
  }
  return y;
}

describeBackends('colorJitter', () => {
  const options = { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 };

  it('equals the four adjustments applied one by one in each sample order', () => {
    const x = tf.tidy(() => tf.concat([t4(fx.images), tf.reverse(t4(fx.images), 1), tf.reverse(t4(fx.images), 2)]) as tf.Tensor4D);
    const params = sampleColorJitter(x.shape, 11, options);
    const y = expectNoLeak(() => applyColorJitter(x, params));
    for (let i = 0; i < 6; i++) {
      const ref = sequentialJitter(x, params, i);
      const got = tf.slice(y, [i, 0, 0, 0], [1, -1, -1, -1]);
      expectClose(got, ref, { atol: 3e-6, rtol: 0, label: `sample ${i} order ${params.order.slice(4 * i, 4 * i + 4).join('')}` });
      tf.dispose([ref, got]);
    }
    tf.dispose([x, y]);
  });

  it('jitters grayscale images as torchvision does: brightness and contrast in order, saturation and hue as identities', () => {
    const x = tf.tidy(() => tf.mean(t4(fx.images), 3, true) as tf.Tensor4D);
    const params = sampleColorJitter(x.shape, 5, options);
    const y = expectNoLeak(() => applyColorJitter(x, params));
    expect(y.shape).toEqual(x.shape);
    for (let i = 0; i < x.shape[0]; i++) {
      let ref = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      for (let s = 0; s < 4; s++) {
        const op = params.order[4 * i + s];
        const prev = ref;
        if (op === 0) ref = adjustBrightness(prev, params.brightness[i]!);
        else if (op === 1) ref = adjustContrast(prev, params.contrast[i]!);
        else continue;
        prev.dispose();
      }
      const got = tf.slice(y, [i, 0, 0, 0], [1, -1, -1, -1]);
      expectClose(got, ref, { atol: 3e-6, rtol: 0, label: `gray sample ${i}` });
      tf.dispose([ref, got]);
    }
    const onlyColour = colorJitter(x, { saturation: 0.8, hue: 0.4, seed: 2 });
    expectClose(onlyColour, x, { atol: 0, rtol: 0 });
    const inPipeline = new ColorJitter({ brightness: 0.4, contrast: 0.4 }).run(x, { seed: 3 });
    expect(inPipeline.images.shape).toEqual(x.shape);
    expect(() => colorJitter(tf.ones([1, 2, 2, 2]), { brightness: 0.4 })).toThrow('have 1 or 3 channels');
    tf.dispose([x, y, onlyColour, inPipeline.images]);
  });

  it('samples factors in torchvision ranges, orders as permutations, applied with p', () => {
    const p = sampleColorJitter([4000, 1, 1, 3], 3, { brightness: 0.4, contrast: [0.5, 0.9], saturation: 0.2, hue: 0.1, p: 0.8 });
    let applied = 0;
    for (let i = 0; i < 4000; i++) {
      expect([...p.order.slice(4 * i, 4 * i + 4)].sort()).toEqual([0, 1, 2, 3]);
      if (!p.applied[i]) {
        expect([p.brightness[i], p.contrast[i], p.saturation[i], p.hue[i]]).toEqual([1, 1, 1, 0]);
        continue;
      }
      applied++;
      expect(p.brightness[i]).toBeGreaterThanOrEqual(0.6 - 1e-6);
      expect(p.brightness[i]).toBeLessThanOrEqual(1.4 + 1e-6);
      expect(p.contrast[i]).toBeGreaterThanOrEqual(0.5 - 1e-6);
      expect(p.contrast[i]).toBeLessThanOrEqual(0.9 + 1e-6);
      expect(Math.abs(p.hue[i]!)).toBeLessThanOrEqual(0.1 + 1e-6);
    }
    // Binomial(4000, 0.8): sd ≈ 25, so ±5 sd.
    expect(Math.abs(applied - 3200)).toBeLessThan(130);
    // Each op lands in each slot about equally often.
    const firstIsHue = [...Array(4000).keys()].filter((i) => p.order[4 * i] === 3).length;
    expect(Math.abs(firstIsHue - 1000)).toBeLessThan(140);
  });

  it('sameOnBatch shares factors and order; neutral options are the identity', () => {
    const p = sampleColorJitter([5, 4, 4, 3], 1, { ...options, sameOnBatch: true });
    for (let i = 1; i < 5; i++) {
      expect(p.brightness[i]).toBe(p.brightness[0]);
      expect(p.hue[i]).toBe(p.hue[0]);
      expect([...p.order.slice(4 * i, 4 * i + 4)]).toEqual([...p.order.slice(0, 4)]);
    }
    const x = t4(fx.images);
    const y = colorJitter(x, { seed: 1 });
    expectClose(y, x, { atol: 0, rtol: 0 });
    tf.dispose([x, y]);
  });

  it('replays exactly from returned params and is seeded', () => {
    const x = t4(fx.images);
    const { images, params } = colorJitter(x, { ...options, seed: 4, returnParams: true });
    const again = new ColorJitter(options).apply(x, params);
    expectClose(again, images, { atol: 0, rtol: 0 });
    const seeded = colorJitter(x, { ...options, seed: 4 });
    expectClose(seeded, images, { atol: 0, rtol: 0 });
    tf.dispose([x, images, again, seeded]);
  });

  it('rejects bad options and params', () => {
    const x = tf.ones([2, 2, 2, 3]);
    expect(() => colorJitter(x, { hue: 0.6 })).toThrow('colorJitter: options.hue must be a number in [0, 0.5] or a [min, max] pair, got 0.6');
    expect(() => colorJitter(x, { brightness: -1 })).toThrow('colorJitter: options.brightness must be a number ≥ 0 or a [min, max] pair, got -1');
    expect(() => colorJitter(x, { p: 1.5 })).toThrow('colorJitter: options.p must be a number in [0, 1], got 1.5');
    expect(() => new ColorJitter({ brigtness: 0.4 } as never)).toThrow('ColorJitter: options.brigtness must be one of the known options');
    const params = sampleColorJitter([3, 2, 2, 3], 0, options);
    expect(() => applyColorJitter(x as tf.Tensor4D, params)).toThrow('applyColorJitter: params must be sampled for the batch size of images (2, shape [2, 2, 2, 3]), got params for batchSize 3');
    expect(() => colorJitter(tf.fill([1, 1, 1, 3], 2), options)).toThrow('colorJitter: images must have pixel values in [0, 1], got values in [2, 2]');
    x.dispose();
  });
});

it('colour ops agree on cpu and wasm', async () => {
  const params = sampleColorJitter([2, 8, 8, 3], 9, { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 });
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const x = t4(fx.images);
      return [applyColorJitter(x, params), rgbToLab(x), rgbToHsv(x)].map((t) => Array.from(t.dataSync()));
    }),
  );
  results.cpu.forEach((cpu, k) => expectClose(results.wasm[k]!, cpu, { atol: k === 1 ? 2e-4 : 2e-6, rtol: 0, label: `op ${k}` }));
});
