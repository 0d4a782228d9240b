import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueRangeError } from '../core/errors.js';
import { assertDtype, assertFiniteValues, assertFloat, assertMinSize, assertRank, formatShape } from '../core/validate.js';

/** Throws unless `features` is a float32 `[N, D]` matrix with N ≥ `minRows`. */
export function assertFeatures(features: unknown, fn: string, arg: string, minRows = 1): asserts features is tf.Tensor2D {
  assertRank(features, 2, fn, arg, '[N, D]');
  assertFloat(features, fn, arg);
  assertMinSize(features, 0, minRows, fn, arg, 'N');
  assertMinSize(features, 1, 1, fn, arg, 'D');
  // A NaN or infinite feature makes every metric, neighbour and probe undefined: refuse, never return NaN.
  assertFiniteValues(features, fn, arg, 'features');
}

/**
 * Throws unless `labels` is an int32 `[N]` vector of class indices ≥ 0 whose
 * length matches `features`; returns the labels and the largest label + 1.
 */
export function readLabels(labels: unknown, rows: number, fn: string, arg: string, featuresArg: string): { values: Int32Array; numClasses: number } {
  assertRank(labels, 1, fn, arg, '[N]');
  assertDtype(labels, 'int32', fn, arg);
  if (labels.shape[0] !== rows) {
    throw new ShapeError(fn, arg, `have N = ${rows} entries, one per row of ${featuresArg}`, formatShape(labels.shape));
  }
  const values = labels.dataSync() as Int32Array;
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0) throw new ValueRangeError(fn, arg, 'hold class indices ≥ 0', `${v} at index ${i}`);
    if (v > max) max = v;
  }
  return { values, numClasses: max + 1 };
}

/** Throws unless two feature matrices have the same width D. */
export function assertSameWidth(x: tf.Tensor2D, reference: tf.Tensor2D, fn: string, arg: string, referenceArg: string): void {
  if (x.shape[1] !== reference.shape[1]) {
    throw new ShapeError(fn, arg, `have D = ${reference.shape[1]} columns like ${referenceArg}`, formatShape(x.shape));
  }
}
