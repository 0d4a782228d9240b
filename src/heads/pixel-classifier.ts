import * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertPositiveIntegers } from './mlp-encoder.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link pixelClassifier}. */
export interface PixelClassifierOptions {
  /** `[h, w, F]` of the feature map it reads (e.g. a conv encoder's map before pooling). Required. */
  inputShape: readonly [number, number, number] | readonly number[];
  /** Number of classes Q per pixel (313 ab bins for colorization, 100 L bins for split-brain). Required. */
  numClasses: number;
  /**
   * Integer factor of the bilinear up-sampling applied first (1: none).
   * @default 2
   */
  upsample?: number;
  /**
   * Channels of the 3×3 convolutions (+ReLU) between the up-sampling and the classifier.
   * @default [64]
   */
  hiddenChannels?: readonly number[];
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
 * A per-pixel classifier on a feature map: the output stage of Zhang et al.'s
 * colorization network ("Colorful Image Colorization", ECCV 2016), which
 * predicts a distribution over Q = 313 ab bins at every position of a reduced
 * grid and upsamples it, and of the split-brain autoencoder's sub-networks
 * (Zhang et al., CVPR 2017). Bilinear ×`upsample`, then 3×3 convolutions
 * (+ReLU) with `hiddenChannels`, then a 1×1 convolution to `numClasses`
 * logits per pixel (no softmax: the colorization and cross-entropy losses take
 * logits).
 *
 * Hidden kernels start He-normal, the classifier Xavier-uniform, biases at
 * zero, all from `seed`.
 *
 * @returns a model `[B, h, w, F]` → `[B, h·upsample, w·upsample, numClasses]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { pixelClassifier } from 'selfsup';
 *
 * const head = pixelClassifier({ inputShape: [4, 4, 16], numClasses: 313, hiddenChannels: [8], seed: 0 });
 * const logits = head.apply(tf.zeros([2, 4, 4, 16])) as tf.Tensor;
 * console.log(logits.shape); // [2, 8, 8, 313]
 * ```
 */
export function pixelClassifier(options: PixelClassifierOptions): tfl.Sequential {
  const fn = 'pixelClassifier';
  assertBackendReady(fn);
  options ??= {} as PixelClassifierOptions;
  assertKnownOptions(options, ['inputShape', 'numClasses', 'upsample', 'hiddenChannels', 'seed', 'name'], fn);
  const { inputShape, numClasses, upsample = 2, hiddenChannels = [64] } = options;
  assertPositiveIntegers(inputShape, fn, 'options.inputShape', 3);
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  assertInteger(upsample, fn, 'options.upsample', { min: 1 });
  if (!Array.isArray(hiddenChannels) || !hiddenChannels.every((c) => Number.isInteger(c) && c >= 1)) {
    throw new ValueRangeError(fn, 'options.hiddenChannels', 'be an array of integers ≥ 1', describeValue(hiddenChannels));
  }
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  const first = { inputShape: [...inputShape] };
  let placed = false;
  const input = () => {
    if (placed) return {};
    placed = true;
    return first;
  };
  if (upsample > 1) model.add(tfl.layers.upSampling2d({ size: [upsample, upsample], interpolation: 'bilinear', ...input() }));
  for (const filters of hiddenChannels) {
    const conv = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', ...input() });
    model.add(conv);
    initKernelLayer(conv, rng, 'he');
  }
  const out = tfl.layers.conv2d({ filters: numClasses, kernelSize: 1, ...input() });
  model.add(out);
  initKernelLayer(out, rng, 'xavier');
  return model;
}
