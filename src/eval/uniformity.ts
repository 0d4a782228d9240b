import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertKnownOptions, assertOneOf, assertPositive } from '../core/validate.js';
import { assertFeatures } from './features.js';

/** Options of {@link uniformity}. */
export interface UniformityOptions {
  /**
   * Scale t of the Gaussian potential.
   * @default 2
   */
  t?: number;
  /**
   * L2-normalise the rows first (the metric is defined on the unit sphere);
   * `false` when the inputs already are.
   * @default true
   */
  normalize?: boolean;
}

/**
 * Uniformity of the embedding distribution (Wang & Isola 2020, §4.1):
 * `ℓ_uniform = log E_(x,y)~data exp(−t‖f(x) − f(y)‖₂²)` with t = 2, the log of
 * the mean Gaussian potential over the N(N−1)/2 distinct pairs of rows
 * (`torch.pdist`), on the unit sphere. 0 when all embeddings coincide
 * (collapse); more negative is more uniform. Embeddings spread uniformly over
 * the sphere give about `−2t + 2t²/D` (−3.94 for D = 128 at t = 2), the value
 * to compare a trained encoder with.
 *
 * Computed as a log-sum-exp over the off-diagonal of the pairwise-distance
 * matrix (each pair counted twice, which leaves the mean unchanged), so it is
 * stable and differentiable (usable as a loss).
 *
 * @param x float32 `[N, D]` embeddings, N ≥ 2.
 * @returns a scalar.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { uniformity } from 'selfsup';
 *
 * uniformity(tf.tensor2d([[1, 0], [1, 0], [1, 0]])).print(); // 0: collapsed
 * uniformity(tf.tensor2d([[1, 0], [-1, 0]])).print();        // -8: one pair at distance² 4
 * ```
 */
export function uniformity(x: tf.Tensor2D, options: UniformityOptions = {}): tf.Scalar {
  const fn = 'uniformity';
  assertKnownOptions(options, ['t', 'normalize'], fn);
  assertFeatures(x, fn, 'x', 2);
  const { t = 2, normalize = true } = options;
  assertPositive(t, fn, 'options.t');
  assertOneOf(normalize, [true, false], fn, 'options.normalize');
  // The N × N pairwise distances and their exponentials.
  assertMemoryFits(fn, 'x', [{ shape: [x.shape[0], x.shape[0]], count: 3 }]);
  const n = x.shape[0];
  return tf.tidy(() => {
    const z = normalize ? normalizeLastAxis(x) : x;
    const sq = tf.sum(tf.square(z), 1, true);
    const gram = tf.matMul(z, tf.transpose(z));
    // ‖zi − zj‖² = ‖zi‖² + ‖zj‖² − 2 zi·zj, floored at 0 against rounding.
    const dist = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(gram, 2)));
    const offDiagonal = tf.sub(1, tf.eye(n));
    const logits = tf.add(tf.mul(dist, -t), tf.mul(tf.sub(1, offDiagonal), -1e9));
    return tf.sub(tf.logSumExp(logits), Math.log(n * (n - 1))) as tf.Scalar;
  });
}
