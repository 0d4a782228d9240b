import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../core/validate.js';

/**
 * Turns `count` rows laid out as `[pixels..., label]` (uint8) into NHWC float32
 * images scaled by `1 / maxValue` and int32 labels.
 */
export function rowsToTensors(
  bytes: Uint8Array,
  rowOffset: number,
  count: number,
  shape: [number, number, number],
  maxValue: number,
): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const pixels = shape[0] * shape[1] * shape[2];
  const rowLength = pixels + 1;
  const values = new Float32Array(count * pixels);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = (rowOffset + i) * rowLength;
    for (let j = 0; j < pixels; j++) values[i * pixels + j] = (bytes[start + j] as number) / maxValue;
    labels[i] = bytes[start + pixels] as number;
  }
  return {
    images: tf.tensor4d(values, [count, ...shape]),
    labels: tf.tensor1d(labels, 'int32'),
  };
}

/** Resolves `{offset, limit}` against `available` rows, validating both. */
export function selectRange(
  available: number,
  offset: number | undefined,
  limit: number | undefined,
  fn: string,
): { start: number; count: number } {
  const start = offset ?? 0;
  assertInteger(start, fn, 'options.offset', { min: 0, max: available });
  const count = limit ?? available - start;
  assertInteger(count, fn, 'options.limit', { min: 1, max: available - start });
  return { start, count };
}
