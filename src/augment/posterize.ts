import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, readCommon, sampleApplied } from './sampling.js';
import { applyToSubset } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link RandomPosterize}, {@link randomPosterize} and {@link samplePosterize}. */
export interface PosterizeOptions {
  /**
   * Bits kept per channel, 0–8.
   * @default 4
   */
  bits?: number;
  /**
   * Probability that a sample is posterized.
   * @default 0.5
   */
  p?: number;
  /**
   * One draw for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a random posterization. */
export interface PosterizeParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is posterized. */
  applied: Uint8Array;
  /** Bits kept per channel. */
  bits: number;
}

function readOptions(options: PosterizeOptions, fn: string): { bits: number; p: number; sameOnBatch: boolean } {
  assertKnownOptions(options, ['bits', 'p', 'sameOnBatch'], fn);
  const { bits = 4 } = options;
  assertInteger(bits, fn, 'options.bits', { min: 0, max: 8 });
  return { bits, ...readCommon(options, fn, 0.5) };
}

/**
 * Samples which images a random posterization quantises.
 *
 * @example
 * ```ts
 * import { samplePosterize } from 'selfsup';
 *
 * console.log(samplePosterize([4, 8, 8, 3], 0, { bits: 3 }));
 * ```
 */
export function samplePosterize(shape: ImageShape, rng: Seed, options: PosterizeOptions = {}): PosterizeParams {
  const fn = 'samplePosterize';
  assertSampleArgs(shape, rng, fn);
  const o = readOptions(options, fn);
  return { batchSize: shape[0], applied: sampleApplied(shape[0], createRng(rng), o.p, o.sameOnBatch), bits: o.bits };
}

/**
 * Posterization as torchvision's `posterize` on the 8-bit version of the
 * image: `v = floor(255.999·x)` (torchvision's float→uint8 conversion), keep
 * the top `bits` bits of `v`, divide by 255.
 *
 * @param images - `[B, H, W, C]` float32 in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyPosterize } from 'selfsup';
 *
 * const x = tf.tensor4d([0.3, 0.7], [1, 1, 2, 1]);
 * applyPosterize(x, { batchSize: 1, applied: Uint8Array.of(1), bits: 1 }).print(); // [0, 0.502]
 * ```
 */
export function applyPosterize(images: tf.Tensor4D, params: PosterizeParams): tf.Tensor4D {
  const fn = 'applyPosterize';
  assertApplyImages(images, fn);
  assertParamsFor(params, images, fn, { applied: [params?.applied, 1] });
  assertInteger(params.bits, fn, 'params.bits', { min: 0, max: 8 });
  const step = 2 ** (8 - params.bits);
  return applyToSubset(images, params.applied, (subset) =>
    tf.tidy(() => {
      const levels = tf.floor(tf.mul(subset, 255.999));
      return tf.div(tf.mul(tf.floor(tf.div(levels, step)), step), 255) as tf.Tensor4D;
    }),
  );
}

/**
 * Random posterization (torchvision's `RandomPosterize`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomPosterize } from 'selfsup';
 *
 * const out = new RandomPosterize({ bits: 3, p: 1 }).run(tf.randomUniform([2, 8, 8, 3]), { seed: 0 }).images;
 * console.log(out.shape); // [2, 8, 8, 3]
 * ```
 */
export class RandomPosterize extends BaseTransform<PosterizeParams> {
  readonly name = 'RandomPosterize';
  readonly requiresUnitRange = true;
  private readonly options: { bits: number; p: number; sameOnBatch: boolean };

  constructor(options: PosterizeOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): PosterizeParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    const { p, sameOnBatch, bits } = this.options;
    return { batchSize: inputShape[0], applied: sampleApplied(inputShape[0], createRng(rng), p, sameOnBatch), bits };
  }

  apply(images: tf.Tensor4D, params: PosterizeParams): tf.Tensor4D {
    return applyPosterize(images, params);
  }
}

/**
 * One-call random posterization. See {@link RandomPosterize}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomPosterize } from 'selfsup';
 *
 * console.log(randomPosterize(tf.randomUniform([2, 8, 8, 3]), { bits: 2, seed: 0 }).shape); // [2, 8, 8, 3]
 * ```
 */
export function randomPosterize(images: tf.Tensor, options: PosterizeOptions & RandomCallOptions & { returnParams: true }): TransformResult<PosterizeParams>;
export function randomPosterize(images: tf.Tensor, options?: PosterizeOptions & RandomCallOptions): tf.Tensor4D;
export function randomPosterize(images: tf.Tensor, options: PosterizeOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<PosterizeParams> {
  return callTransform('randomPosterize', images, options, (o: PosterizeOptions) => {
    readOptions(o, 'randomPosterize');
    return new RandomPosterize(o);
  });
}
