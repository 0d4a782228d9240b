import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { assertKnownOptions, assertNonNegative, assertPositive } from '../core/validate.js';
import { correlationPenalty } from './internal/correlation.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link vicregLoss} (the weights) and {@link vicregTerms} (`eps` only). */
export interface VicregOptions {
  /**
   * Weight λ of the invariance (MSE) term.
   * @default 25
   */
  simWeight?: number;
  /**
   * Weight μ of the variance term.
   * @default 25
   */
  varWeight?: number;
  /**
   * Weight ν of the covariance term.
   * @default 1
   */
  covWeight?: number;
  /**
   * ε inside the square root of the variance term, `sqrt(var + ε)`.
   * @default 1e-4
   */
  eps?: number;
}

/** Options of {@link vicregTerms}. */
export interface VicregTermsOptions {
  /**
   * ε inside the square root of the variance term, `sqrt(var + ε)`.
   * @default 1e-4
   */
  eps?: number;
}

/** The three unweighted terms of VICReg, each a scalar tensor (the caller disposes them). */
export interface VicregTerms {
  /** `mean((z1 − z2)²)` over all N·D entries. */
  invariance: tf.Scalar;
  /** `½ mean_j relu(1 − sqrt(var_j(z1) + ε)) + ½ mean_j relu(1 − sqrt(var_j(z2) + ε))`. */
  variance: tf.Scalar;
  /** `Σ_{i≠j} cov(z1)_ij² / D + Σ_{i≠j} cov(z2)_ij² / D`. */
  covariance: tf.Scalar;
}

function vicregTermsUnchecked(z1: tf.Tensor2D, z2: tf.Tensor2D, eps: number): VicregTerms {
  const [n, d] = z1.shape;
  const invariance = tf.mean(tf.squaredDifference(z1, z2)) as tf.Scalar;
  const branch = (z: tf.Tensor2D) => {
    const centered = tf.sub(z, tf.mean(z, 0, true)) as tf.Tensor2D;
    const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(centered), 0), n - 1), eps));
    const hinge = tf.mean(tf.relu(tf.sub(1, std)));
    const offDiagonalCovariance = correlationPenalty(centered, centered, {
      scale: 1 / (n - 1),
      diagonal: 0,
      offDiagonal: 1 / d,
    });
    return { hinge, offDiagonalCovariance };
  };
  const a = branch(z1);
  const b = branch(z2);
  return {
    invariance,
    variance: tf.mul(0.5, tf.add(a.hinge, b.hinge)) as tf.Scalar,
    covariance: tf.add(a.offDiagonalCovariance, b.offDiagonalCovariance) as tf.Scalar,
  };
}

function checkPair(z1: tf.Tensor2D, z2: tf.Tensor2D, fn: string): void {
  assertEmbeddings(z1, fn, 'z1', 2, 'the variance and covariance terms are batch statistics');
  assertMatching(z2, z1, fn, 'z2', 'z1', '[N, D]');
  // Two D × D covariances and their gradients.
  assertMemoryFits(fn, 'z1', [{ shape: [z1.shape[1], z1.shape[1]], count: 4 }]);
}

/**
 * The three terms of VICReg (Bardes, Ponce & LeCun, "VICReg:
 * Variance-Invariance-Covariance Regularization for Self-Supervised
 * Learning", ICLR 2022), unweighted, as the official code computes them:
 *
 * - invariance `s = mean((z1 − z2)²)` (`F.mse_loss`, a mean over N·D);
 * - variance `v = ½ mean_j relu(1 − sqrt(var_j(z1) + ε)) + ½ mean_j relu(1 − sqrt(var_j(z2) + ε))`,
 *   `var` unbiased over the batch;
 * - covariance `c = Σ_{i≠j} C(z1)_ij² / D + Σ_{i≠j} C(z2)_ij² / D`,
 *   `C(z) = (z − z̄)ᵀ(z − z̄)/(N − 1)`.
 *
 * The paper writes the variance term as a mean over features per branch and
 * sums the branches; the official code halves each branch (`/2`). We follow
 * the code; multiply `variance` by 2 for the paper's sum.
 *
 * Shapes: `z1`, `z2` float32 `[N, D]`, N ≥ 2. Returns three scalars that the
 * caller disposes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { vicregTerms } from 'selfsup';
 *
 * const z1 = tf.tensor2d([[1, 2], [3, 1], [0, 0]]);
 * const z2 = tf.tensor2d([[1, 2], [3, 1.5], [0, 1]]);
 * const { invariance, variance, covariance } = vicregTerms(z1, z2);
 * console.log(invariance.dataSync()[0], variance.dataSync()[0], covariance.dataSync()[0]);
 * ```
 */
export function vicregTerms(z1: tf.Tensor2D, z2: tf.Tensor2D, options: VicregTermsOptions = {}): VicregTerms {
  const fn = 'vicregTerms';
  assertKnownOptions(options, ['eps'], fn);
  const { eps = 1e-4 } = options;
  checkPair(z1, z2, fn);
  assertPositive(eps, fn, 'options.eps');
  return tf.tidy(() => vicregTermsUnchecked(z1, z2, eps) as unknown as tf.TensorContainer) as unknown as VicregTerms;
}

/**
 * The VICReg loss (Bardes, Ponce & LeCun, ICLR 2022, eq. 6 and the official code):
 *
 * `L = simWeight·s + varWeight·v + covWeight·c`
 *
 * with the invariance `s`, variance `v` and covariance `c` terms of
 * {@link vicregTerms} (see there for their exact definitions and the
 * halving convention of `v`). Shapes: `z1`, `z2` float32 `[N, D]`, N ≥ 2;
 * returns a scalar. Defaults λ = μ = 25, ν = 1, ε = 1e-4 are the paper's.
 *
 * Values: at collapse (every row equal) `s = 0`, `c = 0` and
 * `v = relu(1 − sqrt(ε)) = 0.99`, so `L ≈ 24.75`; 0 is reached only with
 * identical views whose features have std ≥ 1 and are uncorrelated.
 * Symmetric in `z1`, `z2`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { vicregLoss } from 'selfsup';
 *
 * const z1 = tf.tensor2d([[1, 2], [3, 1], [0, 0]]);
 * const z2 = tf.tensor2d([[1, 2], [3, 1.5], [0, 1]]);
 * console.log(vicregLoss(z1, z2).dataSync()[0]);
 * ```
 */
export function vicregLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: VicregOptions = {}): tf.Scalar {
  const fn = 'vicregLoss';
  assertKnownOptions(options, ['simWeight', 'varWeight', 'covWeight', 'eps'], fn);
  const { simWeight = 25, varWeight = 25, covWeight = 1, eps = 1e-4 } = options;
  checkPair(z1, z2, fn);
  assertNonNegative(simWeight, fn, 'options.simWeight');
  assertNonNegative(varWeight, fn, 'options.varWeight');
  assertNonNegative(covWeight, fn, 'options.covWeight');
  assertPositive(eps, fn, 'options.eps');
  return tf.tidy(() => {
    const { invariance, variance, covariance } = vicregTermsUnchecked(z1, z2, eps);
    return tf.addN([tf.mul(simWeight, invariance), tf.mul(varWeight, variance), tf.mul(covWeight, covariance)]) as tf.Scalar;
  });
}
