import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { patchifyRaw, unpatchifyRaw } from '../core/patches.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { assertFloat, assertInteger, assertRank, formatShape } from '../core/validate.js';

/**
 * Splits NHWC images into non-overlapping `p×p` patches, MAE's `patchify`
 * for channels-last input: `[B, H, W, C]` → `[B, (H/p)·(W/p), p·p·C]`,
 * patches in row-major order, the values inside a patch ordered (row, col,
 * channel). Differentiable (reshape and transpose only).
 *
 * @param images - `[B, H, W, C]` float32 with H and W divisible by `patchSize`.
 * @param patchSize - the patch side `p`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { patchify } from 'selfsup';
 *
 * const patches = patchify(tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D, 8);
 * console.log(patches.shape); // [2, 16, 192]
 * ```
 */
export function patchify(images: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const fn = 'patchify';
  assertRank(images, 4, fn, 'images', '[B, H, W, C] (NHWC)');
  assertFloat(images, fn, 'images');
  assertInteger(patchSize, fn, 'patchSize', { min: 1 });
  const [, h, w] = images.shape as [number, number, number, number];
  if (h % patchSize !== 0 || w % patchSize !== 0) {
    throw new ShapeError(fn, 'images', `have H and W divisible by patchSize ${patchSize}`, formatShape(images.shape));
  }
  return patchifyRaw(images as tf.Tensor4D, patchSize);
}

/**
 * The exact inverse of {@link patchify}: `[B, L, p·p·C]` patches back to
 * `[B, H, W, C]` images, with `L = (H/p)·(W/p)`.
 *
 * @param patches - `[B, L, p·p·C]` float32.
 * @param patchSize - the patch side `p`.
 * @param size - `[H, W]` of the images.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { patchify, unpatchify } from 'selfsup';
 *
 * const x = tf.randomUniform([1, 16, 16, 3]) as tf.Tensor4D;
 * const back = unpatchify(patchify(x, 4), 4, [16, 16]);
 * console.log(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]); // 0
 * ```
 */
export function unpatchify(patches: tf.Tensor3D, patchSize: number, size: readonly [number, number]): tf.Tensor4D {
  const fn = 'unpatchify';
  assertRank(patches, 3, fn, 'patches', '[B, L, p·p·C]');
  assertFloat(patches, fn, 'patches');
  assertInteger(patchSize, fn, 'patchSize', { min: 1 });
  if (!Array.isArray(size) || size.length !== 2) throw new ShapeError(fn, 'size', 'be [H, W]', String(size));
  const [h, w] = size;
  assertInteger(h, fn, 'size[0]', { min: 1 });
  assertInteger(w, fn, 'size[1]', { min: 1 });
  assertMemoryFits(fn, 'size', [{ shape: [patches.shape[0], h, w, Math.max(1, Math.floor((patches.shape[2] ?? 0) / (patchSize * patchSize)))], count: 2 }]);
  if (h % patchSize !== 0 || w % patchSize !== 0) {
    throw new ShapeError(fn, 'size', `have H and W divisible by patchSize ${patchSize}`, `[${h}, ${w}]`);
  }
  const [, l, d] = patches.shape as [number, number, number];
  const expected = (h / patchSize) * (w / patchSize);
  if (l !== expected || d % (patchSize * patchSize) !== 0) {
    throw new ShapeError(
      fn,
      'patches',
      `have shape [B, ${expected}, ${patchSize}·${patchSize}·C] for ${h}×${w} images and patchSize ${patchSize}`,
      formatShape(patches.shape),
    );
  }
  return unpatchifyRaw(patches as tf.Tensor3D, patchSize, h, w);
}
