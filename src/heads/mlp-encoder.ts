import * as tfl from '@tensorflow/tfjs-layers';
import { assertMemoryFits } from '../core/memory-budget.js';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { batchNorm as batchNormLayer } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link mlpEncoder}. */
export interface MlpEncoderOptions {
  /** Shape of one input without the batch axis, e.g. `[28, 28, 1]` or `[64]`. Required. */
  inputShape: readonly number[];
  /**
   * Widths of the layers (linear → [BN] → ReLU each); the last is the feature size.
   * @default [256, 128]
   */
  units?: readonly number[];
  /**
   * Batch norm after each linear layer.
   * @default false
   */
  batchNorm?: boolean;
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

/** Throws unless `v` is a non-empty array of integers ≥ 1. */
export function assertPositiveIntegers(v: unknown, fn: string, arg: string, length?: number): asserts v is number[] {
  const ok =
    Array.isArray(v) &&
    v.length > 0 &&
    (length === undefined || v.length === length) &&
    v.every((x) => Number.isInteger(x) && x >= 1);
  if (!ok) {
    const what = length === undefined ? 'a non-empty array' : `an array of ${length}`;
    throw new ValueRangeError(fn, arg, `be ${what} of integers ≥ 1`, describeValue(v));
  }
}

/**
 * A reference MLP encoder for small inputs (8×8 digits, flattened 28×28
 * images, tabular features): flatten (for image-shaped input), then `[linear → (BN) → ReLU]` for each
 * entry of `units`, as a `tf.Sequential`. The representation is the last ReLU
 * output, as a ResNet's pooled features are post-ReLU. Kernels start He-normal
 * (`N(0, 2/fan_in)`, He et al. 2015) with zero bias, from `seed`.
 *
 * @returns a model `[B, ...inputShape]` → `[B, units.at(-1)]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32, 16], seed: 0 });
 * const h = encoder.predict(tf.zeros([2, 8, 8, 1])) as tf.Tensor;
 * console.log(h.shape); // [2, 16]
 * ```
 */
export function mlpEncoder(options: MlpEncoderOptions): tfl.Sequential {
  const fn = 'mlpEncoder';
  assertBackendReady(fn);
  options ??= {} as MlpEncoderOptions;
  assertKnownOptions(options, ['inputShape', 'units', 'batchNorm', 'seed', 'name'], fn);
  const { inputShape, units = [256, 128], batchNorm = false } = options;
  assertPositiveIntegers(inputShape, fn, 'options.inputShape');
  assertPositiveIntegers(units, fn, 'options.units');
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  const dims = [inputShape.reduce((a, b) => a * b, 1), ...units];
  assertMemoryFits(fn, 'options.units', dims.slice(1).map((u, i) => ({ shape: [dims[i]!, u], count: 2 })));
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  // tfjs-layers' Flatten needs rank ≥ 3 input, so a vector input goes straight to the first layer.
  const flat = inputShape.length === 1;
  if (!flat) model.add(tfl.layers.flatten({ inputShape: [...inputShape] }));
  units.forEach((u, i) => {
    const dense = tfl.layers.dense({ units: u, useBias: !batchNorm, ...(flat && i === 0 ? { inputShape: [...inputShape] } : {}) });
    model.add(dense);
    initKernelLayer(dense, rng, 'he');
    if (batchNorm) model.add(batchNormLayer());
    model.add(tfl.layers.activation({ activation: 'relu' }));
  });
  return model;
}
