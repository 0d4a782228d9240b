import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertKnownOptions, assertFloat, assertRank, describeValue, formatShape } from '../core/validate.js';
import { readImages } from '../augment/image-input.js';

/** Options of {@link applyMask}. */
export interface ApplyMaskOptions {
  /**
   * Value of the hole pixels: one number or one per channel.
   * @default 0
   */
  fill?: number | readonly number[];
}

/**
 * Fills the holes of a mask: `images·(1 − mask) + fill·mask` (soft masks in
 * [0, 1] blend). Differentiable with respect to `images` and `mask`.
 *
 * @param images - `[B, H, W, C]` float32.
 * @param mask - `[B or 1, H, W, 1 or C]` float32, 1 = hole.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyMask, centerMask } from 'selfsup';
 *
 * const x = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
 * const y = applyMask(x, centerMask(2, [8, 8]), { fill: [0.5, 0.5, 0.5] });
 * console.log(tf.mean(y).dataSync()[0]); // 1 − 0.25·0.5 = 0.875
 * ```
 */
export function applyMask(images: tf.Tensor4D, mask: tf.Tensor4D, options: ApplyMaskOptions = {}): tf.Tensor4D {
  const fn = 'applyMask';
  const x = readImages(images, fn);
  assertRank(mask, 4, fn, 'mask', '[B, H, W, 1]');
  assertFloat(mask, fn, 'mask');
  assertKnownOptions(options, ['fill'], fn);
  const [b, h, w, c] = x.shape;
  const [mb, mh, mw, mc] = mask.shape as [number, number, number, number];
  if (!((mb === b || mb === 1) && mh === h && mw === w && (mc === 1 || mc === c))) {
    throw new ShapeError(fn, 'mask', `have shape [${b} or 1, ${h}, ${w}, 1 or ${c}] for images ${formatShape(x.shape)}`, formatShape(mask.shape));
  }
  const { fill = 0 } = options;
  const fillOk =
    (typeof fill === 'number' && Number.isFinite(fill)) ||
    (Array.isArray(fill) && (fill.length === c || fill.length === 1) && fill.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!fillOk) throw new InvalidArgumentError(fn, 'options.fill', `be a number or ${c} per-channel numbers`, describeValue(fill));
  return tf.tidy(() => {
    const fillTensor = typeof fill === 'number' ? tf.scalar(fill) : tf.tensor1d(fill as number[]);
    return tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(mask, fillTensor)) as tf.Tensor4D;
  });
}
