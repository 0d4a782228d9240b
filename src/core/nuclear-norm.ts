import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';
import { nuclearNormOf } from './linalg.js';
import { assertFloat, assertRank } from './validate.js';
import { ShapeError } from './errors.js';
import { formatShape } from './validate.js';

/**
 * The nuclear norm `‖X‖_* = Σ_i σ_i(X)`, the sum of the singular values —
 * differentiable, although tfjs has no SVD: the singular values come from the
 * eigendecomposition of the smaller Gram matrix (`XᵀX` or `XXᵀ`) in float64
 * (Householder tridiagonalisation and implicit QL, the classic tred2/tql2), the
 * same path as {@link eval!rankMe}'s.
 *
 * Gradient: `∂‖X‖_* / ∂X = U_r V_rᵀ` (Recht, Fazel & Parrilo 2010), written
 * `X·V Σ⁻¹ Vᵀ` so that it depends only on the Gram matrix's spectral
 * projector — repeated singular values (an orthogonal matrix, say) have a
 * well-defined gradient whatever basis the eigensolver picked. Where X is
 * rank-deficient the norm is not differentiable; singular values at or below
 * `max(rows, cols)·2⁻²³·σ_max` (float32 rounding) are treated as zero and their
 * directions get no gradient: the minimum-norm subgradient, finite for every
 * input (0 for the zero matrix). Non-finite input gives NaN, as PyTorch's
 * `torch.linalg.matrix_norm(x, 'nuc')` does.
 *
 * Shapes: `[M, N]` → a scalar; `[B, M, N]` → `[B]`, one norm per matrix (as
 * PyTorch batches it). Cost: O(B·(M·N·min + min³)) float64 work on the CPU
 * after reading the tensor back (`dataSync`), so it suits the small matrices
 * of a loss (MMCR's `[batch, dim]` centroids), not large ones.
 *
 * @param x float32 `[M, N]` or `[B, M, N]`.
 * @returns the nuclear norm: a scalar, or `[B]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { nuclearNorm } from 'selfsup';
 *
 * const x = tf.tensor2d([[3, 0], [0, -4], [0, 0]]);
 * console.log(nuclearNorm(x).dataSync()[0]); // 7 (singular values 4 and 3)
 * const g = tf.grad((m: tf.Tensor) => nuclearNorm(m as tf.Tensor2D))(x);
 * g.print(); // [[1, 0], [0, -1], [0, 0]]: U Vᵀ
 * ```
 */
export function nuclearNorm(x: tf.Tensor2D): tf.Scalar;
export function nuclearNorm(x: tf.Tensor3D): tf.Tensor1D;
export function nuclearNorm(x: tf.Tensor2D | tf.Tensor3D): tf.Scalar | tf.Tensor1D;
export function nuclearNorm(x: tf.Tensor2D | tf.Tensor3D): tf.Scalar | tf.Tensor1D {
  const fn = 'nuclearNorm';
  assertRank(x, [2, 3], fn, 'x', '[M, N] or [B, M, N]');
  assertFloat(x, fn, 'x');
  if (x.size === 0) throw new ShapeError(fn, 'x', 'have at least one row and one column', formatShape(x.shape));
  return nuclearNormUnchecked(x);
}

/** {@link nuclearNorm} without validation (library internals that have checked their input). */
export function nuclearNormUnchecked(x: tf.Tensor2D | tf.Tensor3D): tf.Scalar | tf.Tensor1D {
  const batched = x.rank === 3;
  const [b, m, n] = batched ? (x.shape as [number, number, number]) : [1, ...(x.shape as [number, number])];
  const op = customGradient((_save, input: tf.Tensor) => {
    // A float32 copy the backward reads again: gradients are computed only when asked for.
    const data = Float32Array.from(input.dataSync() as Float32Array);
    const values = new Float32Array(b);
    for (let i = 0; i < b; i++) values[i] = nuclearNormOf(data.subarray(i * m * n, (i + 1) * m * n), m, n, false).value;
    return {
      value: batched ? tf.tensor1d(values) : tf.scalar(values[0]!),
      gradFunc: (dy: tf.Tensor) => {
        const gradient = new Float32Array(b * m * n);
        for (let i = 0; i < b; i++) {
          const { gradient: g } = nuclearNormOf(data.subarray(i * m * n, (i + 1) * m * n), m, n, true);
          gradient.set(g!, i * m * n);
        }
        return tf.tidy(() => {
          const g = tf.tensor(gradient, input.shape, 'float32');
          return tf.mul(g, batched ? tf.reshape(dy, [b, 1, 1]) : dy);
        });
      },
    };
  });
  return tf.tidy(() => op(x)) as tf.Scalar | tf.Tensor1D;
}
