import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient as detach } from '../core/stop-gradient.js';
import { assertKnownOptions, assertPositive } from '../core/validate.js';
import { dclCore } from './internal/contrastive.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link dclLoss}. */
export interface DclLossOptions {
  /**
   * Softmax temperature τ (> 0).
   * @default 0.1 (lightly's `DCLLoss`; the paper's ImageNet runs use 0.1–0.2)
   */
  temperature?: number;
}

/** Options of {@link dclwLoss}. */
export interface DclwLossOptions extends DclLossOptions {
  /**
   * Temperature σ of the von Mises–Fisher weighting (> 0): smaller σ weights
   * the hard positives (the least similar pairs) more.
   * @default 0.5 (the paper)
   */
  sigma?: number;
}

function checkPair(z1: tf.Tensor2D, z2: tf.Tensor2D, fn: string): void {
  assertEmbeddings(z1, fn, 'z1', 2, 'every anchor needs at least one negative (2N − 2 ≥ 2 of them)');
  assertMatching(z2, z1, fn, 'z2', 'z1', '[N, D]');
}

/**
 * The decoupled contrastive loss (DCL) of Yeh et al., "Decoupled Contrastive
 * Learning", ECCV 2022, eq. 6 with w = 1: NT-Xent without the positive pair in
 * the denominator. The paper shows that the positive term in InfoNCE's
 * denominator couples the gradients of positives and negatives (the
 * "negative-positive coupling" factor), which is what makes SimCLR need large
 * batches; removing it makes the loss work at small batch sizes.
 *
 * Shapes: `z1`, `z2` float32 `[N, D]`, N ≥ 2, row `i` of each being two views
 * of one image; returns a scalar. With `z = normalize([z1; z2])` (`[2N, D]`,
 * `normalize(x) = x / max(‖x‖₂, 1e-12)`) and `s_ij = z_i·z_j / τ`, every row
 * i has one positive, pos(i) = i ± N, and 2N − 2 negatives (the other rows of
 * both views):
 *
 * `L = (1/2N) Σ_i [ logsumexp_{j ∉ {i, pos(i)}} s_ij − s_i,pos(i) ]`
 *
 * Reduction: the mean over all 2N anchors, which is lightly's `DCLLoss`
 * (`½(mean over view-1 anchors + mean over view-2 anchors)`). Symmetric in
 * the two views; no stop-gradient.
 *
 * Values: at collapse (all rows equal) every logit is 1/τ and
 * `L = log(2N − 2)`; unlike NT-Xent the loss is unbounded below and goes to
 * −∞ as the positives align and the negatives separate (its minimum is not
 * 0).
 *
 * Numerics: log-sum-exp with the row maximum subtracted, the excluded logits
 * removed through −∞ (never subtracted afterwards), and an analytic backward;
 * finite at τ = 0.01 and for zero rows.
 *
 * @param z1 first views, float32 `[N, D]`, N ≥ 2.
 * @param z2 second views, float32 `[N, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dclLoss } from 'selfsup';
 *
 * const same = tf.ones([4, 3]) as tf.Tensor2D;
 * console.log(dclLoss(same, same).dataSync()[0]); // log(2·4 − 2) = log 6 ≈ 1.792 (collapse)
 * const z1 = tf.tensor2d([[1, 0], [0, 1], [-1, 0]]);
 * const z2 = tf.tensor2d([[0.9, 0.1], [0.1, 0.9], [-1, 0.1]]);
 * console.log(dclLoss(z1, z2, { temperature: 0.5 }).dataSync()[0]); // ≈ −0.38
 * ```
 */
export function dclLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: DclLossOptions = {}): tf.Scalar {
  const fn = 'dclLoss';
  assertKnownOptions(options, ['temperature'], fn);
  const { temperature = 0.1 } = options;
  checkPair(z1, z2, fn);
  assertPositive(temperature, fn, 'options.temperature');
  return tf.tidy(() => dclCore(normalizeLastAxis(tf.concat([z1, z2], 0)) as tf.Tensor2D, null, temperature));
}

/**
 * The weighted decoupled contrastive loss (DCLW) of Yeh et al., ECCV 2022
 * (eq. 6 with the von Mises–Fisher weighting of Sec. 4): {@link dclLoss} with
 * each image's positive term scaled by
 *
 * `w_k = 2 − N·softmax_k( cos(z1_k, z2_k) / σ )` (softmax over the batch),
 *
 * so pairs whose views are far apart (hard positives) weigh more than those
 * already aligned; the weights average 1 over the batch and receive no
 * gradient (computed from detached embeddings, as in the paper's and
 * lightly's code). Both views of image k share `w_k`.
 *
 * Shapes: `z1`, `z2` float32 `[N, D]`, N ≥ 2; returns a scalar. Reduction:
 * the mean over the 2N anchors, as {@link dclLoss} (lightly's `DCLWLoss`).
 * Values: at collapse every weight is 1 and `L = log(2N − 2)`.
 *
 * @param z1 first views, float32 `[N, D]`, N ≥ 2.
 * @param z2 second views, float32 `[N, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dclwLoss } from 'selfsup';
 *
 * const z1 = tf.tensor2d([[1, 0], [0, 1], [-1, 0]]);
 * const z2 = tf.tensor2d([[0.9, 0.1], [0.1, 0.9], [-1, 0.1]]);
 * console.log(dclwLoss(z1, z2, { temperature: 0.5, sigma: 0.5 }).dataSync()[0]);
 * ```
 */
export function dclwLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: DclwLossOptions = {}): tf.Scalar {
  const fn = 'dclwLoss';
  assertKnownOptions(options, ['temperature', 'sigma'], fn);
  const { temperature = 0.1, sigma = 0.5 } = options;
  checkPair(z1, z2, fn);
  assertPositive(temperature, fn, 'options.temperature');
  assertPositive(sigma, fn, 'options.sigma');
  return tf.tidy(() => {
    const z = normalizeLastAxis(tf.concat([z1, z2], 0)) as tf.Tensor2D;
    const weights = vonMisesFisherWeights(z, sigma);
    return dclCore(z, weights, temperature);
  });
}

/** DCLW's `w_k = 2 − N·softmax_k(z1_k·z2_k / σ)` `[N, 1]` from normalised `z = [z1; z2]`, without gradient. */
function vonMisesFisherWeights(z: tf.Tensor2D, sigma: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = z.shape[0] / 2;
    const [a, b] = tf.split(detach(z), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    const similarity = tf.div(tf.sum(tf.mul(a, b), 1), sigma);
    return tf.reshape(tf.sub(2, tf.mul(n, tf.softmax(similarity))), [n, 1]) as tf.Tensor2D;
  });
}
