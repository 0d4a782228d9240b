import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../core/errors.js';
import { encoderFeatureDim } from './common.js';
import type { ImageEncoder } from '../pretext-task.js';

/** Mean softmax cross-entropy of `logits` `[B, K]` against int32 `labels` `[B]` (labels built by the task, not checked). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const logProbs = tf.sub(logits, tf.logSumExp(logits, 1, true));
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, k), logProbs), 1))) as tf.Scalar;
  });
}

/** The encoder's feature size on `size × size` crops, or a clear error when it cannot encode crops of that size. */
export function cropFeatureDim(encoder: ImageEncoder, size: number, channels: number, fn: string, what: string): number {
  try {
    return encoderFeatureDim(encoder, [size, size, channels]);
  } catch (e) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      `encode ${size}×${size} ${what} (a fully convolutional encoder with global pooling, such as convEncoder)`,
      `an error: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}
