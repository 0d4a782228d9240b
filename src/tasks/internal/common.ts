/**
 * Internals shared by the pretext tasks: option checks, encoder shape
 * discovery, optimizer steps over a subset of variables.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../../core/errors.js';
import { assertImages } from '../../core/images.js';
import { assertMemoryFits, type PlannedTensor } from '../../core/memory-budget.js';
import { assertSeed, Rng } from '../../core/rng.js';
import { assertOneOf, assertPositive, describeValue, formatShape, isTensor } from '../../core/validate.js';
import type { ModelWeights } from '../../train/variables.js';
import { encodeImages, type ImageEncoder } from '../pretext-task.js';

/** Throws unless `optimizer` is absent or looks like a `tf.Optimizer`. */
export function assertOptimizer(optimizer: unknown, fn: string): void {
  if (optimizer === undefined) return;
  if (typeof optimizer !== 'object' || optimizer === null || typeof (optimizer as tf.Optimizer).minimize !== 'function') {
    throw new InvalidArgumentError(fn, 'options.optimizer', 'be a tf.Optimizer (e.g. tf.train.adam(1e-3))', describeValue(optimizer));
  }
}

/** Throws unless `encoder` can be applied to images and exposes weights. */
export function assertEncoder(encoder: unknown, fn: string, arg = 'encoder'): asserts encoder is ImageEncoder {
  const ok =
    typeof encoder === 'object' &&
    encoder !== null &&
    typeof (encoder as ImageEncoder).apply === 'function' &&
    ('trainableWeights' in encoder || 'trainableVariables' in encoder);
  if (!ok) {
    throw new InvalidArgumentError(
      fn,
      arg,
      'be an image encoder (a tfjs-layers model such as convEncoder, or a tinyVit)',
      describeValue(encoder),
    );
  }
}

/**
 * Throws a `ResourceError` naming `arg` unless layers with these weight
 * shapes fit on the backend while training: the weights, their gradients and
 * two optimizer slots (Adam's), plus any `extra` tensors. Called by the
 * constructors before they build anything.
 */
export function assertTrainingFits(fn: string, arg: string, weights: readonly PlannedTensor[], extra: readonly PlannedTensor[] = []): void {
  const training = weights.map((w) =>
    Array.isArray(w) ? { shape: w as readonly number[], count: 4 } : { ...(w as { shape: readonly number[]; count?: number }), count: 4 * ((w as { count?: number }).count ?? 1) },
  );
  assertMemoryFits(fn, arg, [...training, ...extra]);
}

/** Kernel shapes of an MLP `inputDim → hidden × (numLayers − 1) → outputDim` (repeated hidden layers as a count). */
export function mlpWeightShapes(inputDim: number, hiddenDim: number, numLayers: number, outputDim: number): PlannedTensor[] {
  if (numLayers <= 1) return [[inputDim, outputDim]];
  return [[inputDim, hiddenDim], { shape: [hiddenDim, hiddenDim], count: numLayers - 2 }, [hiddenDim, outputDim]];
}

/**
 * Throws unless each of `keys` in `options` is absent or a model a task can
 * run (a tfjs-layers model, a selfsup ViT or decoder: `apply` and weights).
 * Checked before the constructor builds anything.
 */
export function assertModelOptions(options: object, keys: readonly string[], fn: string): void {
  for (const key of keys) {
    const m = (options as Record<string, unknown>)[key];
    if (m === undefined) continue;
    const ok =
      typeof m === 'object' &&
      m !== null &&
      typeof (m as { apply?: unknown }).apply === 'function' &&
      ('trainableWeights' in m || 'trainableVariables' in m || 'variables' in m);
    if (!ok) throw new InvalidArgumentError(fn, `options.${key}`, 'be a model (a tfjs-layers model, or a selfsup ViT/decoder), or be omitted', describeValue(m));
  }
}

/**
 * The checks every task constructor runs right after its known-options
 * check, before it builds anything: the seed, `onNonFinite`, and the model
 * options (`modelKeys`, see {@link assertModelOptions}).
 */
export function checkTaskOptions(options: object, fn: string, modelKeys: readonly string[] = []): void {
  const o = options as { seed?: unknown; onNonFinite?: unknown };
  if (o.seed !== undefined && !(o.seed instanceof Rng)) assertSeed(o.seed, fn, 'options.seed');
  if (o.onNonFinite !== undefined) assertOneOf(o.onNonFinite, ['throw', 'skip'] as const, fn, 'options.onNonFinite');
  assertModelOptions(options, modelKeys, fn);
}

/** Checks the common options: a learning rate > 0 and an optimizer. */
export function checkTrainingOptions(options: { learningRate?: number; optimizer?: unknown }, fn: string, defaultLr: number): number {
  const { learningRate = defaultLr } = options;
  assertPositive(learningRate, fn, 'options.learningRate');
  assertOptimizer(options.optimizer, fn);
  return learningRate;
}

/** `[H, W, C]` an encoder takes, read from a tfjs-layers model's input or a ViT; null if it cannot be told. */
export function encoderInputShape(encoder: ImageEncoder): [number, number, number] | null {
  const e = encoder as unknown as {
    inputs?: { shape: (number | null)[] }[];
    imageSize?: [number, number];
    channels?: number;
  };
  if (Array.isArray(e.inputs) && e.inputs.length === 1) {
    const s = e.inputs[0]!.shape.slice(1);
    if (s.length === 3 && s.every((d) => typeof d === 'number' && d > 0)) return s as [number, number, number];
  }
  if (Array.isArray(e.imageSize) && typeof e.channels === 'number') return [e.imageSize[0], e.imageSize[1], e.channels];
  return null;
}

/** The encoder's feature size F, found by encoding one blank image of `shape`. */
export function encoderFeatureDim(encoder: ImageEncoder, shape: readonly [number, number, number]): number {
  return tf.tidy(() => encodeImages(encoder, tf.zeros([1, ...shape]) as tf.Tensor4D, false).shape[1]);
}

/** `options.imageShape`, or the encoder's input shape; throws when neither is known. */
export function resolveImageShape(
  encoder: ImageEncoder,
  given: readonly number[] | undefined,
  fn: string,
): [number, number, number] {
  if (given !== undefined) {
    const ok = Array.isArray(given) && given.length === 3 && given.every((d) => Number.isInteger(d) && d >= 1);
    if (!ok) throw new InvalidArgumentError(fn, 'options.imageShape', 'be [H, W, C] with integers ≥ 1', describeValue(given));
    return [given[0]!, given[1]!, given[2]!];
  }
  const found = encoderInputShape(encoder);
  if (found === null) {
    throw new InvalidArgumentError(
      fn,
      'options.imageShape',
      "be given when the encoder's input shape cannot be read from it",
      'undefined',
    );
  }
  return found;
}

/** Throws unless `images` is a float32 NHWC batch of `shape` (any batch size ≥ `minBatch`). */
export function assertImageBatch(
  images: unknown,
  shape: readonly [number, number, number],
  fn: string,
  arg = 'images',
  minBatch = 1,
): asserts images is tf.Tensor4D {
  assertImages(images, fn, arg);
  const [b, h, w, c] = images.shape;
  if (h !== shape[0] || w !== shape[1] || c !== shape[2] || b < minBatch) {
    throw new ShapeError(
      fn,
      arg,
      `have shape [B, ${shape.join(', ')}] with B ≥ ${minBatch}`,
      formatShape(images.shape),
    );
  }
}

/** Flattens `[B, ...]` encoder output to `[B, F]`. */
export function flatFeatures(x: tf.Tensor): tf.Tensor2D {
  return (x.rank === 2 ? x : tf.reshape(x, [x.shape[0]!, -1])) as tf.Tensor2D;
}

/** Runs one optimizer step of `optimizer` on `loss` over `variables`, returning the loss value. */
export function minimizeWith(optimizer: tf.Optimizer, loss: () => tf.Scalar, variables: tf.Variable[]): number {
  const value = optimizer.minimize(loss, true, variables);
  const out = value ? (value.dataSync()[0] as number) : NaN;
  value?.dispose();
  return out;
}

/** A second-modality encoder (text tokens, a 1-D signal, …): maps a `[B, ...]` tensor to `[B, F]` features. */
export type ModalityEncoder = ModelWeights & { apply(inputs: tf.Tensor, kwargs?: { training?: boolean }): unknown };

/** Throws unless `encoder` is a tfjs-layers model with one output of known width; returns that width. */
export function modalityFeatureDim(encoder: unknown, fn: string, arg: string): number {
  const e = encoder as { apply?: unknown; outputs?: { shape: (number | null)[] }[]; trainableWeights?: unknown };
  const width = Array.isArray(e?.outputs) && e.outputs.length === 1 ? e.outputs[0]!.shape.at(-1) : undefined;
  if (typeof e?.apply !== 'function' || e.trainableWeights === undefined || typeof width !== 'number') {
    throw new InvalidArgumentError(
      fn,
      arg,
      'be a single-output tfjs-layers model mapping [B, ...] inputs to [B, F] features (e.g. tokenEncoder, mlpEncoder)',
      describeValue(encoder),
    );
  }
  return width;
}

/** Runs a second-modality encoder, flattening its output to `[B, F]`. */
export function encodeModality(encoder: ModalityEncoder, inputs: tf.Tensor, training: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const out = encoder.apply(inputs, { training }) as tf.Tensor | tf.Tensor[];
    return flatFeatures(Array.isArray(out) ? out[0]! : out);
  });
}

/** Throws unless `x` is a tensor with `batch` rows. */
export function assertPaired(x: unknown, batch: number, fn: string, arg: string, what: string): asserts x is tf.Tensor {
  if (!isTensor(x)) {
    throw new InvalidArgumentError(fn, arg, `be ${what}`, describeValue(x));
  }
  if (x.rank < 1 || x.shape[0] !== batch) {
    throw new ShapeError(fn, arg, `have ${batch} rows, one per image (${what})`, formatShape(x.shape));
  }
}
