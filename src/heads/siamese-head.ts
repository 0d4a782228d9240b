import * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link siameseHead}. */
export interface SiameseHeadOptions {
  /** Number of branches K whose features are combined (9 tiles for jigsaw, 2 patches for context prediction). Required. */
  branches: number;
  /** Feature size F of each branch (the shared encoder's output). Required. */
  inputDim: number;
  /** Number of classes (permutations, relative positions). Required. */
  numClasses: number;
  /**
   * Width of a linear layer (+ReLU) applied to every branch with shared
   * weights before concatenation (jigsaw's per-tile fc6); 0 for none.
   * @default 0
   */
  branchDim?: number;
  /**
   * Widths of the hidden layers (+ReLU) after concatenation (fc7 of both papers).
   * @default [256]
   */
  hiddenDims?: readonly number[];
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
 * The late-fusion classifier of the patch-based pretext tasks: K patches go
 * through the same (siamese) encoder, and this head combines their features
 * in order to classify their arrangement. Doersch et al. ("Unsupervised Visual
 * Representation Learning by Context Prediction", ICCV 2015) fuse two patches
 * after fc6 and classify 8 relative positions with fc7–fc8; Noroozi & Favaro
 * ("Unsupervised Learning of Visual Representations by Solving Jigsaw
 * Puzzles", ECCV 2016) pass each of 9 tiles through a shared fc6, concatenate,
 * and classify the permutation with fc7–fc8.
 *
 * Input `[B, K, F]` (branch features stacked in their order); optional shared
 * per-branch linear layer + ReLU (`branchDim`), flatten to `[B, K·width]`,
 * `[linear → ReLU]` for each of `hiddenDims`, then a linear layer to
 * `numClasses` logits. Hidden layers start He-normal, the output layer at
 * `N(0, 0.01²)`, biases at zero, from `seed`.
 *
 * @returns a model `[B, K, F]` → `[B, numClasses]` logits.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { siameseHead } from 'selfsup';
 *
 * const jigsaw = siameseHead({ branches: 9, inputDim: 16, branchDim: 8, hiddenDims: [32], numClasses: 100, seed: 0 });
 * const logits = jigsaw.apply(tf.zeros([2, 9, 16])) as tf.Tensor;
 * console.log(logits.shape); // [2, 100]
 * ```
 */
export function siameseHead(options: SiameseHeadOptions): tfl.Sequential {
  const fn = 'siameseHead';
  assertBackendReady(fn);
  options ??= {} as SiameseHeadOptions;
  assertKnownOptions(options, ['branches', 'inputDim', 'numClasses', 'branchDim', 'hiddenDims', 'seed', 'name'], fn);
  const { branches, inputDim, numClasses, branchDim = 0, hiddenDims = [256] } = options;
  assertInteger(branches, fn, 'options.branches', { min: 1 });
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  assertInteger(branchDim, fn, 'options.branchDim', { min: 0 });
  if (!Array.isArray(hiddenDims) || !hiddenDims.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new ValueRangeError(fn, 'options.hiddenDims', 'be an array of integers ≥ 1', describeValue(hiddenDims));
  }
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  if (branchDim > 0) {
    // A dense layer on a rank-3 input acts on the last axis: the same weights for every branch.
    const shared = tfl.layers.dense({ units: branchDim, activation: 'relu', inputShape: [branches, inputDim] });
    model.add(shared);
    initKernelLayer(shared, rng, 'he');
    model.add(tfl.layers.flatten());
  } else {
    model.add(tfl.layers.flatten({ inputShape: [branches, inputDim] }));
  }
  for (const units of hiddenDims) {
    const dense = tfl.layers.dense({ units, activation: 'relu' });
    model.add(dense);
    initKernelLayer(dense, rng, 'he');
  }
  const out = tfl.layers.dense({ units: numClasses });
  model.add(out);
  initKernelLayer(out, rng, 'linearProbe');
  return model;
}
