import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Seed } from '../core/rng.js';
import { assertInRange, assertKnownOptions } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, readCommon, sampleApplied } from './sampling.js';
import { PLANAR, planarShape } from './planar.js';
import { column, perSampleImage } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link RandomSolarize}, {@link randomSolarize} and {@link sampleSolarize}. */
export interface SolarizeOptions {
  /**
   * Pixels with value ≥ threshold are inverted (`1 − x`). BYOL uses 0.5;
   * PIL's default (DINO) is 128/255.
   * @default 0.5
   */
  threshold?: number;
  /**
   * Probability that a sample is solarized (BYOL: 0 and 0.2 for its two views).
   * @default 0.5
   */
  p?: number;
  /**
   * One draw for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a random solarization. */
export interface SolarizeParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is solarized. */
  applied: Uint8Array;
  /** The inversion threshold. */
  threshold: number;
}

function readOptions(options: SolarizeOptions, fn: string): { threshold: number; p: number; sameOnBatch: boolean } {
  assertKnownOptions(options, ['threshold', 'p', 'sameOnBatch'], fn);
  const { threshold = 0.5 } = options;
  assertInRange(threshold, 0, 1, fn, 'options.threshold');
  return { threshold, ...readCommon(options, fn, 0.5) };
}

/**
 * Samples which images a random solarization inverts.
 *
 * @example
 * ```ts
 * import { sampleSolarize } from 'selfsup';
 *
 * console.log(sampleSolarize([4, 8, 8, 3], 0, { p: 0.2 }));
 * ```
 */
export function sampleSolarize(shape: ImageShape, rng: Seed, options: SolarizeOptions = {}): SolarizeParams {
  const fn = 'sampleSolarize';
  assertSampleArgs(shape, rng, fn);
  const o = readOptions(options, fn);
  return { batchSize: shape[0], applied: sampleApplied(shape[0], createRng(rng), o.p, o.sameOnBatch), threshold: o.threshold };
}

/**
 * Solarization as torchvision's `solarize` for float images:
 * `x ≥ threshold ? 1 − x : x`, on the selected samples.
 *
 * @param images - `[B, H, W, C]` float32 in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applySolarize } from 'selfsup';
 *
 * const x = tf.tensor4d([0.2, 0.5, 0.9], [1, 1, 3, 1]);
 * applySolarize(x, { batchSize: 1, applied: Uint8Array.of(1), threshold: 0.5 }).print(); // [0.2, 0.5, 0.1]
 * ```
 */
export function applySolarize(images: tf.Tensor4D, params: SolarizeParams): tf.Tensor4D {
  const fn = 'applySolarize';
  assertApplyImages(images, fn);
  assertSolarizeParams(params, images.shape, fn);
  return tf.tidy(() => solarizeWith(images, perSampleImage(thresholdsOf(params), images.shape)));
}

function assertSolarizeParams(params: SolarizeParams, shape: ImageShape, fn: string): void {
  assertParamsFor(params, { shape }, fn, { applied: [params?.applied, 1] });
  assertInRange(params.threshold, 0, 1, fn, 'params.threshold');
}

// A threshold above every value leaves the unselected samples untouched, bit for bit.
function thresholdsOf(params: SolarizeParams): Float32Array {
  return Float32Array.from(params.applied, (a) => (a ? params.threshold : 2));
}

/** `x ≥ t ? 1 − x : x` as an exact 0/1 selection (the comparison kernels are slow on wasm). */
function solarizeWith<T extends tf.Tensor>(x: T, thresholds: tf.Tensor): T {
  const invert = tf.sub(1, tf.step(tf.sub(thresholds, x)));
  return tf.add(tf.mul(x, tf.sub(1, invert)), tf.mul(tf.sub(1, x), invert)) as T;
}

/**
 * Random solarization (BYOL, DINO; torchvision's `RandomSolarize`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomSolarize } from 'selfsup';
 *
 * const { images, params } = new RandomSolarize({ p: 0.2 }).run(tf.randomUniform([4, 8, 8, 3]), { seed: 0 });
 * console.log(images.shape, params.applied);
 * ```
 */
export class RandomSolarize extends BaseTransform<SolarizeParams> {
  readonly name = 'RandomSolarize';
  readonly requiresUnitRange = true;
  private readonly options: { threshold: number; p: number; sameOnBatch: boolean };

  constructor(options: SolarizeOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): SolarizeParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    const { p, sameOnBatch, threshold } = this.options;
    return { batchSize: inputShape[0], applied: sampleApplied(inputShape[0], createRng(rng), p, sameOnBatch), threshold };
  }

  apply(images: tf.Tensor4D, params: SolarizeParams): tf.Tensor4D {
    return applySolarize(images, params);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: SolarizeParams): tf.Tensor4D {
    assertSolarizeParams(params, planarShape(x), 'RandomSolarize.apply');
    const [c, b, h, w] = x.shape;
    const perRow = new Float32Array(c * b);
    const t = thresholdsOf(params);
    for (let ch = 0; ch < c; ch++) perRow.set(t, ch * b);
    return tf.tidy(() => tf.reshape(solarizeWith(tf.reshape(x, [c * b, h * w]), column(perRow, h * w)), [c, b, h, w]) as tf.Tensor4D);
  }
}

/**
 * One-call random solarization. See {@link RandomSolarize}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomSolarize } from 'selfsup';
 *
 * console.log(randomSolarize(tf.randomUniform([2, 8, 8, 3]), { p: 1, seed: 0 }).shape); // [2, 8, 8, 3]
 * ```
 */
export function randomSolarize(images: tf.Tensor, options: SolarizeOptions & RandomCallOptions & { returnParams: true }): TransformResult<SolarizeParams>;
export function randomSolarize(images: tf.Tensor, options?: SolarizeOptions & RandomCallOptions): tf.Tensor4D;
export function randomSolarize(images: tf.Tensor, options: SolarizeOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<SolarizeParams> {
  return callTransform('randomSolarize', images, options, (o: SolarizeOptions) => {
    readOptions(o, 'randomSolarize');
    return new RandomSolarize(o);
  });
}
