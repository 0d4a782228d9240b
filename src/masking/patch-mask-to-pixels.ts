import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { assertFloat, assertInteger, assertRank, formatShape } from '../core/validate.js';

/**
 * A per-patch mask `[B, gh·gw]` (row-major patches, 1 = masked, e.g.
 * `randomPatchMask`'s) brought to pixel resolution: `[B, gh·p, gw·p, 1]`,
 * every pixel of patch (i, j) set to that patch's value — SimMIM's
 * `repeat_interleave` of its mask, and the pixel mask MAE's and SimMIM's
 * losses and displays use. With `p` the ratio of two patch sizes it also
 * refines a coarse mask onto a finer patch grid (SimMIM's 32-pixel mask
 * patches over a ViT's 16-pixel tokens: reshape the result to `[B, L]`).
 *
 * @param mask float32 `[B, gh·gw]`.
 * @param grid `[gh, gw]`, the patch grid the mask is laid out on.
 * @param patchSize p, the side each patch is repeated to.
 * @returns float32 `[B, gh·p, gw·p, 1]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { patchMaskToPixels } from 'selfsup';
 *
 * const pixels = patchMaskToPixels(tf.tensor2d([[1, 0, 0, 1]]), [2, 2], 2);
 * console.log(pixels.shape); // [1, 4, 4, 1]
 * console.log(Array.from(pixels.dataSync())); // rows 1 1 0 0 / 1 1 0 0 / 0 0 1 1 / 0 0 1 1
 * ```
 */
export function patchMaskToPixels(mask: tf.Tensor2D, grid: readonly [number, number], patchSize: number): tf.Tensor4D {
  const fn = 'patchMaskToPixels';
  assertRank(mask, 2, fn, 'mask', '[B, L]');
  assertFloat(mask, fn, 'mask');
  const ok = Array.isArray(grid) && grid.length === 2 && grid.every((g) => Number.isInteger(g) && g >= 1);
  if (!ok) throw new ShapeError(fn, 'grid', 'be [gh, gw] with integers ≥ 1', JSON.stringify(grid));
  assertInteger(patchSize, fn, 'patchSize', { min: 1 });
  const [gh, gw] = grid;
  if (mask.shape[1] !== gh * gw) {
    throw new ShapeError(fn, 'mask', `have L = gh·gw = ${gh * gw} patches for grid [${gh}, ${gw}]`, formatShape(mask.shape));
  }
  return patchMaskToPixelsUnchecked(mask, gh, gw, patchSize);
}

/** {@link patchMaskToPixels} without validation. */
export function patchMaskToPixelsUnchecked(mask: tf.Tensor2D, gh: number, gw: number, p: number): tf.Tensor4D {
  return tf.tidy(() => {
    const b = mask.shape[0];
    const cells = tf.reshape(mask, [b, gh, 1, gw, 1]);
    return tf.reshape(tf.tile(cells, [1, 1, p, 1, p]), [b, gh * p, gw * p, 1]) as tf.Tensor4D;
  });
}
