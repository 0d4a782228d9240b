import * as tf from '@tensorflow/tfjs-core';
import { nuclearNormUnchecked } from '../core/nuclear-norm.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertFloat, assertKnownOptions, assertMinSize, assertNonNegative, assertOneOf, assertRank } from '../core/validate.js';

/** Options of {@link mmcrLoss}. */
export interface MmcrLossOptions {
  /**
   * Weight λ of the per-image (local) nuclear-norm term, which shrinks each
   * image's manifold of views directly. With unit-norm views the centroid
   * term already does that, and the official code's default is 0 (it then
   * skips the per-image SVDs); lightly's `MMCRLoss` uses 5e-3.
   * @default 0 (the official code)
   */
  lambda?: number;
  /**
   * Project every embedding onto the unit sphere first, as the MMCR paper and
   * its official code do. lightly's `MMCRLoss` does not normalise: pass
   * `false` to reproduce its values (with `tf.concat([online, momentum], 1)`).
   * @default true
   */
  normalize?: boolean;
}

/**
 * The Maximum Manifold Capacity Representations loss of Yerxa et al.,
 * "Learning Efficient Coding of Natural Images with Maximum Manifold
 * Capacity Representations", NeurIPS 2023: each image's K augmented views
 * form a small "manifold"; MMCR maximises the nuclear norm of the matrix of
 * the manifolds' centroids, which spreads the centroids over as many
 * directions as possible (and, with unit-norm views, also shrinks each
 * manifold: a centroid of unit vectors is long only if its views agree).
 *
 * Shapes: `views` float32 `[B, K, D]` (image b, view k), B ≥ 1, K ≥ 1 (the
 * paper uses K = 2–40); returns a scalar. With `z = normalize(views)` (unless
 * `normalize: false`), centroids `C = mean_k z` `[B, D]` and `Z_b = z[b]`
 * `[K, D]`:
 *
 * `L = −‖C‖_* + λ · (1/B) Σ_b ‖Z_b‖_*`
 *
 * `‖·‖_*` is the nuclear norm (sum of singular values), computed by
 * {@link core!nuclearNorm} through the eigendecomposition of the smaller Gram
 * matrix, with the exact gradient `U Vᵀ` (the minimum-norm subgradient where
 * a matrix is rank-deficient). Reduction as lightly's `MMCRLoss` and the
 * official code: the centroid term is not averaged, the local term is.
 *
 * Values: with unit views, `‖C‖_* ≤ √(min(B, D)·B)`; when the B centroids are
 * orthonormal (every image's views identical, images orthogonal, B ≤ D),
 * `‖C‖_* = B` and each `‖Z_b‖_* = √K`, so `L = −B + λ√K`; at collapse (one
 * direction for everything) `L = −√B + λ√K`.
 *
 * @param views float32 `[B, K, D]` embeddings of K views of each of B images.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mmcrLoss } from 'selfsup';
 *
 * // Four images, two identical views each, along orthogonal axes: −4 + λ·√2.
 * const e = tf.eye(4);
 * const views = tf.stack([e, e], 1) as tf.Tensor3D; // [4, 2, 4]
 * console.log(mmcrLoss(views).dataSync()[0]); // −4
 * console.log(mmcrLoss(views, { lambda: 0.005 }).dataSync()[0]); // −4 + 0.005·√2 ≈ −3.993
 * ```
 */
export function mmcrLoss(views: tf.Tensor3D, options: MmcrLossOptions = {}): tf.Scalar {
  const fn = 'mmcrLoss';
  assertKnownOptions(options, ['lambda', 'normalize'], fn);
  const { lambda = 0, normalize = true } = options;
  assertRank(views, 3, fn, 'views', '[B, K, D]');
  assertFloat(views, fn, 'views');
  assertMinSize(views, 0, 1, fn, 'views', 'B');
  assertMinSize(views, 1, 1, fn, 'views', 'K');
  assertMinSize(views, 2, 1, fn, 'views', 'D');
  assertNonNegative(lambda, fn, 'options.lambda');
  assertOneOf(normalize, [true, false], fn, 'options.normalize');
  return tf.tidy(() => {
    const z = (normalize ? normalizeLastAxis(views) : views) as tf.Tensor3D;
    const centroids = tf.mean(z, 1) as tf.Tensor2D;
    const global = nuclearNormUnchecked(centroids) as tf.Scalar;
    if (lambda === 0) return tf.neg(global) as tf.Scalar;
    const local = tf.mean(nuclearNormUnchecked(z));
    return tf.add(tf.neg(global), tf.mul(lambda, local)) as tf.Scalar;
  });
}
