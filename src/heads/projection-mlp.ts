import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { assertMlpFits, buildMlp } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link projectionMlp}. */
export interface ProjectionMlpOptions {
  /** Size of the representation the head reads (the encoder's feature size). Required. */
  inputDim: number;
  /**
   * Which paper's head the other defaults follow.
   * @default 'simclr'
   */
  variant?: 'simclr' | 'byol' | 'simsiam';
  /**
   * Width of the hidden layers.
   * @default inputDim for 'simclr' (2048 for a ResNet-50), 4096 for 'byol', 2048 for 'simsiam'
   */
  hiddenDim?: number;
  /**
   * Size of the projection z.
   * @default 128 for 'simclr', 256 for 'byol', 2048 for 'simsiam'
   */
  outputDim?: number;
  /**
   * Number of linear layers (1 = a single linear map).
   * @default 2, or 3 for 'simsiam'
   */
  numLayers?: number;
  /**
   * Batch norm after each hidden linear layer.
   * @default false for 'simclr', true for 'byol' and 'simsiam'
   */
  batchNorm?: boolean;
  /**
   * Affine-free batch norm after the output layer (SimSiam's `BatchNorm1d(affine=False)`).
   * @default true for 'simsiam', false otherwise
   */
  outputBatchNorm?: boolean;
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

const DEFAULTS = {
  simclr: { outputDim: 128, numLayers: 2, batchNorm: false, outputBatchNorm: false },
  byol: { hiddenDim: 4096, outputDim: 256, numLayers: 2, batchNorm: true, outputBatchNorm: false },
  simsiam: { hiddenDim: 2048, outputDim: 2048, numLayers: 3, batchNorm: true, outputBatchNorm: true },
} as const;

/**
 * The projection head g(·) that maps a representation h to the embedding z the
 * SSL loss sees, as a `tf.Sequential` (train it with `apply(x, {training: true})`
 * or `fit`, save it with `model.save`).
 *
 * - SimCLR (Chen et al. 2020, §2.1): "a MLP with one hidden layer to obtain
 *   z = g(h) = W⁽²⁾σ(W⁽¹⁾h) where σ is a ReLU non-linearity", hidden size equal
 *   to the input (2048), output 128. The paper's formula has no batch norm (the
 *   authors' TF code adds it); we follow the formula and `batchNorm: true`
 *   gives the code's variant.
 * - BYOL (Grill et al. 2020, §3.3): "a linear layer with output size 4096
 *   followed by batch normalization, rectified linear units (ReLU), and a final
 *   linear layer with output dimension 256".
 * - SimSiam (Chen & He 2021, §4): "The projection MLP (in f) has BN applied to
 *   each fully-connected (fc) layer, including its output fc. Its output fc has
 *   no ReLU. The hidden fc is 2048-d. This MLP has 3 layers." (2 layers in the
 *   paper's CIFAR-10 runs: `numLayers: 2`.) The output BN has no affine
 *   parameters, as in the authors' code.
 *
 * Linear layers start as PyTorch's `nn.Linear` (kernel and bias
 * `U(±1/√fan_in)`, drawn from `seed`); a linear layer followed by batch norm
 * has no bias. Batch norm uses PyTorch's constants (momentum 0.1, ε = 1e-5).
 *
 * @returns a model `[B, inputDim]` → `[B, outputDim]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { projectionMlp } from 'selfsup';
 *
 * const head = projectionMlp({ inputDim: 16, hiddenDim: 32, outputDim: 8, variant: 'byol', seed: 0 });
 * const z = head.apply(tf.randomNormal([4, 16]), { training: true }) as tf.Tensor;
 * console.log(z.shape); // [4, 8]
 * ```
 */
export function projectionMlp(options: ProjectionMlpOptions): tfl.Sequential {
  const fn = 'projectionMlp';
  assertBackendReady(fn);
  options ??= {} as ProjectionMlpOptions;
  assertKnownOptions(
    options,
    ['inputDim', 'variant', 'hiddenDim', 'outputDim', 'numLayers', 'batchNorm', 'outputBatchNorm', 'seed', 'name'],
    fn,
  );
  const variant = options.variant ?? 'simclr';
  assertOneOf(variant, ['simclr', 'byol', 'simsiam'] as const, fn, 'options.variant');
  const d = DEFAULTS[variant];
  const { inputDim } = options;
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  const hiddenDim = options.hiddenDim ?? ('hiddenDim' in d ? d.hiddenDim : inputDim);
  const { outputDim = d.outputDim, numLayers = d.numLayers } = options;
  const { batchNorm = d.batchNorm, outputBatchNorm = d.outputBatchNorm } = options;
  assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
  assertInteger(outputDim, fn, 'options.outputDim', { min: 1 });
  assertInteger(numLayers, fn, 'options.numLayers', { min: 1 });
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  assertOneOf(outputBatchNorm, [true, false], fn, 'options.outputBatchNorm');
  assertMlpFits(fn, inputDim, hiddenDim, numLayers, outputDim);
  return buildMlp(
    {
      fn,
      inputDim,
      hidden: Array.from({ length: numLayers - 1 }, () => hiddenDim),
      output: outputDim,
      hiddenBatchNorm: batchNorm,
      outputBatchNorm: outputBatchNorm ? 'fixed' : 'none',
      activation: 'relu',
      hiddenInit: 'torch',
      outputInit: 'torch',
      ...(options.name !== undefined ? { name: options.name } : {}),
    },
    createRng(options.seed, fn, 'options.seed'),
  );
}
