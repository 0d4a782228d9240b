import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient as detach } from '../core/stop-gradient.js';
import { assertKnownOptions, assertOneOf } from '../core/validate.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Per-row cosine similarity `[N]` with the package's normalisation `x / max(‖x‖, 1e-12)`. */
function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(normalizeLastAxis(a), normalizeLastAxis(b)), 1) as tf.Tensor1D;
}

/** Options of {@link negativeCosineSimilarity}. */
export interface NegativeCosineOptions {
  /**
   * Stop the gradient into `z` (the target branch), as SimSiam's `D(p, stopgrad(z))`.
   * @default true
   */
  stopGradient?: boolean;
}

/**
 * Negative cosine similarity `D(p, z) = −mean_i cos(p_i, z_i)`, the
 * building block of SimSiam (Chen & He, "Exploring Simple Siamese
 * Representation Learning", CVPR 2021, eq. 1).
 *
 * Shapes: `p`, `z` float32 `[N, D]`; returns a scalar in [−1, 1].
 * `cos(p, z) = normalize(p)·normalize(z)` with `normalize(x) = x / max(‖x‖₂, 1e-12)`;
 * PyTorch's `F.cosine_similarity` (SimSiam's code) bounds the product of the
 * norms by 1e-8 instead, which differs only for near-zero vectors.
 *
 * Reduction: mean over the N rows. Values: −1 at perfect alignment (which
 * collapse also achieves), 0 for orthogonal rows. By default no gradient
 * flows into `z`; with `{ stopGradient: false }` the function is symmetric.
 *
 * @param p predictions, float32 `[N, D]`.
 * @param z targets, float32 `[N, D]`.
 * @returns the scalar `−mean cos`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { negativeCosineSimilarity } from 'selfsup';
 *
 * const p = tf.tensor2d([[1, 0], [1, 1]]);
 * const z = tf.tensor2d([[1, 0], [-1, -1]]);
 * console.log(negativeCosineSimilarity(p, z).dataSync()[0]); // 0: mean of −1 and 1
 * ```
 */
export function negativeCosineSimilarity(
  p: tf.Tensor2D,
  z: tf.Tensor2D,
  options: NegativeCosineOptions = {},
): tf.Scalar {
  const fn = 'negativeCosineSimilarity';
  assertKnownOptions(options, ['stopGradient'], fn);
  const { stopGradient = true } = options;
  assertEmbeddings(p, fn, 'p');
  assertMatching(z, p, fn, 'z', 'p', '[N, D]');
  assertOneOf(stopGradient, [true, false], fn, 'options.stopGradient');
  return tf.tidy(() => tf.neg(tf.mean(rowCosine(p, stopGradient ? detach(z) : z))) as tf.Scalar);
}

/**
 * The symmetrised SimSiam loss (Chen & He, CVPR 2021, eq. 2):
 *
 * `L = ½ D(p1, stopgrad(z2)) + ½ D(p2, stopgrad(z1))`, `D(p, z) = −mean_i cos(p_i, z_i)`
 *
 * Shapes: all four float32 `[N, D]` (`p` from the predictor, `z` from the
 * projector of views 1 and 2); returns a scalar in [−1, 1]. The stop-gradients
 * are built in: `z1`, `z2` receive no gradient. Reduction: mean over the batch,
 * averaged over the two directions (SimSiam's official code). Values: −1 at
 * perfect alignment, which a collapsed network also reaches (SimSiam avoids
 * it through the predictor and the stop-gradient, not the loss).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { simSiamLoss } from 'selfsup';
 *
 * const [p1, p2, z1, z2] = [1, 2, 3, 4].map((s) => tf.randomNormal([4, 8], 0, 1, 'float32', s) as tf.Tensor2D);
 * console.log(simSiamLoss(p1!, p2!, z1!, z2!).dataSync()[0]);
 * ```
 */
export function simSiamLoss(p1: tf.Tensor2D, p2: tf.Tensor2D, z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  const fn = 'simSiamLoss';
  assertEmbeddings(p1, fn, 'p1');
  assertMatching(p2, p1, fn, 'p2', 'p1', '[N, D]');
  assertMatching(z1, p1, fn, 'z1', 'p1', '[N, D]');
  assertMatching(z2, p1, fn, 'z2', 'p1', '[N, D]');
  return tf.tidy(() => {
    const d12 = tf.mean(rowCosine(p1, detach(z2)));
    const d21 = tf.mean(rowCosine(p2, detach(z1)));
    return tf.mul(-0.5, tf.add(d12, d21)) as tf.Scalar;
  });
}

/**
 * The symmetrised BYOL loss (Grill et al., "Bootstrap Your Own Latent",
 * NeurIPS 2020, eq. 2 and the symmetrisation of §3.1):
 *
 * `L = mean_i [ (2 − 2 cos(p1_i, stopgrad(t2_i))) + (2 − 2 cos(p2_i, stopgrad(t1_i))) ]`
 *
 * Shapes: all four float32 `[N, D]`: online predictions `p1`, `p2` and target
 * projections `t1`, `t2` of views 1 and 2; returns a scalar in [0, 8]. The
 * targets receive no gradient (they come from the EMA target network).
 * Reduction: the two views' per-example losses are summed, then averaged
 * over the batch, as BYOL's official code (`loss = regression(p1, t2) +
 * regression(p2, t1)`, each a batch mean); halve it for the average of the two.
 * Values: 0 at perfect alignment (also reached by collapse), 4 for orthogonal
 * pairs, 8 for opposite ones.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { byolLoss } from 'selfsup';
 *
 * const p = tf.tensor2d([[1, 0]]);
 * const t = tf.tensor2d([[0, 1]]);
 * console.log(byolLoss(p, p, t, t).dataSync()[0]); // 4: orthogonal in both directions
 * ```
 */
export function byolLoss(p1: tf.Tensor2D, p2: tf.Tensor2D, t1: tf.Tensor2D, t2: tf.Tensor2D): tf.Scalar {
  const fn = 'byolLoss';
  assertEmbeddings(p1, fn, 'p1');
  assertMatching(p2, p1, fn, 'p2', 'p1', '[N, D]');
  assertMatching(t1, p1, fn, 't1', 'p1', '[N, D]');
  assertMatching(t2, p1, fn, 't2', 'p1', '[N, D]');
  return tf.tidy(() => {
    const cosines = tf.add(rowCosine(p1, detach(t2)), rowCosine(p2, detach(t1)));
    return tf.sub(4, tf.mul(2, tf.mean(cosines))) as tf.Scalar;
  });
}
