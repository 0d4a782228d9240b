import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../core/custom-gradient.js';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertDtype, assertFloat, assertRank, formatShape } from '../core/validate.js';
import { takeRows } from '../augment/tensor-ops.js';

/** Reads `[B, K]` int32 ids and checks each row holds distinct values in [0, L). */
function readIds(ids: tf.Tensor, limit: number, fn: string, arg: string): Int32Array {
  const values = ids.dataSync() as Int32Array;
  const [b, k] = ids.shape as [number, number];
  const seen = new Uint8Array(limit);
  for (let r = 0; r < b; r++) {
    seen.fill(0);
    for (let j = 0; j < k; j++) {
      const v = values[r * k + j] as number;
      if (!(v >= 0 && v < limit) || seen[v]) {
        throw new InvalidArgumentError(fn, arg, `hold distinct indices in [0, ${limit}) in every row`, `${v} at [${r}, ${j}]`);
      }
      seen[v] = 1;
    }
  }
  return values;
}

/**
 * `x[rows]` on `[N, D]` with distinct `rows`, and its exact backward: the
 * gradient scatters `dy` back to the gathered rows (zeros elsewhere), itself
 * done as a gather so it runs on every backend (tfjs's own `gather` gradient
 * needs `UnsortedSegmentSum`, which the wasm backend lacks).
 */
function takeDistinctRowsWithGrad(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const [n, d] = x.shape;
  const k = rows.length;
  const inverse = new Int32Array(n).fill(k); // row k of the padded dy is zeros
  rows.forEach((src, j) => {
    inverse[src] = j;
  });
  const f = customGradient((_save, input: tf.Tensor) => ({
    value: takeRows(input as tf.Tensor2D, rows),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => takeRows(tf.concat([dy as tf.Tensor2D, tf.zeros([1, d])], 0) as tf.Tensor2D, inverse)),
  }));
  return f(x) as tf.Tensor2D;
}

/** Row gather `out[b, j] = x[b, ids[b, j]]` on `[B, L, D]` with distinct ids per row, differentiable. */
function gatherRowsWithGrad(x: tf.Tensor3D, ids: Int32Array, k: number): tf.Tensor3D {
  const [b, l, d] = x.shape;
  const flat = new Int32Array(b * k);
  for (let r = 0; r < b; r++) for (let j = 0; j < k; j++) flat[r * k + j] = r * l + (ids[r * k + j] as number);
  return tf.tidy(() => tf.reshape(takeDistinctRowsWithGrad(tf.reshape(x, [b * l, d]) as tf.Tensor2D, flat), [b, k, d]) as tf.Tensor3D);
}

/**
 * The visible tokens of MAE's encoder input: `out[b, j] = tokens[b, idsKeep[b, j]]`
 * (MAE's `torch.gather(x, 1, ids_keep)`). Differentiable with respect to
 * `tokens` on every backend.
 *
 * @param tokens - `[B, L, D]` float32 patch embeddings.
 * @param idsKeep - `[B, K]` int32 from {@link randomPatchMask} (distinct per row).
 * @returns `[B, K, D]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { gatherVisible, randomPatchMask } from 'selfsup';
 *
 * const tokens = tf.randomNormal([2, 16, 8]) as tf.Tensor3D;
 * const { idsKeep } = randomPatchMask(2, 16, { maskRatio: 0.75, seed: 1 });
 * console.log(gatherVisible(tokens, idsKeep).shape); // [2, 4, 8]
 * ```
 */
export function gatherVisible(tokens: tf.Tensor3D, idsKeep: tf.Tensor2D): tf.Tensor3D {
  const fn = 'gatherVisible';
  assertRank(tokens, 3, fn, 'tokens', '[B, L, D]');
  assertFloat(tokens, fn, 'tokens');
  assertRank(idsKeep, 2, fn, 'idsKeep', '[B, K]');
  assertDtype(idsKeep, 'int32', fn, 'idsKeep');
  const [b, l] = tokens.shape as [number, number, number];
  const [bi, k] = idsKeep.shape as [number, number];
  if (bi !== b || k > l) {
    throw new ShapeError(fn, 'idsKeep', `have shape [${b}, K] with K ≤ ${l} (tokens ${formatShape(tokens.shape)})`, formatShape(idsKeep.shape));
  }
  return gatherRowsWithGrad(tokens as tf.Tensor3D, readIds(idsKeep, l, fn, 'idsKeep'), k);
}

/** Options of {@link restoreOrder}. */
export interface RestoreOrderOptions {
  /**
   * MAE's learnable mask token `[D]`: when `tokens` holds only the `K`
   * visible tokens, `L − K` copies are appended before unshuffling (MAE's
   * decoder). Gradients flow to it.
   * @default undefined (tokens must already hold L tokens)
   */
  maskToken?: tf.Tensor1D;
}

/**
 * Puts shuffled tokens back in patch order, MAE's decoder step
 * `torch.gather(x_, 1, ids_restore)`: `out[b, l] = full[b, idsRestore[b, l]]`
 * where `full` is `tokens`, or `tokens` followed by copies of `maskToken`.
 * Differentiable with respect to `tokens` and `maskToken` on every backend.
 *
 * @param tokens - `[B, K, D]` (with `maskToken`) or `[B, L, D]` float32, in shuffled order.
 * @param idsRestore - `[B, L]` int32 from {@link randomPatchMask}.
 * @returns `[B, L, D]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { gatherVisible, randomPatchMask, restoreOrder } from 'selfsup';
 *
 * const tokens = tf.randomNormal([2, 16, 8]) as tf.Tensor3D;
 * const { idsKeep, idsRestore } = randomPatchMask(2, 16, { seed: 1 });
 * const visible = gatherVisible(tokens, idsKeep); // [2, 4, 8]
 * const full = restoreOrder(visible, idsRestore, { maskToken: tf.zeros([8]) as tf.Tensor1D });
 * console.log(full.shape); // [2, 16, 8]: visible tokens back in place, mask tokens elsewhere
 * ```
 */
export function restoreOrder(tokens: tf.Tensor3D, idsRestore: tf.Tensor2D, options: RestoreOrderOptions = {}): tf.Tensor3D {
  const fn = 'restoreOrder';
  assertRank(tokens, 3, fn, 'tokens', '[B, K or L, D]');
  assertFloat(tokens, fn, 'tokens');
  assertRank(idsRestore, 2, fn, 'idsRestore', '[B, L]');
  assertDtype(idsRestore, 'int32', fn, 'idsRestore');
  const [b, k, d] = tokens.shape as [number, number, number];
  const [bi, l] = idsRestore.shape as [number, number];
  const { maskToken } = options;
  if (bi !== b || k > l) {
    throw new ShapeError(fn, 'idsRestore', `have shape [${b}, L] with L ≥ ${k} (tokens ${formatShape(tokens.shape)})`, formatShape(idsRestore.shape));
  }
  if (k < l && maskToken === undefined) {
    throw new ShapeError(fn, 'tokens', `hold L = ${l} tokens, or pass options.maskToken to fill the ${l - k} masked positions`, formatShape(tokens.shape));
  }
  if (maskToken !== undefined) {
    assertRank(maskToken, 1, fn, 'options.maskToken', '[D]');
    assertFloat(maskToken, fn, 'options.maskToken');
    if (maskToken.shape[0] !== d) throw new ShapeError(fn, 'options.maskToken', `have shape [${d}] (D of tokens)`, formatShape(maskToken.shape));
  }
  const ids = readIds(idsRestore, l, fn, 'idsRestore');
  return tf.tidy(() => {
    const full =
      k < l
        ? (tf.concat([tokens, tf.broadcastTo(tf.reshape(maskToken as tf.Tensor1D, [1, 1, d]), [b, l - k, d])], 1) as tf.Tensor3D)
        : tokens;
    return gatherRowsWithGrad(full, ids, l);
  });
}

/**
 * The tokens at the masked positions, stacked: `out[m] = tokens[b, l]` for
 * the m-th 1 of `mask` in row-major order (image by image, patch by patch) —
 * DINOv2's `index_select(tokens.flatten(0, 1), mask_indices_list)`, which
 * feeds the masked patch tokens of the student and of the teacher to the
 * head for the iBOT loss (`ibotPatchLoss` of selfsup/losses expects this
 * order). Differentiable with respect to `tokens` on every backend.
 *
 * @param tokens - `[B, L, D]` float32 patch tokens (without a class token).
 * @param mask - `[B, L]` with 1 at the positions to take (0/1 float32, or bool).
 * @returns `[M, D]`, M = the number of ones (0 rows when nothing is masked).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { gatherMaskedTokens } from 'selfsup';
 *
 * const tokens = tf.reshape(tf.range(0, 12), [2, 3, 2]) as tf.Tensor3D; // 2 images × 3 patches × 2
 * const mask = tf.tensor2d([[0, 1, 1], [1, 0, 0]]);
 * gatherMaskedTokens(tokens, mask).print(); // [[2, 3], [4, 5], [6, 7]]
 * ```
 */
export function gatherMaskedTokens(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  const fn = 'gatherMaskedTokens';
  assertRank(tokens, 3, fn, 'tokens', '[B, L, D]');
  assertFloat(tokens, fn, 'tokens');
  assertRank(mask, 2, fn, 'mask', '[B, L]');
  const [b, l, d] = tokens.shape;
  if (mask.shape[0] !== b || mask.shape[1] !== l) {
    throw new ShapeError(fn, 'mask', `have shape [${b}, ${l}] (tokens ${formatShape(tokens.shape)})`, formatShape(mask.shape));
  }
  const flags = mask.dataSync();
  const rows: number[] = [];
  for (let i = 0; i < b * l; i++) {
    const v = Number(flags[i]);
    if (v !== 0 && v !== 1) throw new InvalidArgumentError(fn, 'mask', 'hold only 0 and 1', `${v} at [${Math.floor(i / l)}, ${i % l}]`);
    if (v === 1) rows.push(i);
  }
  return tf.tidy(() => {
    const flat = tf.reshape(tokens, [b * l, d]) as tf.Tensor2D;
    // An empty selection keeps the connection to tokens (a zero gradient) without a zero-row gather.
    if (rows.length === 0) return tf.slice(flat, [0, 0], [0, d]);
    return takeDistinctRowsWithGrad(flat, Int32Array.from(rows));
  });
}
