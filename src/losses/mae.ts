import * as tf from '@tensorflow/tfjs-core';
import { assertImages } from '../core/images.js';
import { patchifyRaw } from '../core/patches.js';
import { ShapeError } from '../core/errors.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertRank,
  assertShape,
  formatShape,
} from '../core/validate.js';
import { divideByMaskTotal } from './internal/masked-mean.js';

/** Options of {@link maeLoss}. */
export interface MaeLossOptions {
  /** Side p of the square patches (must divide H and W). Required. */
  patchSize: number;
  /**
   * Regress per-patch normalised pixels: the target is
   * `(t − mean(t)) / sqrt(var_unbiased(t) + 1e-6)` over each patch's p·p·C
   * values (MAE's `norm_pix_loss`, used for its best results).
   * @default false
   */
  normPixLoss?: boolean;
}

/**
 * The reconstruction loss of Masked Autoencoders (He et al., "Masked
 * Autoencoders Are Scalable Vision Learners", CVPR 2022; `forward_loss` of
 * the official code).
 *
 * Shapes: `prediction` float32 `[B, L, p·p·C]` (the decoder's pixels per
 * patch), `images` float32 NHWC `[B, H, W, C]` with `p` dividing H and W and
 * `L = (H/p)·(W/p)`, `mask` float32 `[B, L]` with 1 for a removed (masked)
 * patch and 0 for a visible one. Returns a scalar.
 *
 * The target is `images` cut into patches in row-major order, each flattened
 * in (row, col, channel) order: MAE's `patchify` layout for channels-last
 * images (see `patchify` in selfsup/masking). Then
 *
 * `L = Σ_{b,l} mask_bl · mean_j (pred_blj − target_blj)² / Σ_{b,l} mask_bl`
 *
 * Reduction: the per-patch MSE averaged over the removed patches only, as
 * MAE. An all-zero mask gives 0 instead of NaN. With `normPixLoss` the
 * target of each patch is standardised first (unbiased variance + 1e-6, as
 * `target.var(dim=-1)` in the official code). Values: 0 for a perfect
 * reconstruction of the masked patches; predicting each patch's mean pixel
 * gives its biased pixel variance, and with `normPixLoss` predicting zeros
 * gives about `(n − 1)/n`, `n = p·p·C`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { maeLoss } from 'selfsup';
 *
 * const images = tf.ones([1, 4, 4, 3]);
 * const prediction = tf.zeros([1, 4, 2 * 2 * 3]); // 4 patches of 2×2×3
 * const mask = tf.tensor2d([[1, 0, 0, 1]]); // patches 0 and 3 were removed
 * console.log(maeLoss(prediction, images, mask, { patchSize: 2 }).dataSync()[0]); // 1
 * ```
 */
export function maeLoss(
  prediction: tf.Tensor3D,
  images: tf.Tensor4D,
  mask: tf.Tensor2D,
  options: MaeLossOptions,
): tf.Scalar {
  const fn = 'maeLoss';
  assertKnownOptions(options, ['patchSize', 'normPixLoss'], fn);
  const { patchSize, normPixLoss = false } = options ?? ({} as MaeLossOptions);
  assertImages(images, fn, 'images');
  assertInteger(patchSize, fn, 'options.patchSize', { min: 1 });
  assertOneOf(normPixLoss, [true, false], fn, 'options.normPixLoss');
  const [b, h, w, c] = images.shape;
  if (h % patchSize !== 0 || w % patchSize !== 0) {
    throw new ShapeError(
      fn,
      'images',
      `have H and W divisible by options.patchSize = ${patchSize}`,
      formatShape(images.shape),
    );
  }
  const patches = (h / patchSize) * (w / patchSize);
  const patchDim = patchSize * patchSize * c;
  assertRank(prediction, 3, fn, 'prediction', '[B, L, p·p·C]');
  assertShape(prediction, [b, patches, patchDim], fn, 'prediction', '[B, L, p·p·C]');
  assertFloat(prediction, fn, 'prediction');
  assertShape(mask, [b, patches], fn, 'mask', '[B, L]');
  assertFloat(mask, fn, 'mask');
  return tf.tidy(() => {
    let target: tf.Tensor = patchifyRaw(images, patchSize);
    if (normPixLoss) {
      const mean = tf.mean(target, -1, true);
      const centered = tf.sub(target, mean);
      const variance = tf.div(tf.sum(tf.square(centered), -1, true), Math.max(patchDim - 1, 1));
      target = tf.div(centered, tf.sqrt(tf.add(variance, 1e-6)));
    }
    const perPatch = tf.mean(tf.squaredDifference(prediction, target), -1);
    return divideByMaskTotal(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask));
  });
}
