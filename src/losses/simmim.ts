import * as tf from '@tensorflow/tfjs-core';
import { assertImages } from '../core/images.js';
import { assertFloat, assertShape, formatShape } from '../core/validate.js';

/**
 * The reconstruction loss of SimMIM (Xie et al., "SimMIM: A Simple Framework
 * for Masked Image Modeling", CVPR 2022; `SimMIM.forward` of the official
 * code): the L1 distance between the predicted and the true pixels, averaged
 * over the masked pixels only.
 *
 * Shapes: `prediction` and `images` float32 NHWC `[B, H, W, C]` (the
 * decoder's full image and the input before masking), `mask` float32
 * `[B, H, W, 1]` with 1 at masked pixels (a patch mask brought to pixels,
 * e.g. by `maskToPixels`); returns a scalar:
 *
 * `L = Σ_{b,y,x,c} mask_byx · |pred_byxc − image_byxc| / (Σ_{b,y,x} mask_byx + 1e-5) / C`
 *
 * Reduction and the 1e-5 are the official code's (`(loss_recon * mask).sum()
 * / (mask.sum() + 1e-5) / in_chans`): a mean over masked pixels and channels,
 * 0 for an all-zero mask. SimMIM's ablations found L1 slightly better than L2
 * and predicting raw pixels as good as anything fancier. The gradient of
 * `|·|` at exactly 0 is 0.
 *
 * @param prediction the reconstruction, float32 `[B, H, W, C]`.
 * @param images the original images, float32 `[B, H, W, C]`.
 * @param mask float32 `[B, H, W, 1]`, 1 = masked (predicted) pixel.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { simMIMLoss } from 'selfsup';
 *
 * const images = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
 * const prediction = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
 * const mask = tf.tensor4d([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 4, 4, 1]);
 * console.log(simMIMLoss(prediction, images, mask).dataSync()[0]); // 4 / (4 + 1e-5) ≈ 1
 * ```
 */
export function simMIMLoss(prediction: tf.Tensor4D, images: tf.Tensor4D, mask: tf.Tensor4D): tf.Scalar {
  const fn = 'simMIMLoss';
  assertImages(images, fn, 'images');
  const [b, h, w, c] = images.shape;
  assertShape(prediction, [b, h, w, c], fn, 'prediction', '[B, H, W, C] of images');
  assertFloat(prediction, fn, 'prediction');
  assertShape(mask, [b, h, w, 1], fn, 'mask', `[B, H, W, 1] for images ${formatShape(images.shape)}`);
  assertFloat(mask, fn, 'mask');
  return tf.tidy(() => {
    const error = tf.sum(tf.mul(tf.abs(tf.sub(prediction, images)), mask));
    return tf.div(tf.div(error, tf.add(tf.sum(mask), 1e-5)), c) as tf.Scalar;
  });
}
