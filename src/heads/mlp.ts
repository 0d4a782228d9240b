import * as tfl from '@tensorflow/tfjs-layers';
import { assertMemoryFits } from '../core/memory-budget.js';
import type { Rng } from '../core/rng.js';
import { initKernelLayer, type InitScheme } from './init.js';

/**
 * Batch normalisation with PyTorch's `nn.BatchNorm1d/2d` constants: the SSL
 * papers' code runs on PyTorch (momentum 0.1 there = 0.9 in Keras' convention,
 * ε = 1e-5). `affine: false` (SimSiam's output BN) is a layer with γ = 1, β = 0
 * frozen (`trainable: false`): tfjs-layers' batch norm cannot train with
 * `center`/`scale` off, and frozen unit γ / zero β is the same function.
 */
export function batchNorm(affine = true): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, trainable: affine });
}

/**
 * Throws a `ResourceError` unless an MLP `inputDim → hiddenDim × (numLayers − 1) → outputDim`
 * (kernels and their initial values) fits, before the layer list is even made.
 */
export function assertMlpFits(fn: string, inputDim: number, hiddenDim: number, numLayers: number, outputDim: number): void {
  const blamed = numLayers > 64 ? 'options.numLayers' : hiddenDim >= Math.max(inputDim, outputDim) ? 'options.hiddenDim' : outputDim >= inputDim ? 'options.outputDim' : 'options.inputDim';
  const layers = numLayers <= 1
    ? [{ shape: [inputDim, outputDim], count: 2 }]
    : [{ shape: [inputDim, hiddenDim], count: 2 }, { shape: [hiddenDim, hiddenDim], count: 2 * (numLayers - 2) }, { shape: [hiddenDim, outputDim], count: 2 }];
  assertMemoryFits(fn, blamed, layers);
}

/** A fully-connected stack, described layer by layer. */
export interface MlpSpec {
  inputDim: number;
  /** Units of each hidden layer (linear → [BN] → activation). */
  hidden: readonly number[];
  /** Units of the last linear layer (no activation). */
  output: number;
  hiddenBatchNorm: boolean;
  /** Batch norm after the output layer: none, with learnable affine, or affine-free. */
  outputBatchNorm: 'none' | 'affine' | 'fixed';
  activation: 'relu' | 'gelu';
  hiddenInit: InitScheme;
  outputInit: InitScheme;
  /** Whether the output layer has a bias (ignored, and off, when batch norm follows). */
  outputBias?: boolean;
  name?: string;
  /** The public function building it, for a refused size. */
  fn?: string;
}

/**
 * Builds the MLP of `spec` as a `tf.Sequential` and initialises it from `rng`
 * in layer order. Linear layers followed by batch norm have no bias (the BN's
 * β subsumes it), as in BYOL's and SimSiam's reference code.
 */
export function buildMlp(spec: MlpSpec, rng: Rng): tfl.Sequential {
  // The kernels and their initial values (made in JS), refused before any layer exists; the
  // option with the largest size is the one to name.
  const sizes: [string, number][] = [['options.inputDim', spec.inputDim], ...spec.hidden.map((h): [string, number] => ['options.hiddenDim', h]), ['options.outputDim', spec.output]];
  const blamed = sizes.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const dims = sizes.map(([, d]) => d);
  assertMemoryFits(spec.fn ?? 'buildMlp', blamed, dims.slice(1).map((d, i) => ({ shape: [dims[i]!, d], count: 2 })));
  const model = tfl.sequential(spec.name !== undefined ? { name: spec.name } : {});
  const kernels: [tfl.layers.Layer, InitScheme][] = [];
  spec.hidden.forEach((units, i) => {
    const dense = tfl.layers.dense({
      units,
      useBias: !spec.hiddenBatchNorm,
      ...(i === 0 ? { inputShape: [spec.inputDim] } : {}),
    });
    model.add(dense);
    kernels.push([dense, spec.hiddenInit]);
    if (spec.hiddenBatchNorm) model.add(batchNorm());
    model.add(tfl.layers.activation({ activation: spec.activation }));
  });
  const out = tfl.layers.dense({
    units: spec.output,
    useBias: spec.outputBatchNorm === 'none' && spec.outputBias !== false,
    ...(spec.hidden.length === 0 ? { inputShape: [spec.inputDim] } : {}),
  });
  model.add(out);
  kernels.push([out, spec.outputInit]);
  if (spec.outputBatchNorm !== 'none') model.add(batchNorm(spec.outputBatchNorm === 'affine'));
  for (const [layer, scheme] of kernels) initKernelLayer(layer, rng, scheme);
  return model;
}
