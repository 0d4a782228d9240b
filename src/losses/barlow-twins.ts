import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { assertKnownOptions, assertNonNegative, assertOneOf } from '../core/validate.js';
import { correlationPenalty } from './internal/correlation.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** How {@link barlowTwinsLoss} standardises each feature over the batch. */
export type BarlowStandardization = 'batchnorm' | 'unbiased';

/** Options of {@link barlowTwinsLoss}. */
export interface BarlowTwinsOptions {
  /**
   * Weight λ of the redundancy-reduction (off-diagonal) term. The paper uses
   * 5e-3; the official code's default is 0.0051.
   * @default 5e-3
   */
  lambda?: number;
  /**
   * `'batchnorm'`: `(z − μ) / sqrt(biased var + 1e-5)`, what the official
   * code does (`nn.BatchNorm1d(affine=False)` in training mode).
   * `'unbiased'`: `(z − μ) / std_unbiased`, the paper's Algorithm 1
   * (`z.std(0)`); a feature that is constant over the batch has std 0 there,
   * so the std is bounded below by 1e-12 to keep the value finite.
   * @default 'batchnorm'
   */
  standardize?: BarlowStandardization;
}

/** Per-feature standardisation over the batch axis (biased var + 1e-5, or unbiased std). */
function standardizeFeatures(z: tf.Tensor2D, mode: BarlowStandardization): tf.Tensor2D {
  const n = z.shape[0];
  const centered = tf.sub(z, tf.mean(z, 0, true));
  const sumSquares = tf.sum(tf.square(centered), 0, true);
  const std =
    mode === 'batchnorm'
      ? tf.sqrt(tf.add(tf.div(sumSquares, n), 1e-5))
      : // max inside the sqrt keeps sqrt's derivative finite at a constant feature.
        tf.sqrt(tf.maximum(tf.div(sumSquares, n - 1), 1e-24));
  return tf.div(centered, std) as tf.Tensor2D;
}

/**
 * The Barlow Twins loss (Zbontar et al., "Barlow Twins: Self-Supervised
 * Learning via Redundancy Reduction", ICML 2021, eq. 1).
 *
 * Shapes: `z1`, `z2` float32 `[N, D]`, N ≥ 2 (batch statistics); returns a scalar.
 *
 * Each feature is standardised over the batch (`ẑ`, see
 * {@link BarlowTwinsOptions.standardize}); the cross-correlation is
 * `C = ẑ1ᵀ ẑ2 / N` (`[D, D]`) and
 *
 * `L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²`
 *
 * Reduction: a sum over the D×D matrix (not a mean), as in the paper and the
 * official code, so the value grows with D. Values: 0 when `C = I`
 * (the two views agree and features are decorrelated); at collapse (every
 * feature constant) `C = 0` and `L = D`. Symmetric: `L(z1, z2) = L(z2, z1)`.
 *
 * Defaults follow the official code (`'batchnorm'` standardisation); use
 * `{ standardize: 'unbiased' }` for the paper's pseudocode. The two differ by a
 * factor of about `(N − 1)/N` in `C`. The D×D part has an analytic backward
 * built from plain matrix products.
 *
 * @param z1 projections of the first views, float32 `[N, D]`.
 * @param z2 projections of the second views, float32 `[N, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { barlowTwinsLoss } from 'selfsup';
 *
 * const z1 = tf.tensor2d([[1, 2], [3, 1], [0, 0], [2, 5]]);
 * const z2 = tf.tensor2d([[1, 2.5], [3, 0.5], [0.2, 0], [2, 4]]);
 * console.log(barlowTwinsLoss(z1, z2).dataSync()[0]);
 * console.log(barlowTwinsLoss(z1, z2, { lambda: 0.0051, standardize: 'unbiased' }).dataSync()[0]);
 * ```
 */
export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: BarlowTwinsOptions = {}): tf.Scalar {
  const fn = 'barlowTwinsLoss';
  assertKnownOptions(options, ['lambda', 'standardize'], fn);
  const { lambda = 5e-3, standardize = 'batchnorm' } = options;
  assertEmbeddings(z1, fn, 'z1', 2, 'a batch statistic needs two samples');
  assertMatching(z2, z1, fn, 'z2', 'z1', '[N, D]');
  // The D × D cross-correlation and its gradient.
  assertMemoryFits(fn, 'z1', [{ shape: [z1.shape[1], z1.shape[1]], count: 4 }]);
  assertNonNegative(lambda, fn, 'options.lambda');
  assertOneOf(standardize, ['batchnorm', 'unbiased'], fn, 'options.standardize');
  return tf.tidy(() =>
    correlationPenalty(standardizeFeatures(z1, standardize), standardizeFeatures(z2, standardize), {
      scale: 1 / z1.shape[0],
      diagonal: 1,
      offDiagonal: lambda,
    }),
  );
}
