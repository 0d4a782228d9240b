import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient as detach } from '../core/stop-gradient.js';
import { assertFloat, assertInRange, assertKnownOptions, assertNonNegative, assertShape } from '../core/validate.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link ticoLoss}. */
export interface TicoLossOptions {
  /**
   * Weight ρ of the covariance-contrast term.
   * @default 8 (the paper)
   */
  rho?: number;
}

/** Options of {@link updateTicoCovariance}. */
export interface TicoCovarianceOptions {
  /**
   * Momentum β of the covariance's moving average.
   * @default 0.9 (the paper)
   */
  beta?: number;
}

/**
 * TiCo's loss (Zhu, Moraes, Karakas, Lee & Guo, "TiCo: Transformation
 * Invariance and Covariance Contrast for Self-Supervised Visual
 * Representation Learning", 2022, eq. 4): a transformation-invariance term
 * that aligns the two views, and a covariance-contrast term that penalises
 * the online embeddings along the directions the recent embeddings already
 * occupy — a contrast against the whole history summarised in a D × D
 * matrix, instead of a batch of negatives.
 *
 * Shapes: `zA` (online branch) and `zB` (target branch) float32 `[N, D]`,
 * `covariance` float32 `[D, D]` (the moving average C of
 * {@link updateTicoCovariance}, already updated with this batch); returns a
 * scalar. With `a = normalize(zA)`, `b = normalize(zB)`:
 *
 * `L = 1 − mean_i a_i·b_i + ρ · mean_i a_iᵀ C a_i`
 *
 * Reduction: means over the N rows (lightly's `TiCoLoss`). `covariance`
 * receives no gradient; `zB` does unless you stop it (the method feeds the
 * momentum encoder's projection, which has none). Values: 0 + ρ·mean aᵀCa ≥ 0
 * for perfectly aligned views; with C = 0 the loss is `1 − cos`, in [0, 2].
 *
 * lightly's `TiCoLoss(z_a, z_b)` keeps C inside the module and updates it in
 * the same call; here the state is explicit:
 * `c = updateTicoCovariance(previous, zA); loss = ticoLoss(zA, zB, c)`
 * reproduces one call (start from zeros, as lightly does).
 *
 * @param zA online embeddings, float32 `[N, D]`, N ≥ 1.
 * @param zB target embeddings, float32 `[N, D]`.
 * @param covariance the moving covariance C, float32 `[D, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ticoLoss, updateTicoCovariance } from 'selfsup';
 *
 * const zA = tf.tensor2d([[1, 0], [0, 2], [3, 3]]);
 * const zB = tf.tensor2d([[1, 0.1], [0.2, 2], [3, 2]]);
 * const c = updateTicoCovariance(tf.zeros([2, 2]) as tf.Tensor2D, zA); // 0.9·0 + 0.1·aᵀa/N
 * console.log(ticoLoss(zA, zB, c).dataSync()[0]);
 * ```
 */
export function ticoLoss(zA: tf.Tensor2D, zB: tf.Tensor2D, covariance: tf.Tensor2D, options: TicoLossOptions = {}): tf.Scalar {
  const fn = 'ticoLoss';
  assertKnownOptions(options, ['rho'], fn);
  const { rho = 8 } = options;
  assertEmbeddings(zA, fn, 'zA');
  assertMatching(zB, zA, fn, 'zB', 'zA', '[N, D]');
  const d = zA.shape[1];
  assertShape(covariance, [d, d], fn, 'covariance', '[D, D]');
  assertFloat(covariance, fn, 'covariance');
  assertNonNegative(rho, fn, 'options.rho');
  return tf.tidy(() => {
    const a = normalizeLastAxis(zA) as tf.Tensor2D;
    const b = normalizeLastAxis(zB) as tf.Tensor2D;
    const invariance = tf.sub(1, tf.mean(tf.sum(tf.mul(a, b), 1)));
    const contrast = tf.mean(tf.sum(tf.mul(tf.matMul(a, detach(covariance)), a), 1));
    return tf.add(invariance, tf.mul(rho, contrast)) as tf.Scalar;
  });
}

/**
 * TiCo's covariance update: `C ← β·C + (1 − β)·aᵀa / N` with
 * `a = normalize(zA)` `[N, D]` (no gradient), the exponential moving
 * average of the online embeddings' second-moment matrix that
 * {@link ticoLoss} contrasts against.
 *
 * Shapes: `previous` float32 `[D, D]` (zeros at the first step), `zA`
 * float32 `[N, D]`, N ≥ 2 (lightly asserts a batch of more than one); returns
 * the new `[D, D]` matrix (the caller disposes the old one).
 *
 * @param previous the covariance before this step, `[D, D]`.
 * @param zA this step's online embeddings, `[N, D]`.
 * @returns the updated covariance `[D, D]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { updateTicoCovariance } from 'selfsup';
 *
 * const c = updateTicoCovariance(tf.zeros([2, 2]) as tf.Tensor2D, tf.tensor2d([[1, 0], [0, 1]]), { beta: 0.5 });
 * c.print(); // [[0.25, 0], [0, 0.25]]: 0.5 · (I / 2)
 * ```
 */
export function updateTicoCovariance(previous: tf.Tensor2D, zA: tf.Tensor2D, options: TicoCovarianceOptions = {}): tf.Tensor2D {
  const fn = 'updateTicoCovariance';
  assertKnownOptions(options, ['beta'], fn);
  const { beta = 0.9 } = options;
  assertEmbeddings(zA, fn, 'zA', 2, 'the covariance is a batch statistic');
  const d = zA.shape[1];
  assertShape(previous, [d, d], fn, 'previous', '[D, D]');
  assertFloat(previous, fn, 'previous');
  assertInRange(beta, 0, 1, fn, 'options.beta');
  return tf.tidy(() => {
    const a = detach(normalizeLastAxis(zA)) as tf.Tensor2D;
    const batch = tf.div(tf.matMul(tf.transpose(a), a), zA.shape[0]);
    return tf.add(tf.mul(beta, detach(previous)), tf.mul(1 - beta, batch)) as tf.Tensor2D;
  });
}
