import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { ValueRangeError } from '../core/errors.js';
import { buildMlp } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link classificationHead}. */
export interface ClassificationHeadOptions {
  /** Size of the features the head reads. Required. */
  inputDim: number;
  /** Number of classes (of the pretext task or the downstream task). Required. */
  numClasses: number;
  /**
   * Widths of hidden layers (linear → [BN] → ReLU); empty for a linear classifier.
   * @default []
   */
  hiddenDims?: readonly number[];
  /**
   * Batch norm after each hidden linear layer.
   * @default false
   */
  batchNorm?: boolean;
  /**
   * Append a softmax, so the model outputs probabilities for tfjs-layers'
   * `categoricalCrossentropy` loss in `fit`. Off, it outputs logits (for
   * `tf.losses.softmaxCrossEntropy` or selfsup's losses).
   * @default false
   */
  softmax?: boolean;
  /**
   * Seed of the weight initialisation.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Name of the returned model.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/**
 * A generic classifier on top of features, as a `tf.Sequential`: a linear layer
 * (the linear-evaluation protocol of Zhang et al. 2016 and every SSL paper since),
 * or an MLP with `hiddenDims`, for the pretext tasks that classify
 * (RotNet's 4 rotations, jigsaw permutations, DeepCluster's pseudo-labels).
 *
 * The output layer starts at `N(0, 0.01²)` with zero bias, as DINO's and MAE's
 * linear classifiers; hidden layers use He-normal initialisation. All draws
 * come from `seed`.
 *
 * @returns a model `[B, inputDim]` → `[B, numClasses]` logits (probabilities with `softmax: true`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { classificationHead } from 'selfsup';
 *
 * const rotation = classificationHead({ inputDim: 16, numClasses: 4, hiddenDims: [32], seed: 0 });
 * const logits = rotation.apply(tf.randomNormal([8, 16])) as tf.Tensor;
 * console.log(logits.shape); // [8, 4]
 * ```
 */
export function classificationHead(options: ClassificationHeadOptions): tfl.Sequential {
  const fn = 'classificationHead';
  assertBackendReady(fn);
  options ??= {} as ClassificationHeadOptions;
  assertKnownOptions(options, ['inputDim', 'numClasses', 'hiddenDims', 'batchNorm', 'softmax', 'seed', 'name'], fn);
  const { inputDim, numClasses, hiddenDims = [], batchNorm = false, softmax = false } = options;
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  if (!Array.isArray(hiddenDims) || !hiddenDims.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new ValueRangeError(fn, 'options.hiddenDims', 'be an array of integers ≥ 1', describeValue(hiddenDims));
  }
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  assertOneOf(softmax, [true, false], fn, 'options.softmax');
  const model = buildMlp(
    {
      fn,
      inputDim,
      hidden: hiddenDims,
      output: numClasses,
      hiddenBatchNorm: batchNorm,
      outputBatchNorm: 'none',
      activation: 'relu',
      hiddenInit: 'he',
      outputInit: 'linearProbe',
      ...(options.name !== undefined ? { name: options.name } : {}),
    },
    createRng(options.seed, fn, 'options.seed'),
  );
  if (softmax) model.add(tfl.layers.activation({ activation: 'softmax' }));
  return model;
}
