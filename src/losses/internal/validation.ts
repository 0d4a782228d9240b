/** Argument checks shared by the losses (on top of src/core/validate.ts). */
import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../../core/errors.js';
import { assertFloat, assertMinSize, assertRank, assertSameShape, formatShape } from '../../core/validate.js';

/**
 * Throws unless `x` is a float32 `[N, D]` batch of embeddings with `N ≥ minRows`
 * (2 where a batch statistic needs it) and `D ≥ 1`.
 */
export function assertEmbeddings(
  x: unknown,
  fn: string,
  arg: string,
  minRows = 1,
  why?: string,
): asserts x is tf.Tensor2D {
  assertRank(x, 2, fn, arg, '[N, D]');
  assertFloat(x, fn, arg);
  assertMinSize(x, 0, minRows, fn, arg, 'N', why);
  assertMinSize(x, 1, 1, fn, arg, 'D');
}

/** Throws unless `x` is float32 with exactly the shape of `reference`. */
export function assertMatching(
  x: unknown,
  reference: tf.Tensor,
  fn: string,
  arg: string,
  referenceArg: string,
  dims?: string,
): asserts x is tf.Tensor {
  assertSameShape(x, reference, fn, arg, referenceArg, dims);
  assertFloat(x, fn, arg);
}

/** Throws when `x` has no elements (a mean over it would be NaN). */
export function assertNonEmpty(x: tf.Tensor, fn: string, arg: string): void {
  if (x.size === 0) {
    throw new ShapeError(fn, arg, 'have at least one element', formatShape(x.shape));
  }
}
