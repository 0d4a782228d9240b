import * as tf from '@tensorflow/tfjs-core';
import type { Seed } from '../core/rng.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, readAppliedOptions, sampleAppliedParams } from './sampling.js';
import { identityPositions, PLANAR, planarResample, planarShape, POSITIONS, type Positions } from './planar.js';
import { resampleSeparable, selectSamples } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of the random flips. */
export interface FlipOptions {
  /**
   * Probability that a sample is flipped.
   * @default 0.5
   */
  p?: number;
  /**
   * Flip all samples or none (one draw for the batch).
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a random flip: which samples are flipped. */
export interface FlipParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is flipped. */
  applied: Uint8Array;
}

/** Source positions of a flip: reversed along one axis for the flipped samples. */
function flipPositions(shape: ImageShape, params: FlipParams, axis: 'rows' | 'cols', fn: string): Positions {
  assertParamsFor(params, { shape }, fn, { applied: [params?.applied, 1] });
  const [b, h, w] = shape;
  const pos = identityPositions(b, h, w);
  const n = axis === 'rows' ? h : w;
  const target = pos[axis];
  for (let s = 0; s < b; s++) if (params.applied[s]) for (let i = 0; i < n; i++) target[s * n + i] = n - 1 - i;
  return pos;
}

function readOptions(options: FlipOptions, fn: string): { p: number; sameOnBatch: boolean } {
  return readAppliedOptions(options, fn, 0.5);
}

/**
 * Samples which samples a random flip flips: one Bernoulli(`p`) draw per
 * sample. The same parameters serve {@link applyHorizontalFlip} and
 * {@link applyVerticalFlip}.
 *
 * @example
 * ```ts
 * import { sampleFlip } from 'selfsup';
 *
 * console.log(sampleFlip([8, 32, 32, 3], 1).applied); // e.g. Uint8Array [1, 0, 0, 1, …]
 * ```
 */
export function sampleFlip(shape: ImageShape, rng: Seed, options: FlipOptions = {}): FlipParams {
  const fn = 'sampleFlip';
  assertSampleArgs(shape, rng, fn);
  return sampleAppliedParams(shape, rng, readOptions(options, fn));
}

/**
 * Mirrors the samples with `params.applied[i] = 1` left–right (exact copies).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyHorizontalFlip } from 'selfsup';
 *
 * const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 4, 1]);
 * applyHorizontalFlip(x, { batchSize: 1, applied: Uint8Array.of(1) }).print(); // [[[4], [3], [2], [1]]]
 * ```
 */
export function applyHorizontalFlip(images: tf.Tensor4D, params: FlipParams): tf.Tensor4D {
  const fn = 'applyHorizontalFlip';
  assertApplyImages(images, fn);
  assertParamsFor(params, images, fn, { applied: [params?.applied, 1] });
  return tf.tidy(() => selectSamples(images, tf.image.flipLeftRight(images) as tf.Tensor4D, params.applied));
}

/**
 * Mirrors the samples with `params.applied[i] = 1` top–bottom (exact copies).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyVerticalFlip } from 'selfsup';
 *
 * const x = tf.tensor4d([1, 2, 3], [1, 3, 1, 1]);
 * applyVerticalFlip(x, { batchSize: 1, applied: Uint8Array.of(1) }).print(); // [[[3]], [[2]], [[1]]]
 * ```
 */
export function applyVerticalFlip(images: tf.Tensor4D, params: FlipParams): tf.Tensor4D {
  const fn = 'applyVerticalFlip';
  assertApplyImages(images, fn);
  assertParamsFor(params, images, fn, { applied: [params?.applied, 1] });
  const pos = flipPositions(images.shape, params, 'rows', fn);
  return tf.tidy(() => resampleSeparable(images, pos.rows, pos.cols, pos.outH, pos.outW));
}

/**
 * The random flips, which differ only in the axis they reverse (not exported
 * from the package). `sample` draws exactly what {@link sampleFlip} draws.
 */
abstract class RandomFlip<Name extends string> extends BaseTransform<FlipParams> {
  readonly requiresUnitRange = false;
  private readonly options: { p: number; sameOnBatch: boolean };

  protected constructor(
    readonly name: Name,
    private readonly axis: 'rows' | 'cols',
    options: FlipOptions,
  ) {
    super();
    this.options = readOptions(options, name);
  }

  sample(inputShape: ImageShape, rng: Seed): FlipParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleAppliedParams(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: FlipParams): tf.Tensor4D {
    return this.axis === 'cols' ? applyHorizontalFlip(images, params) : applyVerticalFlip(images, params);
  }

  /** @internal */
  [POSITIONS](shape: ImageShape, params: FlipParams): Positions {
    return flipPositions(shape, params, this.axis, `${this.name}.apply`);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: FlipParams): tf.Tensor4D {
    return planarResample(x, this[POSITIONS](planarShape(x), params));
  }
}

/**
 * Random horizontal flip with probability `p` per sample (torchvision's
 * `RandomHorizontalFlip`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomHorizontalFlip } from 'selfsup';
 *
 * const { images, params } = new RandomHorizontalFlip({ p: 0.5 }).run(tf.randomUniform([4, 8, 8, 3]), { seed: 0 });
 * console.log(images.shape, params.applied);
 * ```
 */
export class RandomHorizontalFlip extends RandomFlip<'RandomHorizontalFlip'> {
  constructor(options: FlipOptions = {}) {
    super('RandomHorizontalFlip', 'cols', options);
  }
}

/**
 * Random vertical flip with probability `p` per sample (torchvision's
 * `RandomVerticalFlip`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomVerticalFlip } from 'selfsup';
 *
 * const out = new RandomVerticalFlip({ p: 1 }).run(tf.randomUniform([2, 8, 8, 3]), { seed: 0 }).images;
 * console.log(out.shape); // [2, 8, 8, 3]
 * ```
 */
export class RandomVerticalFlip extends RandomFlip<'RandomVerticalFlip'> {
  constructor(options: FlipOptions = {}) {
    super('RandomVerticalFlip', 'rows', options);
  }
}

/**
 * One-call random horizontal flip. See {@link RandomHorizontalFlip}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomHorizontalFlip } from 'selfsup';
 *
 * const out = randomHorizontalFlip(tf.randomUniform([4, 8, 8, 3]), { seed: 1 });
 * console.log(out.shape); // [4, 8, 8, 3]
 * ```
 */
export function randomHorizontalFlip(images: tf.Tensor, options: FlipOptions & RandomCallOptions & { returnParams: true }): TransformResult<FlipParams>;
export function randomHorizontalFlip(images: tf.Tensor, options?: FlipOptions & RandomCallOptions): tf.Tensor4D;
export function randomHorizontalFlip(images: tf.Tensor, options: FlipOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<FlipParams> {
  return callTransform('randomHorizontalFlip', images, options, (o: FlipOptions) => {
    readOptions(o, 'randomHorizontalFlip');
    return new RandomHorizontalFlip(o);
  });
}

/**
 * One-call random vertical flip. See {@link RandomVerticalFlip}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomVerticalFlip } from 'selfsup';
 *
 * const { images, params } = randomVerticalFlip(tf.randomUniform([4, 8, 8, 3]), { seed: 1, returnParams: true });
 * console.log(images.shape, params.applied);
 * ```
 */
export function randomVerticalFlip(images: tf.Tensor, options: FlipOptions & RandomCallOptions & { returnParams: true }): TransformResult<FlipParams>;
export function randomVerticalFlip(images: tf.Tensor, options?: FlipOptions & RandomCallOptions): tf.Tensor4D;
export function randomVerticalFlip(images: tf.Tensor, options: FlipOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<FlipParams> {
  return callTransform('randomVerticalFlip', images, options, (o: FlipOptions) => {
    readOptions(o, 'randomVerticalFlip');
    return new RandomVerticalFlip(o);
  });
}
