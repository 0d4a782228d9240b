/**
 * Softmax cross-entropy, the one place selfsup computes it. Every loss that
 * takes a softmax over logits goes through here or through the contrastive
 * cores (which reuse {@link softmaxStatistics}), so the numerics are decided once:
 * log-sum-exp with the row maximum subtracted before `exp` (never `exp` then
 * `log`), and an analytic backward instead of the autodiff of that composition.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient, type CustomGradientResult } from '../../core/custom-gradient.js';

/** What {@link softmaxStatistics} returns for logits `[R, C]`. */
export interface SoftmaxStatistics {
  /** `log Σ_c exp(x_rc)`, `[R, 1]`. */
  logSumExp: tf.Tensor2D;
  /** `softmax(x)` along the last axis, `[R, C]`. */
  probabilities: tf.Tensor2D;
}

/**
 * Row-wise log-sum-exp and softmax of `logits` `[R, C]`, computed from
 * `x − max(x)` so `exp` never overflows; entries equal to `−∞` (masked
 * logits) contribute exactly 0. Not differentiable on its own: the callers
 * wrap it in a custom gradient.
 */
export function softmaxStatistics(logits: tf.Tensor2D): SoftmaxStatistics {
  return tf.tidy(() => {
    const rowMax = tf.max(logits, 1, true);
    const shiftedExp = tf.exp(tf.sub(logits, rowMax));
    const total = tf.sum(shiftedExp, 1, true);
    return {
      logSumExp: tf.add(tf.log(total), rowMax) as tf.Tensor2D,
      probabilities: tf.div(shiftedExp, total) as tf.Tensor2D,
    };
  });
}

// Built per call: a module-level tf.customGrad would touch the tfjs engine at
// import time and defeat tree-shaking.
const softCrossEntropyBody = (save: tf.GradSaveFunc, logits: tf.Tensor2D, targets: tf.Tensor2D): CustomGradientResult => {
  const { logSumExp, probabilities } = softmaxStatistics(logits);
  const logProbabilities = tf.sub(logits, logSumExp);
  save([probabilities, logProbabilities, targets]);
  return {
    // −Σ_c t_c log p_c, written so that targets of any total mass (DINO's
    // summed teachers, weighted colorization targets) are exact.
    value: tf.neg(tf.sum(tf.mul(targets, logProbabilities), 1)),
    gradFunc: (dy, saved) =>
      tf.tidy(() => {
        const [p, logP, t] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dyColumn = tf.reshape(dy, [-1, 1]);
        const mass = tf.sum(t, 1, true);
        return [tf.mul(dyColumn, tf.sub(tf.mul(mass, p), t)), tf.neg(tf.mul(dyColumn, logP))];
      }),
  };
};

/**
 * Per-row cross-entropy `−Σ_c t_rc · log softmax(x_r)_c` of logits `[R, C]`
 * against targets `[R, C]` (probabilities, one-hot rows, or non-negative
 * weights of any total mass), as a `[R]` tensor. The gradient is analytic:
 * `(Σ_c t_rc)·softmax(x_r) − t_r` for the logits and `−log softmax(x_r)` for
 * the targets (put a stop-gradient on targets that must not learn).
 */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return customGradient(softCrossEntropyBody)(logits, targets) as tf.Tensor1D;
}

/** One-hot float32 targets `[R, C]` for int32 class indices `[R]`. */
export function oneHotTargets(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  // tfjs's oneHot refuses depth 1; with one class every label is that class.
  if (numClasses === 1) return tf.ones([labels.shape[0], 1]);
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 'float32') as tf.Tensor2D);
}
