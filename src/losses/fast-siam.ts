import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient as detach } from '../core/stop-gradient.js';
import { assertFloat, assertMinSize, assertRank, assertSameShape } from '../core/validate.js';

/**
 * The FastSiam loss (Pototzky, Sultan & Schmidt-Thieme, "FastSiam:
 * Resource-Efficient Self-supervised Learning on a Single GPU", GCPR 2022):
 * SimSiam with more than two views, where each view's prediction is pulled
 * towards the mean projection of all the other views — a target averaged over
 * V − 1 views is less noisy than SimSiam's single view, which is what lets
 * FastSiam train with small batches.
 *
 * Shapes: `predictions` and `projections` float32 `[V, N, D]` (view v of
 * image n; V ≥ 2), `predictions` from the predictor, `projections` from the
 * projector; returns a scalar:
 *
 * `L = (1/V) Σ_v D(p_v, stopgrad(mean_{u≠v} z_u))`,
 * `D(p, t) = −mean_n cos(p_n, t_n)`
 *
 * Reduction as lightly's FastSiam example (`NegativeCosineSimilarity` per
 * view, divided by the number of views). The targets receive no gradient.
 * `cos` uses `x / max(‖x‖, 1e-12)` per factor. With V = 2 this is the
 * symmetrised {@link simSiamLoss}. Values in [−1, 1]; −1 at perfect alignment
 * (which collapse also reaches: the predictor and the stop-gradient prevent
 * it, not the loss).
 *
 * @param predictions float32 `[V, N, D]`, V ≥ 2.
 * @param projections float32 `[V, N, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fastSiamLoss } from 'selfsup';
 *
 * const z = tf.randomNormal([4, 8, 16], 0, 1, 'float32', 0) as tf.Tensor3D; // 4 views of 8 images
 * const p = tf.randomNormal([4, 8, 16], 0, 1, 'float32', 1) as tf.Tensor3D;
 * console.log(fastSiamLoss(p, z).dataSync()[0]); // near 0 for unrelated vectors
 * ```
 */
export function fastSiamLoss(predictions: tf.Tensor3D, projections: tf.Tensor3D): tf.Scalar {
  const fn = 'fastSiamLoss';
  assertRank(predictions, 3, fn, 'predictions', '[V, N, D]');
  assertFloat(predictions, fn, 'predictions');
  assertMinSize(predictions, 0, 2, fn, 'predictions', 'V', 'each view is predicted from the others');
  assertMinSize(predictions, 1, 1, fn, 'predictions', 'N');
  assertMinSize(predictions, 2, 1, fn, 'predictions', 'D');
  assertSameShape(projections, predictions, fn, 'projections', 'predictions', '[V, N, D]');
  assertFloat(projections, fn, 'projections');
  return tf.tidy(() => {
    const v = predictions.shape[0];
    const z = detach(projections);
    // mean_{u≠v} z_u = (Σ_u z_u − z_v) / (V − 1), for all v at once.
    const targets = tf.div(tf.sub(tf.sum(z, 0, true), z), v - 1);
    const cosines = tf.sum(tf.mul(normalizeLastAxis(predictions), normalizeLastAxis(targets)), -1); // [V, N]
    return tf.neg(tf.mean(cosines)) as tf.Scalar;
  });
}
