/**
 * The D×D penalty shared by Barlow Twins (cross-correlation) and VICReg
 * (covariance), with an analytic backward made of plain matrix products:
 * tfjs's autodiff of `matMul(transpose(a), b)` would use the transpose flags,
 * about ten times slower on the wasm backend, and would keep more of the
 * D×D intermediates alive.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../../core/custom-gradient.js';

/** Weights of {@link correlationPenalty}. */
export interface CorrelationPenaltyWeights {
  /** `C = scale · aᵀb`. */
  scale: number;
  /** Weight of `Σ_i (1 − C_ii)²`. */
  diagonal: number;
  /** Weight of `Σ_{i≠j} C_ij²`. */
  offDiagonal: number;
}

/**
 * `diagonal·Σ_i (1 − C_ii)² + offDiagonal·Σ_{i≠j} C_ij²` with `C = scale·aᵀb`
 * for `a`, `b` `[N, D]`. Passing the same tensor twice (VICReg's covariance)
 * is fine: tfjs adds the two gradient contributions.
 */
export function correlationPenalty(a: tf.Tensor2D, b: tf.Tensor2D, weights: CorrelationPenaltyWeights): tf.Scalar {
  const { scale, diagonal, offDiagonal } = weights;
  const d = a.shape[1];
  const op = customGradient((save, aIn: tf.Tensor2D, bIn: tf.Tensor2D) => {
    const c = tf.mul(tf.matMul(tf.transpose(aIn), bIn), scale);
    const eye = tf.eye(d);
    const onDiagonal = tf.sum(tf.mul(c, eye), 1); // C_ii
    const offDiagonalPart = tf.sub(c, tf.mul(c, eye));
    const value = tf.add(
      tf.mul(diagonal, tf.sum(tf.square(tf.sub(1, onDiagonal)))),
      tf.mul(offDiagonal, tf.sum(tf.square(offDiagonalPart))),
    );
    save([aIn, bIn, c]);
    return {
      value,
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [aS, bS, cS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          // ∂L/∂C = 2·offDiagonal·C off the diagonal and −2·diagonal·(1 − C_ii) on it.
          const identity = tf.eye(d);
          const offPart = tf.sub(cS, tf.mul(cS, identity));
          const onPart = tf.sub(1, tf.sum(tf.mul(cS, identity), 1, true));
          const g = tf.sub(tf.mul(2 * offDiagonal, offPart), tf.mul(identity, tf.mul(2 * diagonal, onPart)));
          const factor = tf.mul(dy, scale);
          // C = s·aᵀb: ∂a = s·b·Gᵀ, ∂b = s·a·G.
          return [tf.mul(tf.matMul(bS, tf.transpose(g)), factor), tf.mul(tf.matMul(aS, g), factor)];
        }),
    };
  });
  return op(a, b) as tf.Scalar;
}
