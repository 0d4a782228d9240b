import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError } from '../core/errors.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { assertNonEmptyImages } from '../core/images.js';
import { assertOneOf, assertRank, assertValuesInRange, formatShape } from '../core/validate.js';

/**
 * Reads an image batch for a public entry point: checks rank, dtype, channel
 * count and (when asked) the value range, and converts `inputRange: 255`
 * input to float32 in [0, 1]. Returns `images` itself when no conversion was
 * needed, else a new tensor the caller disposes.
 */
export function readImages(
  images: unknown,
  fn: string,
  {
    inputRange = 1,
    channels,
    checkRange = false,
    arg = 'images',
  }: { inputRange?: 1 | 255; channels?: readonly number[]; checkRange?: boolean; arg?: string } = {},
): tf.Tensor4D {
  assertRank(images, 4, fn, arg, '[B, H, W, C] (NHWC)');
  assertNonEmptyImages(images, fn, arg);
  if (inputRange !== 1 && inputRange !== 255) assertOneOf(inputRange, [1, 255], fn, 'options.inputRange');
  if (inputRange === 255) {
    if (images.dtype !== 'float32' && images.dtype !== 'int32') {
      throw new DTypeError(fn, arg, 'have dtype int32 or float32 (inputRange: 255)', images.dtype);
    }
  } else if (images.dtype !== 'float32') {
    throw new DTypeError(
      fn,
      arg,
      `have dtype float32 with values in [0, 1]${images.dtype === 'int32' ? ' (pass inputRange: 255 for [0, 255] integer images)' : ''}`,
      images.dtype,
    );
  }
  assertChannels(images as tf.Tensor4D, fn, arg, channels);
  if (checkRange) assertPixelRange(images, inputRange, fn, arg);
  if (inputRange === 1) return images as tf.Tensor4D;
  return tf.tidy(() => tf.div(tf.cast(images, 'float32'), 255)) as tf.Tensor4D;
}

/** Throws unless the last axis has one of `channels` entries. */
export function assertChannels(images: tf.Tensor4D, fn: string, arg: string, channels?: readonly number[]): void {
  if (channels && !channels.includes(images.shape[3])) {
    // A channel count on axis 1 is the usual sign of PyTorch's NCHW layout.
    const nchw = channels.includes(images.shape[1]) ? ` (an NCHW batch? selfsup takes NHWC: tf.transpose(${arg}, [0, 2, 3, 1]))` : '';
    throw new ShapeError(
      fn,
      arg,
      `have ${channels.join(' or ')} channel${channels.length === 1 && channels[0] === 1 ? '' : 's'} (last axis of NHWC)`,
      `${images.shape[3]} in shape ${formatShape(images.shape)}${nchw}`,
    );
  }
}

/** Validation of `apply`'s image input: float32 NHWC (range unchecked: apply is the fast path). */
export function assertApplyImages(images: unknown, fn: string, channels?: readonly number[]): asserts images is tf.Tensor4D {
  assertRank(images, 4, fn, 'images', '[B, H, W, C] (NHWC)');
  assertNonEmptyImages(images, fn);
  if (images.dtype !== 'float32') throw new DTypeError(fn, 'images', 'have dtype float32', images.dtype);
  assertChannels(images as tf.Tensor4D, fn, 'images', channels);
}

/**
 * `assertValuesInRange` on a 2-value summary (min and max, NaN when any value
 * is NaN) computed by three reductions: the check then reads back 2 numbers
 * instead of the whole batch (≈ 3× faster on wasm for a 256×32×32×3 batch),
 * with the same message.
 */
function assertPixelRange(images: tf.Tensor, hi: number, fn: string, arg: string): void {
  if (images.size === 0) return;
  const summary = tf.tidy(() => {
    // On wasm one selfsup kernel computes the same summary in one pass.
    if (images.dtype === 'float32' && hasFusedKernel(FUSED.minMax)) return tf.engine().runKernel(FUSED.minMax, { x: images }) as tf.Tensor;
    const x = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    // sum·0 is 0 for finite input and NaN when any value is NaN or infinite.
    const poison = tf.mul(tf.sum(x), 0);
    return tf.stack([tf.add(tf.min(x), poison), tf.add(tf.max(x), poison)]);
  });
  try {
    const [min, max] = summary.dataSync() as Float32Array;
    if (Number.isNaN(min) || Number.isNaN(max)) {
      // Let the full check name the problem (NaN, or an infinite value).
      assertValuesInRange(images, 0, hi, fn, arg, 'pixel values');
      return;
    }
    assertValuesInRange(summary, 0, hi, fn, arg, 'pixel values');
  } finally {
    summary.dispose();
  }
}
