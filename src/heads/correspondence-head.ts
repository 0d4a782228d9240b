import * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link correspondenceHead}. */
export interface CorrespondenceHeadOptions {
  /** Feature sizes `[Fa, Fb]` of the two modality sub-networks. Required. */
  inputDims: readonly [number, number] | readonly number[];
  /**
   * Width of the fusion layer (+ReLU).
   * @default 128
   */
  hiddenDim?: number;
  /**
   * Output classes: 2 for "corresponds" / "does not" (softmax, as L³-Net).
   * @default 2
   */
  numClasses?: number;
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
 * The fusion head of the audio-visual correspondence network (L³-Net;
 * Arandjelović & Zisserman, "Look, Listen and Learn", ICCV 2017): "the two
 * 512-D outputs are concatenated and passed through two fully connected
 * layers (fc1: 128, fc2: 2)" that decide whether the two inputs correspond.
 * A two-input `tf.LayersModel`: concatenate `[B, Fa]` and `[B, Fb]`, linear to
 * `hiddenDim` + ReLU, linear to `numClasses` logits. Hidden layer He-normal,
 * output `N(0, 0.01²)`, biases at zero, from `seed`.
 *
 * @returns a model `[[B, Fa], [B, Fb]]` → `[B, numClasses]` logits.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { correspondenceHead } from 'selfsup';
 *
 * const head = correspondenceHead({ inputDims: [16, 8], hiddenDim: 12, seed: 0 });
 * const logits = head.apply([tf.zeros([3, 16]), tf.zeros([3, 8])]) as tf.Tensor;
 * console.log(logits.shape); // [3, 2]
 * ```
 */
export function correspondenceHead(options: CorrespondenceHeadOptions): tfl.LayersModel {
  const fn = 'correspondenceHead';
  assertBackendReady(fn);
  options ??= {} as CorrespondenceHeadOptions;
  assertKnownOptions(options, ['inputDims', 'hiddenDim', 'numClasses', 'seed', 'name'], fn);
  const { inputDims, hiddenDim = 128, numClasses = 2 } = options;
  const ok = Array.isArray(inputDims) && inputDims.length === 2 && inputDims.every((d) => Number.isInteger(d) && d >= 1);
  if (!ok) throw new ValueRangeError(fn, 'options.inputDims', 'be a pair [Fa, Fb] of integers ≥ 1', describeValue(inputDims));
  assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  const rng = createRng(options.seed, fn, 'options.seed');
  const a = tfl.input({ shape: [inputDims[0]!] });
  const b = tfl.input({ shape: [inputDims[1]!] });
  const fused = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
  const fc1 = tfl.layers.dense({ units: hiddenDim, activation: 'relu' });
  const hidden = fc1.apply(fused) as tfl.SymbolicTensor;
  const fc2 = tfl.layers.dense({ units: numClasses });
  const logits = fc2.apply(hidden) as tfl.SymbolicTensor;
  initKernelLayer(fc1, rng, 'he');
  initKernelLayer(fc2, rng, 'linearProbe');
  return tfl.model({ inputs: [a, b], outputs: logits, ...(options.name !== undefined ? { name: options.name } : {}) });
}
