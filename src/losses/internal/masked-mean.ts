import * as tf from '@tensorflow/tfjs-core';

/**
 * `numerator / denominator` for a masked average whose mask may be all zero:
 * the denominator is bounded below by a tiny constant, so an empty mask gives
 * 0 (numerator 0) and a zero gradient rather than 0/0 = NaN.
 */
export function divideByMaskTotal(numerator: tf.Tensor, denominator: tf.Tensor): tf.Scalar {
  return tf.div(numerator, tf.maximum(denominator, 1e-12)) as tf.Scalar;
}
