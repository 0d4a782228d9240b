import type * as tf from '@tensorflow/tfjs-core';
import { ValueRangeError } from '../core/errors.js';
import { singularValues } from '../core/linalg.js';
import { assertKnownOptions, assertPositive } from '../core/validate.js';
import { assertFeatures } from './features.js';

/** Options of {@link rankMe}. */
export interface RankMeOptions {
  /**
   * ε added to each normalised singular value before the entropy.
   * @default 1e-7 (the paper's value for float32)
   */
  epsilon?: number;
}

/**
 * RankMe (Garrido et al. 2023), the effective rank of an embedding matrix:
 * `RankMe(Z) = exp(−Σ_k p_k log p_k)` with `p_k = σ_k(Z) / ‖σ(Z)‖₁ + ε`, the
 * exponential of the entropy of the normalised singular values. It ranges
 * from about 1 (complete collapse: one direction) to `min(N, D)` (all
 * singular values equal), needs no labels, and the paper shows it tracks
 * downstream accuracy across hyperparameters of one method. Use many more
 * rows than dimensions (the paper uses 25,600) for a stable value.
 *
 * The embeddings are used as given (not centred or normalised). Singular
 * values come from the eigenvalues of the smaller Gram matrix computed in
 * float64 (tfjs has no SVD). An all-zero matrix returns 1 rather than NaN.
 *
 * @param z float32 `[N, D]` embeddings.
 * @returns the effective rank, a number in [1, min(N, D)] (up to ε).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rankMe } from 'selfsup';
 *
 * console.log(rankMe(tf.eye(4) as tf.Tensor2D));                   // ≈ 4: full rank, equal spectrum
 * console.log(rankMe(tf.tensor2d([[1, 2], [2, 4], [-1, -2]])));    // ≈ 1: rank one
 * ```
 */
export function rankMe(z: tf.Tensor2D, options: RankMeOptions = {}): number {
  const fn = 'rankMe';
  assertKnownOptions(options, ['epsilon'], fn);
  assertFeatures(z, fn, 'z');
  const { epsilon = 1e-7 } = options;
  assertPositive(epsilon, fn, 'options.epsilon');
  const [rows, cols] = z.shape;
  const sigma = singularValues(z.dataSync(), rows, cols);
  const total = sigma.reduce((a, b) => a + b, 0);
  if (!Number.isFinite(total)) throw new ValueRangeError(fn, 'z', 'hold finite values', 'NaN or infinite values');
  if (total === 0) return 1;
  let entropy = 0;
  for (const s of sigma) {
    const p = s / total + epsilon;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}
