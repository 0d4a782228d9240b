import * as tf from '@tensorflow/tfjs-core';
import {
  assertDtype,
  assertFloat,
  assertKnownOptions,
  assertMinSize,
  assertOneOf,
  assertRank,
  assertShape,
  assertValuesInRange,
} from '../core/validate.js';
import { oneHotTargets, softCrossEntropy } from './internal/cross-entropy.js';

/** How {@link pseudoLabelLoss} weights the classes. */
export type PseudoLabelBalance = boolean | 'inverse-sqrt' | 'inverse';

/** Options of {@link pseudoLabelLoss}. */
export interface PseudoLabelLossOptions {
  /**
   * Class weights from the batch's label counts `n_c`: `true` or
   * `'inverse-sqrt'` weights class c by `n_c^(−1/2)`; `'inverse'` by
   * `n_c^(−1)`, which makes every cluster present count equally (exactly
   * DeepCluster's uniform sampling over clusters, in expectation); `false`
   * is the plain mean.
   * @default true ('inverse-sqrt')
   */
  balance?: PseudoLabelBalance;
}

/**
 * Cross-entropy against cluster pseudo-labels, as in DeepCluster (Caron et
 * al., "Deep Clustering for Unsupervised Learning of Visual Features", ECCV
 * 2018), with class weights that stop large clusters from dominating.
 *
 * Shapes: `logits` float32 `[B, K]`, `pseudoLabels` int32 `[B]` with values
 * in `[0, K)` (e.g. {@link kMeans}' assignments; range-checked with one
 * synchronous read). Returns a scalar.
 *
 * With `n_c` the number of samples of class c in the batch and
 * `w_c = n_c^(−1/2)` (default), `n_c^(−1)` or 1:
 *
 * `L = Σ_i w_{y_i} CE_i / Σ_i w_{y_i}`, `CE_i = logsumexp(logits_i) − logits_i,y_i`
 *
 * Reduction: the weighted mean, PyTorch's `cross_entropy(weight=w)`
 * convention (the weights' scale cancels). DeepCluster samples images
 * uniformly over clusters, which corresponds to `balance: 'inverse'`; the
 * default inverse square root is a milder correction. Values: `ln K` for
 * uniform logits; → 0 as the classifier fits the pseudo-labels.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { pseudoLabelLoss } from 'selfsup';
 *
 * const logits = tf.tensor2d([[2, 0], [1, 0], [3, 0], [0, 2]]);
 * const labels = tf.tensor1d([0, 0, 0, 1], 'int32'); // cluster 0 is three times larger
 * console.log(pseudoLabelLoss(logits, labels).dataSync()[0]);
 * console.log(pseudoLabelLoss(logits, labels, { balance: false }).dataSync()[0]);
 * ```
 */
export function pseudoLabelLoss(
  logits: tf.Tensor2D,
  pseudoLabels: tf.Tensor1D,
  options: PseudoLabelLossOptions = {},
): tf.Scalar {
  const fn = 'pseudoLabelLoss';
  assertKnownOptions(options, ['balance'], fn);
  const { balance = true } = options;
  assertRank(logits, 2, fn, 'logits', '[B, K]');
  assertFloat(logits, fn, 'logits');
  assertMinSize(logits, 0, 1, fn, 'logits', 'B');
  assertMinSize(logits, 1, 1, fn, 'logits', 'K');
  const [b, k] = logits.shape;
  assertShape(pseudoLabels, [b], fn, 'pseudoLabels', '[B]');
  assertDtype(pseudoLabels, 'int32', fn, 'pseudoLabels');
  assertOneOf(balance, [true, false, 'inverse-sqrt', 'inverse'], fn, 'options.balance');
  assertValuesInRange(pseudoLabels, 0, k - 1, fn, 'pseudoLabels', 'class indices');
  return tf.tidy(() => {
    const targets = oneHotTargets(pseudoLabels, k);
    const perSample = softCrossEntropy(logits, targets);
    if (balance === false) return tf.mean(perSample) as tf.Scalar;
    const counts = tf.sum(targets, 0);
    const exponent = balance === 'inverse' ? -1 : -0.5;
    // Absent classes get weight 0 (never used) instead of 0^(−½) = ∞.
    const classWeights = tf.where(tf.greater(counts, 0), tf.pow(tf.maximum(counts, 1), exponent), tf.zerosLike(counts));
    const sampleWeights = tf.gather(classWeights, pseudoLabels);
    return tf.div(tf.sum(tf.mul(sampleWeights, perSample)), tf.sum(sampleWeights)) as tf.Scalar;
  });
}
