/**
 * CIE Lab plumbing of the colour tasks (colorization, split-brain).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { rgbToLab } from '../../augment/color-lab.js';

/** Scale of the ab input of split-brain's ab → L network (ab lie roughly in [−110, 110]). */
export const AB_SCALE = 110;

/**
 * L\*, a\*, b\* of RGB images `[B, H, W, 3]`, or of grayscale images
 * `[B, H, W, 1]` (read as R = G = B, so a\* = b\* = 0): `l` `[B, H, W, 1]`
 * in [0, 100], `ab` `[B, H, W, 2]`.
 */
export function labChannels(images: tf.Tensor4D): { l: tf.Tensor4D; ab: tf.Tensor4D } {
  return tf.tidy(() => {
    const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
    const lab = rgbToLab(rgb as tf.Tensor4D);
    const [l, ab] = tf.split(lab, [1, 2], 3) as [tf.Tensor4D, tf.Tensor4D];
    return { l, ab };
  });
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
