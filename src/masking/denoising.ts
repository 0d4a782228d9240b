import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Seed } from '../core/rng.js';
import { assertInRange, assertKnownOptions, assertProbability } from '../core/validate.js';
import { readImages } from '../augment/image-input.js';

/** Options of {@link pixelDropout}. */
export interface PixelDropoutOptions {
  /**
   * Probability that a pixel (all its channels) is set to zero; Vincent et
   * al.'s masking noise for denoising autoencoders.
   * @default 0.25
   */
  rate?: number;
  /**
   * Seed of the dropout pattern.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Also return the `[B, H, W, 1]` mask (1 = dropped).
   * @default false
   */
  returnMask?: boolean;
}

/**
 * Sets random pixels to zero (masking noise of denoising autoencoders,
 * Vincent et al. 2008): each pixel is dropped independently with
 * probability `rate`, all channels together. The pattern comes from the
 * seeded generator, identical on every backend.
 *
 * @param images - `[B, H, W, C]` float32.
 * @returns the corrupted images, or `{ images, mask }` with `returnMask: true`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { pixelDropout } from 'selfsup';
 *
 * const { images, mask } = pixelDropout(tf.ones([1, 16, 16, 3]) as tf.Tensor4D, { rate: 0.5, seed: 0, returnMask: true });
 * console.log(tf.mean(mask).dataSync()[0]); // ≈ 0.5
 * ```
 */
export function pixelDropout(images: tf.Tensor4D, options: PixelDropoutOptions & { returnMask: true }): { images: tf.Tensor4D; mask: tf.Tensor4D };
export function pixelDropout(images: tf.Tensor4D, options?: PixelDropoutOptions): tf.Tensor4D;
export function pixelDropout(images: tf.Tensor4D, options: PixelDropoutOptions = {}): tf.Tensor4D | { images: tf.Tensor4D; mask: tf.Tensor4D } {
  const fn = 'pixelDropout';
  const x = readImages(images, fn);
  assertKnownOptions(options, ['rate', 'seed', 'returnMask'], fn);
  const { rate = 0.25, returnMask = false } = options;
  assertProbability(rate, fn, 'options.rate');
  const [b, h, w] = x.shape;
  const rng = createRng(options.seed, fn, 'options.seed');
  const drop = new Float32Array(b * h * w);
  for (let i = 0; i < drop.length; i++) drop[i] = rng.next() < rate ? 1 : 0;
  const mask = tf.tensor4d(drop, [b, h, w, 1]);
  const out = tf.tidy(() => tf.mul(x, tf.sub(1, mask)) as tf.Tensor4D);
  if (returnMask) return { images: out, mask };
  mask.dispose();
  return out;
}

/** Options of {@link saltAndPepper}. */
export interface SaltAndPepperOptions {
  /**
   * Fraction of values replaced.
   * @default 0.05
   */
  amount?: number;
  /**
   * Fraction of the replaced values set to 1 (salt) rather than 0 (pepper).
   * @default 0.5
   */
  saltVsPepper?: number;
  /**
   * Seed of the noise.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/**
 * Salt-and-pepper noise as scikit-image's `random_noise(mode='s&p')`: each
 * value (pixel and channel independently) is replaced with probability
 * `amount`, by 1 with probability `saltVsPepper` and by 0 otherwise.
 *
 * @param images - `[B, H, W, C]` float32 in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { saltAndPepper } from 'selfsup';
 *
 * const noisy = saltAndPepper(tf.fill([1, 8, 8, 1], 0.5) as tf.Tensor4D, { amount: 0.1, seed: 0 });
 * console.log(noisy.shape); // [1, 8, 8, 1]
 * ```
 */
export function saltAndPepper(images: tf.Tensor4D, options: SaltAndPepperOptions = {}): tf.Tensor4D {
  const fn = 'saltAndPepper';
  const x = readImages(images, fn, { checkRange: true });
  assertKnownOptions(options, ['amount', 'saltVsPepper', 'seed'], fn);
  const { amount = 0.05, saltVsPepper = 0.5 } = options;
  assertProbability(amount, fn, 'options.amount');
  assertInRange(saltVsPepper, 0, 1, fn, 'options.saltVsPepper');
  const n = x.size;
  const rng = createRng(options.seed, fn, 'options.seed');
  const replaced = new Float32Array(n);
  const value = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (rng.next() < amount) {
      replaced[i] = 1;
      value[i] = rng.next() < saltVsPepper ? 1 : 0;
    }
  }
  return tf.tidy(() => {
    const m = tf.tensor(replaced, x.shape);
    return tf.add(tf.mul(x, tf.sub(1, m)), tf.tensor(value, x.shape)) as tf.Tensor4D;
  });
}
