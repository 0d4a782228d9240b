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
 * Row gather `out[b, j] = x[b, ids[b, j]]` on `[B, L, D]` with distinct ids
 * per row, and its exact backward: the gradient scatters `dy` back to the
 * gathered rows (zeros elsewhere), itself done as a gather so it runs on
 * every backend (tfjs's own `gather` gradient needs `UnsortedSegmentSum`,
 * which the wasm backend lacks).
 */
function gatherRowsWithGrad(x: tf.Tensor3D, ids: Int32Array, k: number): tf.Tensor3D {
  const [b, l, d] = x.shape;
  const flat = new Int32Array(b * k);
  const inverse = new Int32Array(b * l).fill(b * k); // row b·k of the padded dy is zeros
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < k; j++) {
      const src = r * l + (ids[r * k + j] as number);
      flat[r * k + j] = src;
      inverse[src] = r * k + j;
    }
  }
  const f = customGradient((_save, input: tf.Tensor) => ({
    value: tf.tidy(() => tf.reshape(takeRows(tf.reshape(input, [b * l, d]) as tf.Tensor2D, flat), [b, k, d])),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() => {
        const padded = tf.concat([tf.reshape(dy, [b * k, d]), tf.zeros([1, d])], 0) as tf.Tensor2D;
        return tf.reshape(takeRows(padded, inverse), [b, l, d]);
      }),
  }));
  return f(x) as tf.Tensor3D;
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
