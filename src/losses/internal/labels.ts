/** Class-label arguments shared by the classification-style losses. */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../../core/errors.js';
import { assertFloat, assertValuesInRange, formatShape } from '../../core/validate.js';
import { oneHotTargets } from './cross-entropy.js';

/**
 * Checks `labels` against logits `[B, C]` and returns float32 targets `[B, C]`:
 * int32 class indices `[B]` in `[0, C)` (checked on the values) become one-hot
 * rows; float32 `[B, C]` rows are used as given (one-hot or soft labels).
 */
export function labelTargets(labels: tf.Tensor, logits: tf.Tensor2D, fn: string, arg = 'labels'): tf.Tensor2D {
  const [b, c] = logits.shape;
  if (labels.rank === 1) {
    if (labels.dtype !== 'int32' || labels.shape[0] !== b) {
      throw new ShapeError(
        fn,
        arg,
        `be int32 class indices [B] with B = ${b}, or float32 one-hot rows [B, C] = [${b}, ${c}]`,
        `a ${labels.dtype} tensor of shape ${formatShape(labels.shape)}`,
      );
    }
    assertValuesInRange(labels, 0, c - 1, fn, arg, 'class indices');
    return oneHotTargets(labels as tf.Tensor1D, c);
  }
  if (labels.rank !== 2 || labels.shape[0] !== b || labels.shape[1] !== c) {
    throw new ShapeError(
      fn,
      arg,
      `be int32 class indices [B] with B = ${b}, or float32 one-hot rows [B, C] = [${b}, ${c}]`,
      `a ${labels.dtype} tensor of shape ${formatShape(labels.shape)}`,
    );
  }
  assertFloat(labels, fn, arg);
  return labels as tf.Tensor2D;
}
