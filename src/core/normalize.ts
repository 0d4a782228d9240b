import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';
import { assertFloat, assertKnownOptions, assertMinRank, assertPositive } from './validate.js';

/** Options of {@link l2Normalize}. */
export interface L2NormalizeOptions {
  /**
   * Lower bound on the norm, so a zero vector maps to zero instead of NaN.
   * @default 1e-12 (PyTorch's `F.normalize`)
   */
  eps?: number;
}

/**
 * Scales each vector along the last axis to unit L2 norm:
 * `x / max(‖x‖₂, eps)`, the convention of PyTorch's `F.normalize` that every
 * selfsup loss uses.
 *
 * The gradient is analytic, `(g − y·(y·g)) / ‖x‖` where `‖x‖ > eps` and
 * `g / eps` below it, so a zero row gets a finite gradient; the naive
 * composition `x / tf.norm(x)` differentiates `sqrt` at 0 and yields NaN.
 *
 * @param x float32 tensor of rank ≥ 1, `[..., D]`.
 * @returns a tensor of the same shape whose last-axis vectors have norm 1 (or 0).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2Normalize } from 'selfsup';
 *
 * const z = l2Normalize(tf.tensor2d([[3, 4], [0, 0]]));
 * z.print(); // [[0.6, 0.8], [0, 0]]
 * ```
 */
export function l2Normalize(x: tf.Tensor, options: L2NormalizeOptions = {}): tf.Tensor {
  const fn = 'l2Normalize';
  assertKnownOptions(options, ['eps'], fn);
  const { eps = 1e-12 } = options;
  assertMinRank(x, 1, fn, 'x', '[..., D]');
  assertFloat(x, fn, 'x');
  assertPositive(eps, fn, 'options.eps');
  return normalizeLastAxis(x, eps);
}

/**
 * {@link l2Normalize} without validation, for library internals that have
 * already checked their inputs.
 */
export function normalizeLastAxis(x: tf.Tensor, eps = 1e-12): tf.Tensor {
  const normalize = customGradient((save, input: tf.Tensor) => {
    const norm = tf.sqrt(tf.sum(tf.square(input), -1, true));
    const denom = tf.maximum(norm, eps);
    const y = tf.div(input, denom);
    save([y, denom, norm]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [yS, denomS, normS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        // Below eps the map is linear (x / eps), so the projection term vanishes.
        const aboveEps = tf.cast(tf.greater(normS, eps), 'float32');
        const radial = tf.mul(yS, tf.mul(aboveEps, tf.sum(tf.mul(dy, yS), -1, true)));
        return tf.div(tf.sub(dy, radial), denomS);
      },
    };
  });
  return tf.tidy(() => normalize(x));
}
