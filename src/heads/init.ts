/**
 * Seeded weight initialisation for the heads and encoders.
 *
 * tfjs-layers initialisers draw from tfjs's own generator; selfsup draws every
 * random number from {@link Rng} instead, so a seed gives the same weights on
 * every backend. Builders construct their layers with tfjs-layers' defaults and
 * then overwrite the weights with values from these schemes, each named after
 * the reference code it follows.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../core/rng.js';

/**
 * How a kernel (and its bias) is drawn:
 * - `torch`: PyTorch's `nn.Linear` / `nn.Conv2d` default, kernel and bias
 *   `U(−1/√fan_in, 1/√fan_in)` (kaiming_uniform with a = √5).
 * - `he`: He et al. 2015 normal, `N(0, 2/fan_in)`, bias 0 (ReLU layers).
 * - `xavier`: Glorot uniform, `U(±√(6/(fan_in + fan_out)))`, bias 0 (ViT / MAE).
 * - `truncNormal`: `N(0, 0.02²)` truncated to [−2, 2] as timm's
 *   `trunc_normal_(std=.02)`, bias 0 (DINO head).
 * - `linearProbe`: `N(0, 0.01²)`, bias 0 (DINO's and MAE's linear evaluation).
 */
export type InitScheme = 'torch' | 'he' | 'xavier' | 'truncNormal' | 'linearProbe';

/** Fan-in and fan-out of a dense `[in, out]` or conv `[kh, kw, in, out]` kernel. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2]!, receptive * shape[shape.length - 1]!];
}

/** Draws `n` values from `N(0, std²)` truncated to `[lo, hi]` by rejection. */
export function truncatedNormalArray(rng: Rng, n: number, std: number, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal(0, std);
    while (v < lo || v > hi) v = rng.normal(0, std);
    out[i] = v;
  }
  return out;
}

/** Kernel values for `shape` under `scheme`. */
export function kernelValues(rng: Rng, shape: readonly number[], scheme: InitScheme): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const [fanIn, fanOut] = fans(shape);
  switch (scheme) {
    case 'torch': {
      const bound = 1 / Math.sqrt(fanIn);
      return rng.uniformArray(n, -bound, bound);
    }
    case 'he':
      return rng.normalArray(n, 0, Math.sqrt(2 / fanIn));
    case 'xavier': {
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      return rng.uniformArray(n, -bound, bound);
    }
    case 'truncNormal':
      return truncatedNormalArray(rng, n, 0.02);
    case 'linearProbe':
      return rng.normalArray(n, 0, 0.01);
  }
}

/** Bias values for a layer whose kernel has `kernelShape` under `scheme`. */
export function biasValues(rng: Rng, size: number, kernelShape: readonly number[], scheme: InitScheme): Float32Array {
  if (scheme !== 'torch') return new Float32Array(size);
  const bound = 1 / Math.sqrt(fans(kernelShape)[0]);
  return rng.uniformArray(size, -bound, bound);
}

/**
 * Overwrites the kernel (and bias, when present) of a built Dense or Conv2D
 * layer with seeded values. Other weights (batch-norm statistics) keep their
 * tfjs-layers initial values (γ = 1, β = 0, mean 0, variance 1).
 */
export function initKernelLayer(layer: tfl.layers.Layer, rng: Rng, scheme: InitScheme): void {
  const [kernel, bias] = layer.weights;
  if (!kernel) return;
  const kernelShape = kernel.shape as number[];
  writeValues(kernel, kernelValues(rng, kernelShape, scheme));
  if (bias) writeValues(bias, biasValues(rng, bias.shape[0] as number, kernelShape, scheme));
}

/** Assigns `values` to a layer weight (tfjs-layers' `getWeights` returns the live variables, so nothing is disposed but the temporary). */
export function writeValues(weight: tfl.LayerVariable, values: Float32Array): void {
  const t = tf.tensor(values, weight.shape as number[], 'float32');
  weight.write(t);
  t.dispose();
}
