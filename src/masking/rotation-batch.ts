import { assertMemoryFits } from '../core/memory-budget.js';
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { formatShape } from '../core/validate.js';
import { readImages } from '../augment/image-input.js';
import { rotateBatch } from '../augment/rotate90.js';
import { takeSamples } from '../augment/tensor-ops.js';

/**
 * The rotation pretext task (RotNet, Gidaris et al. 2018): every image in its
 * four rotations, 0°, 90°, 180° and 270° counter-clockwise, consecutive per
 * image, with the rotation index as label.
 *
 * @param images - `[B, H, W, C]` float32, square.
 * @returns `images` `[4B, H, W, C]` (image i at rows 4i … 4i + 3) and `labels` `[4B]` int32 (0–3).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rotationBatch } from 'selfsup';
 *
 * const { images, labels } = rotationBatch(tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D);
 * console.log(images.shape, labels.dataSync()); // [8, 8, 8, 3] [0, 1, 2, 3, 0, 1, 2, 3]
 * ```
 */
export function rotationBatch(images: tf.Tensor4D): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const fn = 'rotationBatch';
  const x = readImages(images, fn);
  const [b, h, w] = x.shape;
  if (h !== w) throw new ShapeError(fn, 'images', 'be square (H = W) so all rotations share one shape', formatShape(x.shape));
  // Four rotations stacked, then reordered: 8 copies of the batch at the peak.
  assertMemoryFits(fn, 'images', [{ shape: x.shape, count: 8 }]);
  const out = tf.tidy(() => {
    const stacked = tf.concat([tf.clone(x), rotateBatch(x, 1), rotateBatch(x, 2), rotateBatch(x, 3)], 0) as tf.Tensor4D;
    // Row k·B + i holds image i rotated k times; interleave to 4i + k.
    const order = new Int32Array(4 * b);
    for (let i = 0; i < b; i++) for (let k = 0; k < 4; k++) order[4 * i + k] = k * b + i;
    return takeSamples(stacked, order);
  });
  const labels = tf.tensor1d(Int32Array.from({ length: 4 * b }, (_, j) => j % 4), 'int32');
  return { images: out, labels };
}
