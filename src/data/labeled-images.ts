import type * as tf from '@tensorflow/tfjs-core';

/** Images with integer class labels, as every selfsup loader returns them. */
export interface LabeledImages {
  /** NHWC float32 images in [0, 1], `[N, H, W, C]`. */
  images: tf.Tensor4D;
  /** int32 class indices, `[N]`. */
  labels: tf.Tensor1D;
  /** Human-readable class names, indexed by label. */
  classNames: string[];
}

/** Common options of the loaders. */
export interface LoaderOptions {
  /**
   * Keep only the first `limit` examples (after `offset`).
   * @default all
   */
  limit?: number;
  /**
   * Skip the first `offset` examples.
   * @default 0
   */
  offset?: number;
}
