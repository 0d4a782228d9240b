import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInteger, assertKnownOptions, assertPositive } from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { withoutGradient } from './internal/no-gradient.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link sinkhornKnopp}. */
export interface SinkhornKnoppOptions {
  /**
   * Entropic regularisation ε: `Q ∝ exp(scores/ε)` before balancing.
   * @default 0.05 (SwAV)
   */
  epsilon?: number;
  /**
   * Number of Sinkhorn iterations (each normalises the prototypes, then the samples).
   * @default 3 (SwAV)
   */
  iterations?: number;
}

/**
 * below this a sum is treated as empty: a prototype (or sample) whose every
 * entry underflowed keeps zeros instead of becoming 0/0 = NaN.
 */
const EMPTY_SUM = 1e-30;

/**
 * The most Sinkhorn-Knopp iterations a call may ask for: SwAV uses 3, and
 * the normalisation converges in tens; a larger count is a mistake that
 * would run for minutes.
 */
export const MAX_SINKHORN_ITERATIONS = 1000;

/**
 * The Sinkhorn-Knopp step of SwAV (Caron et al., "Unsupervised Learning of
 * Visual Features by Contrasting Cluster Assignments", NeurIPS 2020, §3.1 and
 * `distributed_sinkhorn` of the official code at world size 1): turns
 * prototype scores into soft codes that spread the batch equally over the
 * K prototypes.
 *
 * Shapes: `scores` float32 `[B, K]` (`z·cᵀ` of normalised features and
 * prototypes); returns `Q` float32 `[B, K]` whose rows sum to 1 and whose
 * columns each sum to about `B/K` (exactly after the last prototype step,
 * up to the final sample normalisation).
 *
 * Algorithm: `Q = exp(scores/ε)`, normalised to total 1; then `iterations`
 * times: divide each prototype's column by its sum and by K, each sample's row
 * by its sum and by B; finally multiply by B. The global maximum is subtracted
 * before `exp` (it cancels in the first normalisation), so large scores or a
 * small ε cannot overflow (SwAV's code overflows once a score exceeds ~88·ε).
 * Scores more than ~87·ε below the maximum underflow to 0, which cannot
 * happen for cosine scores in [−1, 1] with ε ≥ 0.023; beyond that, a sample
 * whose entries all underflow gets a zero row rather than NaN.
 *
 * No gradient flows through `Q` (SwAV computes it under `torch.no_grad()`).
 * Returns a new tensor the caller disposes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sinkhornKnopp } from 'selfsup';
 *
 * const scores = tf.tensor2d([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1], [0.7, 0.0, 0.3]]);
 * const q = sinkhornKnopp(scores);
 * tf.sum(q, 1).print(); // [1, 1, 1]
 * ```
 */
export function sinkhornKnopp(scores: tf.Tensor2D, options: SinkhornKnoppOptions = {}): tf.Tensor2D {
  const fn = 'sinkhornKnopp';
  assertKnownOptions(options, ['epsilon', 'iterations'], fn);
  const { epsilon = 0.05, iterations = 3 } = options;
  assertEmbeddings(scores, fn, 'scores');
  assertPositive(epsilon, fn, 'options.epsilon');
  assertInteger(iterations, fn, 'options.iterations', { min: 0, max: MAX_SINKHORN_ITERATIONS });
  const [b, k] = scores.shape;
  return tf.tidy(() =>
    withoutGradient((s) => {
      let q = tf.exp(tf.div(tf.sub(s, tf.max(s)), epsilon));
      q = tf.div(q, tf.sum(q));
      for (let it = 0; it < iterations; it++) {
        q = tf.div(q, tf.mul(tf.maximum(tf.sum(q, 0, true), EMPTY_SUM), k));
        q = tf.div(q, tf.mul(tf.maximum(tf.sum(q, 1, true), EMPTY_SUM), b));
      }
      return tf.mul(q, b) as tf.Tensor2D;
    }, scores),
  );
}

/** Options of {@link swavLoss}. */
export interface SwavLossOptions {
  /**
   * Temperature τ of the softmax over prototype scores.
   * @default 0.1 (SwAV)
   */
  temperature?: number;
}

/**
 * SwAV's swapped prediction loss (Caron et al., NeurIPS 2020, eq. 1–2) for
 * two views:
 *
 * `L = ½ [ CE(q1, softmax(s2/τ)) + CE(q2, softmax(s1/τ)) ]`,
 * `CE(q, p) = −mean_b Σ_k q_bk log p_bk`
 *
 * Shapes: `scores1`, `scores2` float32 `[B, K]` prototype scores of the two
 * views; `q1`, `q2` float32 `[B, K]` their codes (from {@link sinkhornKnopp}),
 * treated as fixed (no gradient). Returns a scalar.
 *
 * Reduction: mean over the batch, averaged over the two swapped terms (the
 * official code divides by `Σ nmb_crops − 1 = 1` and by the number of
 * assigned crops, 2). Values: `ln K` for uniform scores and codes; → 0 when
 * each view's sharpened scores predict the other's one-hot code.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sinkhornKnopp, swavLoss } from 'selfsup';
 *
 * const s1 = tf.tensor2d([[0.9, 0.1, 0.0], [0.1, 0.8, 0.2]]);
 * const s2 = tf.tensor2d([[0.8, 0.2, 0.1], [0.0, 0.9, 0.1]]);
 * const loss = swavLoss(s1, s2, sinkhornKnopp(s1), sinkhornKnopp(s2));
 * console.log(loss.dataSync()[0]);
 * ```
 */
export function swavLoss(
  scores1: tf.Tensor2D,
  scores2: tf.Tensor2D,
  q1: tf.Tensor2D,
  q2: tf.Tensor2D,
  options: SwavLossOptions = {},
): tf.Scalar {
  const fn = 'swavLoss';
  assertKnownOptions(options, ['temperature'], fn);
  const { temperature = 0.1 } = options;
  assertEmbeddings(scores1, fn, 'scores1');
  assertMatching(scores2, scores1, fn, 'scores2', 'scores1', '[B, K]');
  assertMatching(q1, scores1, fn, 'q1', 'scores1', '[B, K]');
  assertMatching(q2, scores1, fn, 'q2', 'scores1', '[B, K]');
  assertPositive(temperature, fn, 'options.temperature');
  return tf.tidy(() => {
    const predict = (codes: tf.Tensor2D, scores: tf.Tensor2D) =>
      tf.mean(softCrossEntropy(tf.div(scores, temperature) as tf.Tensor2D, stopGradient(codes)));
    return tf.mul(0.5, tf.add(predict(q1, scores2), predict(q2, scores1))) as tf.Scalar;
  });
}
