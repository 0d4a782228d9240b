import type * as tfl from '@tensorflow/tfjs-layers';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { l2NormalizeLayer } from './l2-normalize-layer.js';
import { assertMlpFits, buildMlp } from './mlp.js';
import { weightNormDense } from './weight-norm-dense.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link dinoHead}. */
export interface DinoHeadOptions {
  /** Size of the representation (the encoder's feature size). Required. */
  inputDim: number;
  /**
   * Output size K (the number of "prototypes" the softmax runs over).
   * @default 65536
   */
  outputDim?: number;
  /**
   * Width of the MLP's hidden layers.
   * @default 2048
   */
  hiddenDim?: number;
  /**
   * Size of the L2-normalised bottleneck before the last layer.
   * @default 256
   */
  bottleneckDim?: number;
  /**
   * Linear layers of the MLP before the bottleneck output (1 = a single linear map).
   * @default 3
   */
  numLayers?: number;
  /**
   * Batch norm after each hidden linear layer (off for ViTs in DINO).
   * @default false
   */
  batchNorm?: boolean;
  /**
   * Keep the last layer's weight norm fixed at 1 (DINO's `norm_last_layer`).
   * @default true
   */
  normLastLayer?: boolean;
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
 * DINO's projection head (Caron et al. 2021, §3.1): "The projection head
 * consists of a 3-layer multi-layer perceptron (MLP) with hidden dimension
 * 2048 followed by ℓ2 normalization and a weight normalized fully connected
 * layer with K dimensions", as a `tf.Sequential`:
 * `[linear → (BN) → GELU] × (numLayers − 1) → linear(bottleneckDim) →`
 * {@link l2NormalizeLayer} `→` {@link weightNormDense}`(K)`.
 *
 * The MLP's linear layers start as DINO's `trunc_normal_(std=.02)` with zero
 * bias; the last layer's direction as PyTorch's default, its gain at 1. A
 * linear layer followed by batch norm has no bias here (DINO keeps a
 * redundant one).
 *
 * @returns a model `[B, inputDim]` → `[B, outputDim]` logits (divide by the temperature, then softmax).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dinoHead } from 'selfsup';
 *
 * const head = dinoHead({ inputDim: 16, hiddenDim: 32, bottleneckDim: 8, outputDim: 64, seed: 0 });
 * const logits = head.apply(tf.randomNormal([4, 16])) as tf.Tensor;
 * console.log(logits.shape); // [4, 64]
 * ```
 */
export function dinoHead(options: DinoHeadOptions): tfl.Sequential {
  const fn = 'dinoHead';
  assertBackendReady(fn);
  options ??= {} as DinoHeadOptions;
  assertKnownOptions(
    options,
    ['inputDim', 'outputDim', 'hiddenDim', 'bottleneckDim', 'numLayers', 'batchNorm', 'normLastLayer', 'seed', 'name'],
    fn,
  );
  const {
    inputDim,
    outputDim = 65536,
    hiddenDim = 2048,
    bottleneckDim = 256,
    numLayers = 3,
    batchNorm = false,
    normLastLayer = true,
  } = options;
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  assertInteger(outputDim, fn, 'options.outputDim', { min: 1 });
  assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
  assertInteger(bottleneckDim, fn, 'options.bottleneckDim', { min: 1 });
  assertInteger(numLayers, fn, 'options.numLayers', { min: 1 });
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  assertOneOf(normLastLayer, [true, false], fn, 'options.normLastLayer');
  assertMlpFits(fn, inputDim, hiddenDim, numLayers, bottleneckDim);
  const rng = createRng(options.seed, fn, 'options.seed');
  assertMemoryFits(fn, 'options.outputDim', [{ shape: [bottleneckDim, outputDim], count: 2 }]);
  const model = buildMlp(
    {
      fn,
      inputDim,
      hidden: Array.from({ length: numLayers - 1 }, () => hiddenDim),
      output: bottleneckDim,
      hiddenBatchNorm: batchNorm,
      outputBatchNorm: 'none',
      activation: 'gelu',
      hiddenInit: 'truncNormal',
      outputInit: 'truncNormal',
      ...(options.name !== undefined ? { name: options.name } : {}),
    },
    rng,
  );
  model.add(l2NormalizeLayer());
  model.add(weightNormDense({ units: outputDim, frozenNorm: normLastLayer, seed: rng.nextUint32() }));
  return model;
}
