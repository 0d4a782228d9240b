/**
 * K augmented views of a batch for the multi-view methods (MMCR, FastSiam),
 * drawn as `twoViews` draws two: one seeded stream, each view's parameters
 * sampled in turn.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { readImages } from '../../augment/image-input.js';
import type { Transform } from '../../augment/transform.js';
import { ShapeError } from '../../core/errors.js';
import { createRng } from '../../core/rng.js';
import { formatShape } from '../../core/validate.js';

/**
 * `count` views of `images`, view k through `transforms[k mod transforms.length]`
 * (one pipeline, or a per-view pair taken in turn), parameters from `seed`;
 * the caller disposes them.
 */
export function augmentViews(
  images: tf.Tensor4D,
  transforms: readonly Transform[],
  count: number,
  seed: number,
  fn: string,
  encoderShape: readonly [number, number, number],
): tf.Tensor4D[] {
  const x = readImages(images, fn, { checkRange: transforms.some((t) => t.requiresUnitRange) });
  const rng = createRng(seed, fn, 'seed');
  const views: tf.Tensor4D[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const transform = transforms[k % transforms.length]!;
      views.push(transform.apply(x, transform.sample(x.shape, rng)));
    }
    const [h, w, c] = encoderShape;
    const bad = views.find((v) => v.shape[1] !== h || v.shape[2] !== w || v.shape[3] !== c);
    if (bad !== undefined) {
      throw new ShapeError(fn, 'options.augment', `produce views of the encoder's input size [B, ${h}, ${w}, ${c}]`, formatShape(bad.shape));
    }
    return views;
  } catch (e) {
    tf.dispose(views);
    throw e;
  }
}
