import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { affineClip, grayMean, grayPlane, hueShiftPlanes } from './color-planes.js';
import { assertKnownOptions, describeValue } from '../core/validate.js';
import { readImages } from './image-input.js';
import { column, fromPlanes, perSampleImage, toPlanes } from './tensor-ops.js';

/** A factor for the whole batch, or one factor per sample. */
export type PerSampleFactor = number | ArrayLike<number>;

/** Options of the `adjust…` colour functions. */
export interface AdjustOptions {
  /**
   * Value range of the input (`255`: int32/float32 values in [0, 255],
   * converted to float32 [0, 1]).
   * @default 1
   */
  inputRange?: 1 | 255;
}

function readFactors(
  factor: unknown,
  batchSize: number,
  fn: string,
  lo: number,
  hi: number,
  what: string,
): Float32Array {
  const values = typeof factor === 'number' ? new Array<number>(batchSize).fill(factor) : factor;
  if (
    values === null ||
    typeof values !== 'object' ||
    typeof (values as ArrayLike<number>).length !== 'number' ||
    (values as ArrayLike<number>).length !== batchSize
  ) {
    throw new InvalidArgumentError(fn, 'factor', `be a number or ${batchSize} per-sample numbers`, describeValue(factor));
  }
  Array.from(values as ArrayLike<number>).forEach((v, i) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi)) {
      throw new InvalidArgumentError(fn, typeof factor === 'number' ? 'factor' : `factor[${i}]`, `be ${what}`, describeValue(v));
    }
  });
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * The body every `adjust…` function shares: checks the options, reads the
 * images (`channels`: the counts the adjustment is defined for) and the
 * per-sample factors in [`lo`, `hi`], applies `adjust`, and frees a converted
 * copy of the images on every path.
 */
function adjustImages(
  images: tf.Tensor,
  factor: PerSampleFactor,
  options: AdjustOptions,
  fn: string,
  channels: readonly number[] | undefined,
  factorRange: readonly [lo: number, hi: number, what: string],
  adjust: (x: tf.Tensor4D, f: Float32Array) => tf.Tensor4D,
): tf.Tensor4D {
  assertKnownOptions(options, ['inputRange'], fn);
  const x = readImages(images, fn, { inputRange: options.inputRange ?? 1, checkRange: true, channels });
  let f: Float32Array;
  try {
    f = readFactors(factor, x.shape[0], fn, ...factorRange);
  } catch (e) {
    if (x !== images) x.dispose();
    throw e;
  }
  const out = adjust(x, f);
  if (x !== images) x.dispose();
  return out;
}

/**
 * Brightness adjustment as torchvision's `adjust_brightness`:
 * `clip(factor·x, 0, 1)` (0 gives black, 1 the original).
 *
 * @param images - `[B, H, W, C]` float32 in [0, 1].
 * @param factor - ≥ 0, one for the batch or one per sample.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { adjustBrightness } from 'selfsup';
 *
 * adjustBrightness(tf.fill([1, 1, 2, 3], 0.5), 1.5).print(); // 0.75 everywhere
 * ```
 */
export function adjustBrightness(images: tf.Tensor, factor: PerSampleFactor, options: AdjustOptions = {}): tf.Tensor4D {
  return adjustImages(images, factor, options, 'adjustBrightness', undefined, [0, Infinity, 'a finite number ≥ 0'], brightnessOf);
}

/** {@link adjustBrightness} of checked images with checked per-sample factors (no range read: pipelines and steps). */
export function brightnessOf(x: tf.Tensor4D, f: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(x, perSampleImage(f, x.shape)), 0, 1) as tf.Tensor4D);
}

/**
 * Contrast adjustment as torchvision's `adjust_contrast`: blends each image
 * with the mean of its grayscale version, `clip(factor·x + (1 − factor)·mean, 0, 1)`
 * (0 gives a uniform gray image, 1 the original). For 1-channel images the
 * mean is the image's mean.
 *
 * @param images - `[B, H, W, 1 or 3]` float32 in [0, 1].
 * @param factor - ≥ 0, one for the batch or one per sample.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { adjustContrast } from 'selfsup';
 *
 * const x = tf.tensor4d([0, 1], [1, 1, 2, 1]);
 * adjustContrast(x, 0.5).print(); // [0.25, 0.75]
 * ```
 */
export function adjustContrast(images: tf.Tensor, factor: PerSampleFactor, options: AdjustOptions = {}): tf.Tensor4D {
  return adjustImages(images, factor, options, 'adjustContrast', [1, 3], [0, Infinity, 'a finite number ≥ 0'], contrastOf);
}

/** {@link adjustContrast} of checked 1- or 3-channel images with checked per-sample factors (no range read). */
export function contrastOf(x: tf.Tensor4D, f: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => {
    const b = x.shape[0];
    const mean =
      x.shape[3] === 3
        ? tf.reshape(grayMean(toPlanes(x)), [b, 1, 1, 1])
        : tf.mean(x, [1, 2, 3], true);
    const ft = perSampleImage(f, x.shape);
    return tf.clipByValue(tf.add(tf.mul(x, ft), tf.mul(mean, tf.sub(1, ft))), 0, 1) as tf.Tensor4D;
  });
}

/**
 * Saturation adjustment as torchvision's `adjust_saturation`: blends each
 * pixel with its grayscale value (ITU-R 601-2 weights 0.2989, 0.587, 0.114),
 * `clip(factor·x + (1 − factor)·gray, 0, 1)` (0 gives grayscale, 1 the
 * original, 2 doubles the saturation).
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1].
 * @param factor - ≥ 0, one for the batch or one per sample.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { adjustSaturation } from 'selfsup';
 *
 * adjustSaturation(tf.tensor4d([1, 0, 0], [1, 1, 1, 3]), 0).print(); // [0.2989, 0.2989, 0.2989]
 * ```
 */
export function adjustSaturation(images: tf.Tensor, factor: PerSampleFactor, options: AdjustOptions = {}): tf.Tensor4D {
  return adjustImages(images, factor, options, 'adjustSaturation', [3], [0, Infinity, 'a finite number ≥ 0'], (x, f) =>
    tf.tidy(() => {
      const [, h, w] = x.shape;
      const planes = toPlanes(x);
      const a = column(f, h * w);
      return fromPlanes(affineClip(planes, a, tf.mul(grayPlane(planes), tf.sub(1, a))), h, w);
    }),
  );
}

/**
 * Hue adjustment as torchvision's `adjust_hue`: converts to HSV, adds
 * `factor` to the hue (in turns, modulo 1) and converts back. Saturation and
 * value are unchanged, so grays stay gray.
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1].
 * @param factor - in [−0.5, 0.5], one for the batch or one per sample.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { adjustHue } from 'selfsup';
 *
 * adjustHue(tf.tensor4d([1, 0, 0], [1, 1, 1, 3]), 1 / 3).print(); // red → green: [0, 1, 0]
 * ```
 */
export function adjustHue(images: tf.Tensor, factor: PerSampleFactor, options: AdjustOptions = {}): tf.Tensor4D {
  return adjustImages(images, factor, options, 'adjustHue', [3], [-0.5, 0.5, 'a number in [-0.5, 0.5]'], (x, f) =>
    tf.tidy(() => {
      const [, h, w] = x.shape;
      const shifted = hueShiftPlanes(toPlanes(x), column(f, h * w));
      return fromPlanes(shifted.map((p) => tf.clipByValue(p, 0, 1)) as typeof shifted, h, w);
    }),
  );
}
