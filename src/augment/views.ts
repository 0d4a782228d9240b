import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, assertRangePair, describeValue, onBehalfOf } from '../core/validate.js';
import { assertTransform, compose, type ComposeParams } from './compose.js';
import { readImages } from './image-input.js';
import { RandomResizedCrop } from './resized-crop.js';
import { assertOutputsFit, commonChannels, type RandomCallOptions, type Transform } from './transform.js';

/** What {@link twoViews} returns with `returnParams: true`. */
export interface TwoViewsResult {
  /** The two views. */
  views: [tf.Tensor4D, tf.Tensor4D];
  /** Parameters of each view: `pipelineA.apply(images, params[0])` reproduces `views[0]`. */
  params: [unknown, unknown];
}

function isTransform(x: unknown): x is Transform {
  return typeof x === 'object' && x !== null && typeof (x as Transform).sample === 'function' && typeof (x as Transform).apply === 'function';
}

/**
 * Two independently augmented views of each image, the input of every
 * joint-embedding method (SimCLR, MoCo, BYOL, SimSiam, Barlow Twins, VICReg).
 * With one pipeline both views use it (SimCLR); with two, view 1 uses
 * `pipelineA` and view 2 `pipelineB` (BYOL's asymmetric blur and
 * solarization). Both parameter sets come from one seeded stream.
 *
 * @param images - `[B, H, W, C]` float32 in [0, 1] (or `inputRange: 255`).
 * @returns `[view1, view2]`, or `{ views, params }` with `returnParams: true`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { simclrAugment, twoViews } from 'selfsup';
 *
 * const [v1, v2] = twoViews(tf.randomUniform([8, 32, 32, 3]), simclrAugment(), { seed: 0 });
 * console.log(v1.shape, v2.shape); // [8, 32, 32, 3] twice
 * ```
 */
export function twoViews(images: tf.Tensor, pipelineA: Transform, options: RandomCallOptions & { returnParams: true }): TwoViewsResult;
export function twoViews(images: tf.Tensor, pipelineA: Transform, pipelineB: Transform, options: RandomCallOptions & { returnParams: true }): TwoViewsResult;
export function twoViews(images: tf.Tensor, pipelineA: Transform, options?: RandomCallOptions): [tf.Tensor4D, tf.Tensor4D];
export function twoViews(images: tf.Tensor, pipelineA: Transform, pipelineB?: Transform, options?: RandomCallOptions): [tf.Tensor4D, tf.Tensor4D];
export function twoViews(
  images: tf.Tensor,
  pipelineA: Transform,
  pipelineBOrOptions?: Transform | RandomCallOptions,
  maybeOptions?: RandomCallOptions,
): [tf.Tensor4D, tf.Tensor4D] | TwoViewsResult {
  const fn = 'twoViews';
  assertTransform(pipelineA, fn, 'pipelineA');
  const pipelineB = isTransform(pipelineBOrOptions) ? pipelineBOrOptions : pipelineA;
  const options = (isTransform(pipelineBOrOptions) ? maybeOptions : pipelineBOrOptions) ?? {};
  if (pipelineBOrOptions !== undefined && !isTransform(pipelineBOrOptions) && maybeOptions !== undefined) {
    throw new InvalidArgumentError(fn, 'pipelineB', 'be a Transform', describeValue(pipelineBOrOptions));
  }
  assertKnownOptions(options, ['seed', 'inputRange', 'returnParams'], fn);
  const { inputRange = 1, returnParams = false } = options;
  assertOneOf(inputRange, [1, 255], fn, 'options.inputRange');
  const channels = commonChannels([pipelineA, pipelineB]);
  const x = readImages(images, fn, {
    inputRange,
    checkRange: pipelineA.requiresUnitRange || pipelineB.requiresUnitRange || inputRange === 255,
    ...(channels ? { channels } : {}),
  });
  try {
    const rng = createRng(options.seed, fn, 'options.seed');
    const pa = onBehalfOf(fn, () => pipelineA.sample(x.shape, rng), pipelineA.name);
    const pb = onBehalfOf(fn, () => pipelineB.sample(x.shape, rng), pipelineB.name);
    // Parameters are cheap; the outputs' bytes are checked before any image work.
    onBehalfOf(fn, () => assertOutputsFit(fn, x.shape, [pipelineA.outputShape(x.shape), pipelineB.outputShape(x.shape)]));
    // In one scope: a pipeline that throws halfway leaves none of its intermediates behind.
    const views = tf.tidy(() => [pipelineA.apply(x, pa), pipelineB.apply(x, pb)]) as [tf.Tensor4D, tf.Tensor4D];
    return returnParams ? { views, params: [pa, pb] } : views;
  } finally {
    if (x !== images) x.dispose();
  }
}

/** One group of crops of {@link multiCrop} (the global or the local crops). */
export interface CropGroup {
  /** Number of crops. */
  count: number;
  /** Output side, or `[height, width]`. */
  size: number | readonly [number, number];
  /** Area range of the random resized crop, as a fraction of the image. */
  scale: readonly [number, number];
  /**
   * Aspect-ratio range of the crop.
   * @default [3/4, 4/3]
   */
  ratio?: readonly [number, number];
  /**
   * Transform(s) applied after the crop: one for every crop of the group,
   * or one per crop (DINO's two global crops differ).
   * @default none
   */
  transforms?: Transform | readonly Transform[];
}

/** Options of {@link multiCrop}: the crop groups. */
export interface MultiCropOptions {
  /** The large crops (SwAV, DINO: 2 at 224 px, scale [0.4, 1] in DINO). */
  global: CropGroup;
  /**
   * The small crops (DINO: 8 at 96 px, scale [0.05, 0.4]).
   * @default none
   */
  local?: CropGroup;
}

/** The views {@link multiCrop} returns. */
export interface MultiCropViews {
  /** One `[B, size, size, C]` batch per global crop. */
  global: tf.Tensor4D[];
  /** One batch per local crop. */
  local: tf.Tensor4D[];
}

/** Parameters of {@link multiCrop}: the pipeline parameters of each crop. */
export interface MultiCropParams {
  /** One record per global crop. */
  global: ComposeParams[];
  /** One record per local crop. */
  local: ComposeParams[];
}

function groupPipelines(group: CropGroup | undefined, fn: string, arg: string): Transform<ComposeParams>[] {
  if (group === undefined) return [];
  assertKnownOptions(group, ['count', 'size', 'scale', 'ratio', 'transforms'], fn, arg);
  assertInteger(group.count, fn, `${arg}.count`, { min: 0, max: 64 });
  assertRangePair(group.scale, fn, `${arg}.scale`, { min: 0, max: 1 });
  const after = group.transforms;
  let perCrop: Transform[];
  if (after === undefined) perCrop = [];
  else if (Array.isArray(after)) {
    if (after.length !== group.count) {
      throw new InvalidArgumentError(fn, `${arg}.transforms`, `be one transform or ${group.count} (one per crop)`, `${after.length} transforms`);
    }
    after.forEach((t, i) => assertTransform(t, fn, `${arg}.transforms[${i}]`));
    perCrop = [...(after as Transform[])];
  } else {
    assertTransform(after, fn, `${arg}.transforms`);
    perCrop = [after as Transform];
  }
  const crop = new RandomResizedCrop({ size: group.size, scale: group.scale, ...(group.ratio ? { ratio: group.ratio } : {}) });
  return Array.from({ length: group.count }, (_, i) => {
    const t = perCrop.length === 0 ? undefined : (perCrop[perCrop.length === 1 ? 0 : i] as Transform);
    return compose(t ? [crop, t] : [crop]);
  });
}

/**
 * Multi-crop views (Caron et al.: SwAV 2020, DINO 2021): `global.count`
 * large random resized crops and `local.count` small ones of every image,
 * each followed by its own augmentation pipeline. {@link dinoMultiCrop}
 * gives DINO's settings.
 *
 * @returns `{ global, local }` arrays of batches, or `{ views, params }` with
 * `returnParams: true` (replay with {@link applyMultiCrop}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { multiCrop, RandomHorizontalFlip } from 'selfsup';
 *
 * const views = multiCrop(tf.randomUniform([2, 64, 64, 3]), {
 *   global: { count: 2, size: 32, scale: [0.4, 1], transforms: new RandomHorizontalFlip() },
 *   local: { count: 4, size: 16, scale: [0.05, 0.4] },
 *   seed: 0,
 * });
 * console.log(views.global.length, views.local.length, views.local[0].shape); // 2 4 [2, 16, 16, 3]
 * ```
 */
export function multiCrop(images: tf.Tensor, options: MultiCropOptions & RandomCallOptions & { returnParams: true }): { views: MultiCropViews; params: MultiCropParams };
export function multiCrop(images: tf.Tensor, options: MultiCropOptions & RandomCallOptions): MultiCropViews;
export function multiCrop(
  images: tf.Tensor,
  options: MultiCropOptions & RandomCallOptions,
): MultiCropViews | { views: MultiCropViews; params: MultiCropParams } {
  const fn = 'multiCrop';
  assertKnownOptions(options, ['global', 'local', 'seed', 'inputRange', 'returnParams'], fn);
  if (options?.global === undefined) throw new InvalidArgumentError(fn, 'options.global', 'be a crop group { count, size, scale }', 'undefined');
  const globals = groupPipelines(options.global, fn, 'options.global');
  const locals = groupPipelines(options.local, fn, 'options.local');
  const { inputRange = 1, returnParams = false } = options;
  assertOneOf(inputRange, [1, 255], fn, 'options.inputRange');
  const all = [...globals, ...locals];
  const channels = commonChannels(all);
  const x = readImages(images, fn, { inputRange, checkRange: all.some((t) => t.requiresUnitRange) || inputRange === 255, ...(channels ? { channels } : {}) });
  try {
    const rng = createRng(options.seed, fn, 'options.seed');
    const { views, params } = onBehalfOf(fn, () => drawCrops(x, globals, locals, rng));
    return returnParams ? { views, params } : views;
  } finally {
    if (x !== images) x.dispose();
  }
}

function drawCrops(
  x: tf.Tensor4D,
  globals: readonly Transform<ComposeParams>[],
  locals: readonly Transform<ComposeParams>[],
  rng: Rng,
): { views: MultiCropViews; params: MultiCropParams } {
  const all = [...globals, ...locals];
  assertOutputsFit('multiCrop', x.shape, all.map((t) => t.outputShape(x.shape)));
  const params = all.map((t) => t.sample(x.shape, rng));
  // In one scope: a pipeline that throws halfway leaves none of its intermediates behind.
  const outs = tf.tidy(() => all.map((t, i) => t.apply(x, params[i] as ComposeParams)));
  return {
    views: { global: outs.slice(0, globals.length), local: outs.slice(globals.length) },
    params: { global: params.slice(0, globals.length), local: params.slice(globals.length) },
  };
}

/**
 * {@link multiCrop} of a batch the caller has checked (float32 in [0, 1]):
 * no range check, so no synchronous read (DINO's step). Not exported from
 * the package.
 */
export function multiCropOfChecked(images: tf.Tensor4D, options: MultiCropOptions, seed: Seed, fn: string): MultiCropViews {
  const globals = groupPipelines(options.global, fn, 'options.global');
  const locals = groupPipelines(options.local, fn, 'options.local');
  return drawCrops(images, globals, locals, createRng(seed, fn, 'seed')).views;
}

/**
 * Replays {@link multiCrop} with the parameters it returned (same `options`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyMultiCrop, multiCrop } from 'selfsup';
 *
 * const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
 * const spec = { global: { count: 2, size: 16, scale: [0.4, 1] as [number, number] } };
 * const { views, params } = multiCrop(x, { ...spec, seed: 1, returnParams: true });
 * const again = applyMultiCrop(x, spec, params); // identical to views
 * console.log(again.global.length); // 2
 * ```
 */
export function applyMultiCrop(images: tf.Tensor4D, options: MultiCropOptions, params: MultiCropParams): MultiCropViews {
  const fn = 'applyMultiCrop';
  assertKnownOptions(options, ['global', 'local'], fn);
  const globals = groupPipelines(options.global, fn, 'options.global');
  const locals = groupPipelines(options.local, fn, 'options.local');
  if (params?.global?.length !== globals.length || (params.local?.length ?? 0) !== locals.length) {
    throw new InvalidArgumentError(fn, 'params', `hold ${globals.length} global and ${locals.length} local records (from multiCrop with the same options)`, describeValue(params));
  }
  return {
    global: globals.map((t, i) => t.apply(images, params.global[i] as ComposeParams)),
    local: locals.map((t, i) => t.apply(images, params.local[i] as ComposeParams)),
  };
}
