import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertKnownOptions, assertPositive } from '../core/validate.js';
import { withoutGradient } from './internal/no-gradient.js';
import { assertEmbeddings } from './internal/validation.js';

/** Options of {@link koleoLoss}. */
export interface KoleoLossOptions {
  /**
   * ε of the three places the reference adds it: the normalisation
   * `x / max(‖x‖, ε)`, the pairwise distance `‖a − b + ε‖` (PyTorch's
   * `PairwiseDistance(eps)` adds it to the difference) and `log(d + ε)`.
   * @default 1e-8 (DINOv2's `KoLeoLoss`)
   */
  eps?: number;
}

/**
 * The KoLeo regulariser of DINOv2 (Oquab et al., "DINOv2: Learning Robust
 * Visual Features without Supervision", TMLR 2024, §4; `KoLeoLoss` of the
 * official code), from the Kozachenko–Leonenko differential-entropy
 * estimator as used by Sablayrolles et al., "Spreading vectors for similarity
 * search", ICLR 2019. It spreads the features of a batch uniformly over the
 * sphere by pushing each one away from its nearest neighbour:
 *
 * `L = −(1/N) Σ_i log(‖x̂_i − x̂_{n(i)} + ε‖₂ + ε)`, `x̂ = x / max(‖x‖, ε)`,
 * `n(i) = argmax_{j≠i} x̂_i·x̂_j` (the nearest other row).
 *
 * Shapes: `x` float32 `[N, D]` with N ≥ 2 (DINOv2 applies it to the student's
 * class tokens of each global crop separately, before the head). Returns a
 * scalar. Reduction: mean over the N rows.
 *
 * The neighbour assignment is not differentiated (an argmax); the gradient
 * flows through both ends of every nearest-neighbour distance. A row is
 * never its own neighbour (the diagonal is excluded outright; DINOv2 fills it
 * with −1, which only differs for exactly antipodal pairs).
 *
 * Values: `−log √2 ≈ −0.347` for orthonormal rows; `−log √(2 + 2/D)` for the
 * D + 1 vertices of a regular simplex in D dimensions (the most spread-out
 * configuration of D + 1 unit vectors); it grows without bound as two rows
 * approach each other, to `−log(ε·√D + ε) ≈ 16.6` for duplicates (D = 64):
 * finite, including for zero rows.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { koleoLoss } from 'selfsup';
 *
 * const orthonormal = tf.eye(4) as tf.Tensor2D;
 * console.log(koleoLoss(orthonormal).dataSync()[0]); // ≈ −0.3466 = −log √2
 * ```
 */
export function koleoLoss(x: tf.Tensor2D, options: KoleoLossOptions = {}): tf.Scalar {
  const fn = 'koleoLoss';
  assertKnownOptions(options, ['eps'], fn);
  const { eps = 1e-8 } = options;
  assertEmbeddings(x, fn, 'x', 2, 'a nearest neighbour needs another row');
  assertPositive(eps, fn, 'options.eps');
  const n = x.shape[0];
  return tf.tidy(() => {
    const unit = normalizeLastAxis(x, eps) as tf.Tensor2D;
    // The neighbour is a choice (an argmax), made outside the gradient.
    const neighbour = withoutGradient((u) => {
      const similarity = tf.matMul(u, tf.transpose(u));
      const others = tf.where(tf.cast(tf.eye(n), 'bool'), tf.fill([n, n], -3), similarity);
      return tf.cast(tf.oneHot(tf.argMax(others, 1) as tf.Tensor1D, n), 'float32') as tf.Tensor2D;
    }, unit);
    // One-hot matMul instead of gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks.
    const nearest = tf.matMul(neighbour, unit);
    const distance = tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(unit, nearest), eps)), 1));
    return tf.neg(tf.mean(tf.log(tf.add(distance, eps)))) as tf.Scalar;
  });
}
