import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { buildMlp } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link predictionMlp}. */
export interface PredictionMlpOptions {
  /** Size of the projection z the predictor reads. Required. */
  inputDim: number;
  /**
   * Which paper's predictor the other defaults follow.
   * @default 'byol'
   */
  variant?: 'byol' | 'simsiam';
  /**
   * Width of the hidden layer.
   * @default 4096 for 'byol'; inputDim / 4 for 'simsiam' (512 for d = 2048, the bottleneck)
   */
  hiddenDim?: number;
  /**
   * Size of the prediction p (it must match the target projection).
   * @default inputDim
   */
  outputDim?: number;
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
 * The prediction head q(·) of the asymmetric methods, which maps the online
 * projection onto the (stop-gradient) target projection, as a `tf.Sequential`:
 * linear → batch norm → ReLU → linear.
 *
 * - BYOL (Grill et al. 2020, §3.3): the predictor "uses the same architecture
 *   as g": a linear layer of 4096 units, batch norm, ReLU, and a linear layer
 *   back to 256.
 * - SimSiam (Chen & He 2021, §4): "The prediction MLP (h) has BN applied to its
 *   hidden fc layers. Its output fc does not have BN or ReLU. This MLP has 2
 *   layers. The dimension of h's input and output (z and p) is d = 2048, and
 *   h's hidden layer's dimension is 512, making h a bottleneck structure."
 *
 * Linear layers start as PyTorch's `nn.Linear` (`U(±1/√fan_in)`, from `seed`);
 * the hidden linear layer has no bias (batch norm follows).
 *
 * @returns a model `[B, inputDim]` → `[B, outputDim]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { predictionMlp } from 'selfsup';
 *
 * const predictor = predictionMlp({ inputDim: 32, variant: 'simsiam', seed: 0 }); // 32 → 8 → 32
 * const p = predictor.apply(tf.randomNormal([4, 32]), { training: true }) as tf.Tensor;
 * console.log(p.shape); // [4, 32]
 * ```
 */
export function predictionMlp(options: PredictionMlpOptions): tfl.Sequential {
  const fn = 'predictionMlp';
  assertBackendReady(fn);
  options ??= {} as PredictionMlpOptions;
  assertKnownOptions(options, ['inputDim', 'variant', 'hiddenDim', 'outputDim', 'seed', 'name'], fn);
  const { inputDim, variant = 'byol' } = options;
  assertOneOf(variant, ['byol', 'simsiam'] as const, fn, 'options.variant');
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  const { hiddenDim = variant === 'byol' ? 4096 : Math.max(1, Math.round(inputDim / 4)), outputDim = inputDim } = options;
  assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
  assertInteger(outputDim, fn, 'options.outputDim', { min: 1 });
  return buildMlp(
    {
      fn,
      inputDim,
      hidden: [hiddenDim],
      output: outputDim,
      hiddenBatchNorm: true,
      outputBatchNorm: 'none',
      activation: 'relu',
      hiddenInit: 'torch',
      outputInit: 'torch',
      ...(options.name !== undefined ? { name: options.name } : {}),
    },
    createRng(options.seed, fn, 'options.seed'),
  );
}
