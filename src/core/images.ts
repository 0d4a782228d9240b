import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from './errors.js';
import { assertFloat, assertRank, formatShape } from './validate.js';

/** Throws unless every axis of an NHWC batch has at least one entry (tfjs's image kernels fail on empty ones). */
export function assertNonEmptyImages(images: tf.Tensor, fn: string, arg = 'images'): void {
  if (images.shape.some((d) => d === 0)) {
    throw new ShapeError(fn, arg, 'have B, H, W and C ≥ 1 (an empty batch or image has no pixels to work on)', formatShape(images.shape));
  }
}

/**
 * Throws unless `images` is a float32 NHWC batch `[B, H, W, C]`, with `C` one
 * of `channels` when given (e.g. `[3]` for colour operations).
 */
export function assertImages(
  images: unknown,
  fn: string,
  arg = 'images',
  channels?: readonly number[],
): asserts images is tf.Tensor4D {
  assertRank(images, 4, fn, arg, '[B, H, W, C] (NHWC)');
  assertNonEmptyImages(images, fn, arg);
  assertFloat(images, fn, arg);
  if (channels && !channels.includes(images.shape[3] as number)) {
    throw new ShapeError(
      fn,
      arg,
      `have ${channels.join(' or ')} channel${channels.length === 1 && channels[0] === 1 ? '' : 's'} (last axis of NHWC)`,
      `${images.shape[3]} in shape ${formatShape(images.shape)}`,
    );
  }
}
