import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertKnownOptions, assertOneOf, assertPositive, assertSameShape } from '../core/validate.js';
import { assertFeatures } from './features.js';

/** Options of {@link alignment}. */
export interface AlignmentOptions {
  /**
   * Exponent α of the distance.
   * @default 2
   */
  alpha?: number;
  /**
   * L2-normalise the rows first (the metric is defined on the unit sphere);
   * `false` when the inputs already are.
   * @default true
   */
  normalize?: boolean;
}

/**
 * Alignment of positive pairs (Wang & Isola 2020, §4.1):
 * `ℓ_align = E_(x,y)~pos ‖f(x) − f(y)‖₂^α` with α = 2, the mean over the N
 * pairs `(x_i, y_i)` of the distance between the two embeddings (e.g. two
 * augmented views of image i) on the unit sphere. 0 when every pair maps to
 * the same point, at most 2^α (antipodal). Lower is better, but a collapsed
 * encoder also reaches 0: read it with {@link uniformity}.
 *
 * Differentiable (usable as a loss); `‖·‖^α` is computed as `(‖·‖²)^(α/2)`,
 * whose gradient is finite at identical pairs for α ≥ 2 (for α < 2 the
 * squared distance is floored at 1e-12).
 *
 * @param x float32 `[N, D]` embeddings of the first views.
 * @param y float32 `[N, D]` embeddings of the second views, row i paired with `x` row i.
 * @returns a scalar.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { alignment } from 'selfsup';
 *
 * const a = tf.tensor2d([[1, 0], [0, 1]]);
 * const b = tf.tensor2d([[0, 1], [0, 1]]);
 * alignment(a, b).print(); // (‖(1,-1)‖² + 0) / 2 = 1
 * ```
 */
export function alignment(x: tf.Tensor2D, y: tf.Tensor2D, options: AlignmentOptions = {}): tf.Scalar {
  const fn = 'alignment';
  assertKnownOptions(options, ['alpha', 'normalize'], fn);
  assertFeatures(x, fn, 'x');
  assertSameShape(y, x, fn, 'y', 'x', '[N, D]');
  // y as x: float and finite (found by the fuzz test: int32 y raised tfjs's raw sqrt error).
  assertFeatures(y, fn, 'y');
  const { alpha = 2, normalize = true } = options;
  assertPositive(alpha, fn, 'options.alpha');
  assertOneOf(normalize, [true, false], fn, 'options.normalize');
  return tf.tidy(() => {
    const a = normalize ? normalizeLastAxis(x) : x;
    const b = normalize ? normalizeLastAxis(y) : y;
    const squared = tf.sum(tf.square(tf.sub(a, b)), 1);
    const powered = alpha === 2 ? squared : tf.pow(alpha < 2 ? tf.maximum(squared, 1e-12) : squared, alpha / 2);
    return tf.mean(powered) as tf.Scalar;
  });
}
