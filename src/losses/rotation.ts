import * as tf from '@tensorflow/tfjs-core';
import { assertFloat, assertMinSize, assertRank, assertShape, assertTensor } from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { labelTargets } from './internal/labels.js';

/**
 * The rotation-prediction loss of RotNet (Gidaris, Singh & Komodakis,
 * "Unsupervised Representation Learning by Predicting Image Rotations",
 * ICLR 2018): softmax cross-entropy over the 4 rotations (0°, 90°, 180°, 270°).
 *
 * Shapes: `logits` float32 `[B, 4]`; `labels` int32 `[B]` with values in
 * {0, 1, 2, 3}, or float32 one-hot `[B, 4]`. Returns a scalar.
 *
 * `L = mean_b [ logsumexp(logits_b) − logits_b,label_b ]`
 *
 * Reduction: mean over the B rotated images (the paper averages over the
 * four rotations of each image as well, which is the same mean when all
 * four are in the batch). Values: `ln 4 ≈ 1.386` for uniform logits (a model
 * that ignores its input); → 0 when the rotation is predicted confidently.
 * Integer labels are range-checked (one synchronous read).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rotationLoss } from 'selfsup';
 *
 * const logits = tf.tensor2d([[2, 0, 0, 0], [0, 0, 3, 0]]);
 * const labels = tf.tensor1d([0, 2], 'int32');
 * console.log(rotationLoss(logits, labels).dataSync()[0]);
 * ```
 */
export function rotationLoss(logits: tf.Tensor2D, labels: tf.Tensor1D | tf.Tensor2D): tf.Scalar {
  const fn = 'rotationLoss';
  assertRank(logits, 2, fn, 'logits', '[B, 4]');
  assertShape(logits, [null, 4], fn, 'logits', '[B, 4]');
  assertFloat(logits, fn, 'logits');
  assertMinSize(logits, 0, 1, fn, 'logits', 'B');
  assertTensor(labels, fn, 'labels');
  return tf.tidy(() => tf.mean(softCrossEntropy(logits, labelTargets(labels, logits, fn))) as tf.Scalar);
}
