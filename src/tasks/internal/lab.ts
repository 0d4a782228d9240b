/**
 * CIE Lab plumbing of the colour tasks (colorization, split-brain).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { labSplit } from '../../masking/lab-split.js';

/**
 * L\*, a\*, b\* of RGB images `[B, H, W, 3]`, or of grayscale images
 * `[B, H, W, 1]` (read as R = G = B, so a\* = b\* = 0), in Lab units
 * (`labSplit` with `scaling: 'raw'`): `l` `[B, H, W, 1]` in [0, 100], `ab` `[B, H, W, 2]`.
 */
export function labChannels(images: tf.Tensor4D): { l: tf.Tensor4D; ab: tf.Tensor4D } {
  return tf.tidy(() => labSplit((images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images) as tf.Tensor4D, { scaling: 'raw' }));
}

/** The network input for lightness: `(L − 50) / 100` ∈ [−0.5, 0.5] (Zhang et al.'s `l_cent`, `l_norm`; labSplit's `'zhang'` scaling). */
export function lightnessInput(l: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(l, 50), 100) as tf.Tensor4D);
}

/** The network input for colour: `ab / 110` (Zhang et al.'s `ab_norm`; labSplit's `'zhang'` scaling). */
export function colourInput(ab: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(ab, 110) as tf.Tensor4D);
}

/** Bilinear resize to `[h, w]` (half-pixel centres), or the input itself when the size already matches. */
export function resizeTo(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  if (x.shape[1] === h && x.shape[2] === w) return x;
  return tf.image.resizeBilinear(x, [h, w], false, true);
}

/**
 * Area-averaged downsampling to `[h, w]` when the size divides evenly (what
 * a coarser target grid should see), bilinear otherwise.
 */
export function downsampleTo(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, H, W] = x.shape;
  if (H === h && W === w) return x;
  if (H % h === 0 && W % w === 0) return tf.avgPool(x, [H / h, W / w], [H / h, W / w], 'valid');
  return tf.image.resizeBilinear(x, [h, w], false, true);
}
