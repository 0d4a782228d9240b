import * as tf from '@tensorflow/tfjs-core';
import { brightnessOf, contrastOf } from '../augment/adjust.js';
import { compose } from '../augment/compose.js';
import { RandomHorizontalFlip } from '../augment/flip.js';
import { RandomResizedCrop } from '../augment/resized-crop.js';
import { BaseTransform, type ImageShape, type Transform } from '../augment/transform.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertKnownOptions, assertOneOf, assertProbability, assertRangePair, assertInRange } from '../core/validate.js';

/** Options of {@link grayscaleAugment}. */
export interface GrayscaleAugmentOptions {
  /**
   * Output side of the crops (or `[height, width]`).
   * @default the input size
   */
  size?: number | readonly [number, number];
  /**
   * Area range of the random resized crop, as a fraction of the image.
   * SimCLR's [0.08, 1] removes too much of a 28-pixel garment; a moderate
   * lower bound keeps the silhouette that identifies it.
   * @default [0.3, 1]
   */
  cropScale?: readonly [number, number];
  /**
   * Start with the random resized crop; `false` leaves only the flip and the
   * jitter (for `multiCrop` groups, which crop first themselves).
   * @default true
   */
  crop?: boolean;
  /**
   * Horizontal flip with probability 0.5.
   * @default true
   */
  flip?: boolean;
  /**
   * Brightness strength b: factors drawn uniformly from [1 − b, 1 + b].
   * @default 0.4
   */
  brightness?: number;
  /**
   * Contrast strength c: factors drawn uniformly from [1 − c, 1 + c].
   * @default 0.4
   */
  contrast?: number;
  /**
   * Probability that an image gets the brightness/contrast jitter.
   * @default 0.8
   */
  jitterProbability?: number;
}

interface BrightnessContrastParams {
  brightness: Float32Array;
  contrast: Float32Array;
}

/**
 * Per-sample brightness then contrast (torchvision's `adjust_brightness` and
 * `adjust_contrast`), for 1- or 3-channel images. A sample that skips the
 * jitter gets factor 1 for both.
 */
class RandomBrightnessContrast extends BaseTransform<BrightnessContrastParams> {
  readonly name = 'RandomBrightnessContrast';
  readonly requiresUnitRange = true;

  constructor(
    private readonly brightness: number,
    private readonly contrast: number,
    private readonly p: number,
  ) {
    super();
  }

  sample(inputShape: ImageShape, seed: Seed): BrightnessContrastParams {
    const rng = createRng(seed, `${this.name}.sample`, 'rng');
    const n = inputShape[0];
    const brightness = new Float32Array(n);
    const contrast = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const on = rng.next() < this.p;
      brightness[i] = on ? rng.uniform(1 - this.brightness, 1 + this.brightness) : 1;
      contrast[i] = on ? rng.uniform(1 - this.contrast, 1 + this.contrast) : 1;
    }
    return { brightness, contrast };
  }

  apply(images: tf.Tensor4D, params: BrightnessContrastParams): tf.Tensor4D {
    // The pipeline checked the range on its input: no second (synchronous) read here.
    return tf.tidy(() => contrastOf(brightnessOf(images, params.brightness), params.contrast));
  }
}

/** The photometric part of {@link grayscaleAugment} (flip and jitter, no crop), for multi-crop pipelines. */
export function grayscalePhotometric(options: GrayscaleAugmentOptions, fn: string): Transform {
  const { flip = true, brightness = 0.4, contrast = 0.4, jitterProbability = 0.8 } = options;
  assertOneOf(flip, [true, false], fn, 'options.flip');
  assertInRange(brightness, 0, 1, fn, 'options.brightness');
  assertInRange(contrast, 0, 1, fn, 'options.contrast');
  assertProbability(jitterProbability, fn, 'options.jitterProbability');
  const steps: Transform[] = [];
  if (flip) steps.push(new RandomHorizontalFlip({ p: 0.5 }));
  steps.push(new RandomBrightnessContrast(brightness, contrast, jitterProbability));
  return compose(steps);
}

/**
 * The two-view augmentation selfsup's methods use by default on 1-channel
 * images (Fashion-MNIST, MNIST, X-rays), where the RGB presets' colour jitter,
 * saturation, hue and grayscale steps do not apply: random resized crop
 * (ratio [3/4, 4/3]) → horizontal flip (p 0.5) → per-sample brightness and
 * contrast jitter (p 0.8). It is SimCLR's recipe (Chen et al. 2020, appendix A)
 * with the colour part reduced to what greyscale has, and no blur (SimCLR
 * skips it below 32 pixels). Works on 3-channel images too. Use it with
 * `twoViews`, or pass it as a method's `augment` option.
 *
 * @returns one pipeline; each view draws its own parameters.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { grayscaleAugment, twoViews } from 'selfsup';
 *
 * const [a, b] = twoViews(tf.randomUniform([4, 28, 28, 1]), grayscaleAugment({ cropScale: [0.4, 1] }), { seed: 0 });
 * console.log(a.shape, b.shape); // [4, 28, 28, 1] twice
 * ```
 */
export function grayscaleAugment(options: GrayscaleAugmentOptions = {}): Transform {
  const fn = 'grayscaleAugment';
  assertKnownOptions(options, ['size', 'cropScale', 'crop', 'flip', 'brightness', 'contrast', 'jitterProbability'], fn);
  const { size, cropScale = [0.3, 1], crop = true } = options;
  assertRangePair(cropScale, fn, 'options.cropScale', { min: 0, max: 1 });
  assertOneOf(crop, [true, false], fn, 'options.crop');
  const photometric = grayscalePhotometric(options, fn);
  if (!crop) return photometric;
  return compose([new RandomResizedCrop({ scale: cropScale, ...(size !== undefined ? { size } : {}) }), photometric]);
}

/**
 * The default augmentation of a method for `[H, W, C]` images: the paper's
 * RGB preset for 3 channels, {@link grayscaleAugment} for 1 channel, and a
 * crop and flip for any other channel count (no photometric jitter is defined
 * there).
 */
export function defaultAugment(
  shape: readonly [number, number, number],
  rgb: () => Transform | readonly [Transform, Transform],
): Transform | readonly [Transform, Transform] {
  if (shape[2] === 3) return rgb();
  if (shape[2] === 1) return grayscaleAugment();
  return compose([new RandomResizedCrop({ scale: [0.3, 1] }), new RandomHorizontalFlip({ p: 0.5 })]);
}
