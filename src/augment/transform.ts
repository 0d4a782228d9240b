import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertKnownOptions, assertOneOf, onBehalfOf } from '../core/validate.js';
import { readImages } from './image-input.js';

/** The shape of an NHWC image batch, `[B, H, W, C]` (what `images.shape` holds). */
export type ImageShape = readonly [number, number, number, number];

/** Options of {@link Transform.run}. */
export interface TransformRunOptions {
  /**
   * Seed of the parameter sampling: a number, or an {@link core!Rng} whose stream
   * is continued. The same seed gives the same output on every backend.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Value range of the input: `1` for float32 images in [0, 1], `255` for
   * int32- or float32-valued images in [0, 255] (converted to float32 [0, 1]
   * first; the output is always float32 in [0, 1]).
   * @default 1
   */
  inputRange?: 1 | 255;
}

/** What {@link Transform.run} returns: the output and the parameters that produced it. */
export interface TransformResult<P> {
  /** The transformed images (float32 NHWC). */
  images: tf.Tensor4D;
  /** The sampled parameters: `transform.apply(input, params)` reproduces `images` exactly. */
  params: P;
}

/**
 * A random image transform split as in kornia: `sample` draws the parameters
 * for a batch (plain typed arrays, one entry per sample), `apply` is a pure,
 * deterministic function of the images and those parameters, and `run` does
 * both. Replaying the parameters returned by `run` with `apply` reproduces the
 * output exactly, which is how two views can share a crop, how a gallery
 * shows what a pipeline did, and how tests pin the randomness.
 *
 * Every transform in selfsup (the classes such as {@link RandomResizedCrop}
 * and {@link ColorJitter}, and the combinators {@link compose},
 * {@link randomApply}, {@link randomOrder}) implements this interface, so they
 * nest freely. To write your own, extend {@link BaseTransform}.
 *
 * Images are float32 NHWC. A transform either keeps the shape or documents
 * the output shape through `outputShape`.
 *
 * @typeParam P - the parameter record of the transform.
 */
export interface Transform<P = unknown> {
  /** Name used in error messages, e.g. `'ColorJitter'`. */
  readonly name: string;
  /**
   * Whether the transform needs pixel values in [0, 1] (colour operations);
   * `run` checks the input range once when it does.
   */
  readonly requiresUnitRange: boolean;
  /**
   * The channel counts the transform takes (`undefined`: any). `run`, the
   * one-call functions and the view makers check them first, so a wrong
   * input (an NCHW batch, say) is reported under the function the user
   * called rather than an inner `apply…`.
   */
  readonly channels?: readonly number[] | undefined;
  /** The output shape for an input of shape `inputShape` (throws if the input does not fit). */
  outputShape(inputShape: ImageShape): ImageShape;
  /** Draws the parameters for a batch of shape `inputShape` from `rng`. */
  sample(inputShape: ImageShape, rng: Seed): P;
  /** Applies the transform with the given parameters (pure; replayable). */
  apply(images: tf.Tensor4D, params: P): tf.Tensor4D;
  /** Samples (with `options.seed`) and applies in one call. */
  run(images: tf.Tensor, options?: TransformRunOptions): TransformResult<P>;
}

/**
 * Base class of selfsup's transforms: subclasses implement `sample`, `apply`
 * and (when they change the size) `outputShape`; `run` is shared.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { BaseTransform, createRng, type ImageShape, type Rng } from 'selfsup';
 *
 * // Random brightness scaling, with one factor per sample.
 * class RandomScale extends BaseTransform<{ factors: Float32Array }> {
 *   readonly name = 'RandomScale';
 *   readonly requiresUnitRange = true;
 *   sample(shape: ImageShape, seed: number | Rng) {
 *     const rng = createRng(seed);
 *     return { factors: Float32Array.from({ length: shape[0] }, () => rng.uniform(0.5, 1)) };
 *   }
 *   apply(images: tf.Tensor4D, params: { factors: Float32Array }) {
 *     return tf.tidy(() => tf.mul(images, tf.tensor4d(params.factors, [params.factors.length, 1, 1, 1])));
 *   }
 * }
 * const { images, params } = new RandomScale().run(tf.ones([2, 4, 4, 3]), { seed: 1 });
 * console.log(images.shape, params.factors);
 * ```
 */
export abstract class BaseTransform<P> implements Transform<P> {
  abstract readonly name: string;
  abstract readonly requiresUnitRange: boolean;

  /** The input shape, by default (size-preserving transforms). */
  outputShape(inputShape: ImageShape): ImageShape {
    return inputShape;
  }

  abstract sample(inputShape: ImageShape, rng: Seed): P;

  abstract apply(images: tf.Tensor4D, params: P): tf.Tensor4D;

  run(images: tf.Tensor, options: TransformRunOptions = {}): TransformResult<P> {
    return runTransform(this, images, options, `${this.name}.run`);
  }
}

/**
 * Throws a `ResourceError` unless the outputs of an augmentation of a batch
 * of `inputShape` fit on the backend (each with two temporaries of its size:
 * the planar copies the pipelines work on). Blames `options.size` when an
 * output is larger than the input, else the images. Runs before any work.
 */
export function assertOutputsFit(fn: string, inputShape: ImageShape, outputs: readonly ImageShape[]): void {
  const area = inputShape[1] * inputShape[2];
  const grows = outputs.some((o) => o[1] * o[2] > area);
  assertMemoryFits(fn, grows ? 'options.size' : 'images', outputs.map((shape) => ({ shape, count: 3 })));
}

/**
 * The channel counts every transform of `transforms` takes (`undefined` when
 * none restricts them), for pipelines and view makers.
 */
export function commonChannels(transforms: readonly Transform[]): readonly number[] | undefined {
  let common: readonly number[] | undefined;
  for (const t of transforms) {
    if (!t.channels) continue;
    common = common ? common.filter((c) => t.channels!.includes(c)) : t.channels;
  }
  return common;
}

/** Shared body of `run` and of the one-call convenience functions. */
export function runTransform<P>(
  transform: Transform<P>,
  images: unknown,
  options: TransformRunOptions,
  fn: string,
  rngOverride?: Rng,
): TransformResult<P> {
  assertKnownOptions(options, ['seed', 'inputRange'], fn);
  const { inputRange = 1 } = options;
  assertOneOf(inputRange, [1, 255], fn, 'options.inputRange');
  const input = readImages(images, fn, {
    inputRange,
    checkRange: transform.requiresUnitRange || inputRange === 255,
    ...(transform.channels ? { channels: transform.channels } : {}),
  });
  try {
    const rng = rngOverride ?? createRng(options.seed, fn, 'options.seed');
    return onBehalfOf(
      fn,
      () => {
        const params = transform.sample(input.shape, rng);
        // Parameters are cheap; the outputs' bytes are checked before any image work.
        assertOutputsFit(fn, input.shape, [transform.outputShape(input.shape)]);
        // In a scope: a transform that throws halfway leaves none of its intermediates behind.
        return { images: tf.tidy(() => transform.apply(input, params)), params };
      },
      transform.name,
    );
  } finally {
    if (input !== images) input.dispose();
  }
}

/** Options shared by the one-call random functions (`randomResizedCrop`, `colorJitter`, …). */
export interface RandomCallOptions extends TransformRunOptions {
  /**
   * Return `{ images, params }` instead of the images alone, so the call can
   * be replayed with the matching `apply…` function.
   * @default false
   */
  returnParams?: boolean;
}

/**
 * Body of the one-call functions: splits the call options from the
 * transform's own, builds the transform (which validates its options under
 * the public function's name) and runs it.
 */
export function callTransform<P, O extends object>(
  fn: string,
  images: unknown,
  options: (O & RandomCallOptions) | undefined,
  make: (transformOptions: O) => Transform<P>,
): tf.Tensor4D | TransformResult<P> {
  const { seed, inputRange, returnParams = false, ...rest } = (options ?? {}) as O & RandomCallOptions;
  if (typeof returnParams !== 'boolean') assertOneOf(returnParams, [true, false], fn, 'options.returnParams');
  const transform = make(rest as unknown as O);
  const runOptions: TransformRunOptions = {};
  if (seed !== undefined) runOptions.seed = seed;
  if (inputRange !== undefined) runOptions.inputRange = inputRange;
  const result = runTransform(transform, images, runOptions, fn);
  return returnParams ? result : result.images;
}
