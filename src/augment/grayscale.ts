import * as tf from '@tensorflow/tfjs-core';
import type { Seed } from '../core/rng.js';
import { assertKnownOptions, assertOneOf, formatShape } from '../core/validate.js';
import { ShapeError } from '../core/errors.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { GRAY_WEIGHTS, grayRows } from './color-planes.js';
import { PLANAR, planarApplyToSubset, planarShape } from './planar.js';
import { assertApplyImages, readImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, readAppliedOptions, sampleAppliedParams } from './sampling.js';
import { selectSamples } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link rgbToGrayscale}. */
export interface GrayscaleOptions {
  /**
   * Channels of the output: 1, or 3 (the gray value repeated, to keep an
   * RGB model's input shape).
   * @default 1
   */
  outputChannels?: 1 | 3;
}

function grayMatrix(outputChannels: number): tf.Tensor2D {
  const w = GRAY_WEIGHTS.flatMap((v) => new Array<number>(outputChannels).fill(v));
  return tf.tensor2d(w, [3, outputChannels]);
}

/** Gray images (weights applied as one matMul over the channel axis), no validation. */
export function grayImages(images: tf.Tensor4D, outputChannels: number): tf.Tensor4D {
  const [b, h, w] = images.shape;
  return tf.tidy(
    () => tf.reshape(tf.matMul(tf.reshape(images, [b * h * w, 3]), grayMatrix(outputChannels)), [b, h, w, outputChannels]) as tf.Tensor4D,
  );
}

/**
 * Luma of RGB images with the ITU-R 601-2 weights torchvision's
 * `rgb_to_grayscale` uses: `0.2989 R + 0.587 G + 0.114 B`.
 *
 * @param images - `[B, H, W, 3]` float32.
 * @returns `[B, H, W, outputChannels]` float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rgbToGrayscale } from 'selfsup';
 *
 * rgbToGrayscale(tf.tensor4d([1, 0, 0, 0, 1, 0], [1, 1, 2, 3])).print(); // [[0.2989], [0.587]]
 * ```
 */
export function rgbToGrayscale(images: tf.Tensor4D, options: GrayscaleOptions = {}): tf.Tensor4D {
  const fn = 'rgbToGrayscale';
  assertKnownOptions(options, ['outputChannels'], fn);
  const { outputChannels = 1 } = options;
  assertOneOf(outputChannels, [1, 3], fn, 'options.outputChannels');
  const x = readImages(images, fn, { channels: [3] });
  return grayImages(x, outputChannels);
}

/** Options of {@link RandomGrayscale} and {@link randomGrayscale}. */
export interface RandomGrayscaleOptions {
  /**
   * Probability that a sample is converted.
   * @default 0.1
   */
  p?: number;
  /**
   * One draw for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a random grayscale conversion. */
export interface GrayscaleParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is converted. */
  applied: Uint8Array;
}

function readOptions(options: RandomGrayscaleOptions, fn: string): { p: number; sameOnBatch: boolean } {
  return readAppliedOptions(options, fn, 0.1);
}

/**
 * Samples which images a random grayscale converts (Bernoulli(`p`) each).
 *
 * @example
 * ```ts
 * import { sampleGrayscale } from 'selfsup';
 *
 * console.log(sampleGrayscale([6, 8, 8, 3], 0, { p: 0.5 }).applied);
 * ```
 */
export function sampleGrayscale(shape: ImageShape, rng: Seed, options: RandomGrayscaleOptions = {}): GrayscaleParams {
  const fn = 'sampleGrayscale';
  assertSampleArgs(shape, rng, fn);
  return sampleAppliedParams(shape, rng, readOptions(options, fn));
}

/**
 * Replaces the selected RGB images by their gray version repeated over the
 * 3 channels (torchvision's `RandomGrayscale` keeps the channel count).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyGrayscale } from 'selfsup';
 *
 * const x = tf.tensor4d([1, 0, 0, 1, 0, 0], [2, 1, 1, 3]);
 * applyGrayscale(x, { batchSize: 2, applied: Uint8Array.of(0, 1) }).print(); // [1, 0, 0], [0.2989, 0.2989, 0.2989]
 * ```
 */
export function applyGrayscale(images: tf.Tensor4D, params: GrayscaleParams): tf.Tensor4D {
  const fn = 'applyGrayscale';
  assertApplyImages(images, fn, [3]);
  assertParamsFor(params, images, fn, { applied: [params?.applied, 1] });
  return tf.tidy(() => {
    if (!params.applied.some((v) => v)) return tf.clone(images);
    return selectSamples(images, grayImages(images, 3), params.applied);
  });
}

/**
 * Random grayscale conversion with probability `p` per sample
 * (torchvision's `RandomGrayscale`; SimCLR, MoCo v2, BYOL and DINO use p = 0.2).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomGrayscale } from 'selfsup';
 *
 * const { images, params } = new RandomGrayscale({ p: 0.2 }).run(tf.randomUniform([8, 4, 4, 3]), { seed: 0 });
 * console.log(images.shape, params.applied);
 * ```
 */
export class RandomGrayscale extends BaseTransform<GrayscaleParams> {
  readonly name = 'RandomGrayscale';
  readonly requiresUnitRange = false;
  readonly channels = [3];
  private readonly options: { p: number; sameOnBatch: boolean };

  constructor(options: RandomGrayscaleOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): GrayscaleParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleAppliedParams(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: GrayscaleParams): tf.Tensor4D {
    return applyGrayscale(images, params);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: GrayscaleParams): tf.Tensor4D {
    const fn = 'RandomGrayscale.apply';
    const [c, , h, w] = x.shape;
    if (c !== 3) throw new ShapeError(fn, 'images', 'have 3 channels (last axis of NHWC)', formatShape(planarShape(x)));
    assertParamsFor(params, { shape: planarShape(x) }, fn, { applied: [params?.applied, 1] });
    if (hasFusedKernel(FUSED.grayscale) && params.applied.some((v) => v)) {
      // One selfsup wasm kernel: the luma of the selected samples, no gather of the sub-batch and back.
      const applied = Float32Array.from(params.applied);
      return tf.engine().runKernel(FUSED.grayscale, { x }, { applied } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    }
    return planarApplyToSubset(x, params.applied, (subset) =>
      tf.tidy(() => {
        const k = subset.shape[1];
        return tf.reshape(grayRows(tf.reshape(subset, [3, k * h * w]) as tf.Tensor2D, 3), [3, k, h, w]) as tf.Tensor4D;
      }),
    );
  }
}

/**
 * One-call random grayscale. See {@link RandomGrayscale}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomGrayscale } from 'selfsup';
 *
 * console.log(randomGrayscale(tf.randomUniform([4, 8, 8, 3]), { p: 0.5, seed: 2 }).shape); // [4, 8, 8, 3]
 * ```
 */
export function randomGrayscale(images: tf.Tensor, options: RandomGrayscaleOptions & RandomCallOptions & { returnParams: true }): TransformResult<GrayscaleParams>;
export function randomGrayscale(images: tf.Tensor, options?: RandomGrayscaleOptions & RandomCallOptions): tf.Tensor4D;
export function randomGrayscale(images: tf.Tensor, options: RandomGrayscaleOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<GrayscaleParams> {
  return callTransform('randomGrayscale', images, options, (o: RandomGrayscaleOptions) => {
    readOptions(o, 'randomGrayscale');
    return new RandomGrayscale(o);
  });
}
