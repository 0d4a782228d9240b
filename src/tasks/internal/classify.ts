import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../../core/errors.js';
import { featureMapModel } from '../../heads/feature-map.js';
import { encodeImages, type ImageEncoder } from '../pretext-task.js';

/** Mean softmax cross-entropy of `logits` `[B, K]` against int32 `labels` `[B]` (labels built by the task, not checked). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const logProbs = tf.sub(logits, tf.logSumExp(logits, 1, true));
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, k), logProbs), 1))) as tf.Scalar;
  });
}

/** How the patch tasks encode their small crops with the shared encoder. */
export interface CropEncoder {
  /** Features `[N, F]` of crops `[N, s, s, C]`. */
  encode(crops: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** F. */
  featureDim: number;
}

/**
 * The shared encoder applied to `size × size` crops. A conv encoder with a
 * pooling head runs its convolutions (its feature map, the layers whose
 * weights transfer) and global-average-pools the crop's map — for a global
 * pooling encoder that is the encoder itself, and it also serves encoders that
 * pool to a fixed grid and so only take full-size images. Any other encoder is
 * applied to the crops directly; a clear error says when that fails.
 */
export function cropEncoder(encoder: ImageEncoder, size: number, channels: number, fn: string, what: string): CropEncoder {
  let map: tfl.LayersModel | null = null;
  try {
    map = featureMapModel(encoder);
  } catch {
    map = null;
  }
  const encode = (crops: tf.Tensor4D, training: boolean): tf.Tensor2D =>
    tf.tidy(() =>
      map !== null
        ? (tf.mean(map.apply(crops, { training }) as tf.Tensor4D, [1, 2]) as tf.Tensor2D)
        : encodeImages(encoder, crops, training),
    );
  try {
    const featureDim = tf.tidy(() => encode(tf.zeros([1, size, size, channels]) as tf.Tensor4D, false).shape[1]);
    return { encode, featureDim };
  } catch (e) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      `encode ${size}×${size} ${what} (a convolutional encoder with a pooling head, such as convEncoder)`,
      `an error: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}
