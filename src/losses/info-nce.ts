import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { ShapeError } from '../core/errors.js';
import { assertFloat, assertKnownOptions, assertMinSize, assertPositive, assertRank, formatShape } from '../core/validate.js';
import { infoNCEInBatchCore, infoNCEWithNegativesFromEmbeddings } from './internal/contrastive.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link infoNCELoss}. */
export interface InfoNCEOptions {
  /**
   * Softmax temperature τ (> 0).
   * @default 0.07 (MoCo)
   */
  temperature?: number;
}

/**
 * InfoNCE (van den Oord et al., "Representation Learning with Contrastive
 * Predictive Coding", 2018), in the form of MoCo (He et al., "Momentum
 * Contrast for Unsupervised Visual Representation Learning", CVPR 2020).
 *
 * Shapes: `query`, `positiveKey` float32 `[N, D]`; `negatives` float32
 * `[K, D]` shared by every query (MoCo's queue), `[N, K, D]` one set per query,
 * or omitted. Returns a scalar.
 *
 * Every vector is L2-normalised (`x / max(‖x‖₂, 1e-12)`); for query `i` the
 * logits are `[q_i·k_i, q_i·n_1, …, q_i·n_K] / τ` with the positive at index 0:
 *
 * `L = mean_i [ logsumexp(logits_i) − q_i·k_i/τ ]`
 *
 * Without `negatives` the other rows of `positiveKey` are the negatives
 * (in-batch, N − 1 per query): logits `q_i·k_j/τ` for all `j`, the positive at
 * `j = i`. With `negatives`, only those are used (K per query), not the other
 * keys of the batch — MoCo's convention.
 *
 * Reduction: mean over the N queries. Values: `log(K + 1)` (or `log N` in-batch)
 * when every logit is equal (collapse); → 0 when each query matches its key
 * and the negatives point away.
 *
 * Stop-gradients: none inside the loss. MoCo's keys come from a momentum
 * encoder without gradient and its queue is a constant buffer: pass
 * `stopGradient(keys)` (or tensors not derived from trainable variables).
 * The negatives receive their exact gradient, which costs one extra matrix
 * product when the queue is a constant.
 *
 * Numerics: max-subtracted log-sum-exp over `[l_pos | l_neg]` without
 * concatenating them, analytic backward with plain matrix products (batched
 * for `[N, K, D]` negatives); finite at τ = 0.01, zero vectors and norms of 1e4.
 *
 * @param query float32 `[N, D]`, N ≥ 1.
 * @param positiveKey float32 `[N, D]`, the positive of each query.
 * @param negatives float32 `[K, D]` (shared) or `[N, K, D]` (per query), K ≥ 1; omit for in-batch negatives.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { infoNCELoss, stopGradient } from 'selfsup';
 *
 * const q = tf.tensor2d([[1, 0], [0, 1]]);
 * const k = tf.tensor2d([[0.8, 0.2], [0.1, 0.9]]);
 * const queue = tf.tensor2d([[-1, 0], [0, -1], [0.5, 0.5]]); // MoCo: K past keys
 * console.log(infoNCELoss(q, stopGradient(k), queue, { temperature: 0.2 }).dataSync()[0]);
 * console.log(infoNCELoss(q, k).dataSync()[0]); // in-batch negatives
 * ```
 */
export function infoNCELoss(
  query: tf.Tensor2D,
  positiveKey: tf.Tensor2D,
  negatives?: tf.Tensor2D | tf.Tensor3D,
  options: InfoNCEOptions = {},
): tf.Scalar {
  const fn = 'infoNCELoss';
  assertKnownOptions(options, ['temperature'], fn);
  const { temperature = 0.07 } = options;
  assertEmbeddings(query, fn, 'query');
  assertMatching(positiveKey, query, fn, 'positiveKey', 'query', '[N, D]');
  assertPositive(temperature, fn, 'options.temperature');
  if (negatives !== undefined && negatives !== null) {
    assertRank(negatives, [2, 3], fn, 'negatives', '[K, D] or [N, K, D]');
    // The N × (K + 1) logits, their softmax and gradient.
    assertMemoryFits(fn, 'negatives', [{ shape: [query.shape[0], (negatives.rank === 2 ? negatives.shape[0] : negatives.shape[1])! + 1], count: 4 }]);
    assertFloat(negatives, fn, 'negatives');
    const [n, d] = query.shape;
    const ok =
      negatives.rank === 2
        ? negatives.shape[1] === d && negatives.shape[0]! >= 1
        : negatives.shape[0] === n && negatives.shape[2] === d && negatives.shape[1]! >= 1;
    if (!ok) {
      throw new ShapeError(
        fn,
        'negatives',
        `have shape [K, D] or [N, K, D] with K ≥ 1, N = ${n} and D = ${d} from query ${formatShape(query.shape)}`,
        formatShape(negatives.shape),
      );
    }
    const neg = negatives;
    return tf.tidy(() => infoNCEWithNegativesFromEmbeddings(query, positiveKey, neg, temperature));
  }
  // In-batch negatives: one query has none (the loss is undefined, not 0).
  assertMinSize(query, 0, 2, fn, 'query', 'N', 'without negatives, each query is contrasted with the other N − 1 keys: one query has none');
  assertMemoryFits(fn, 'query', [{ shape: [query.shape[0], query.shape[0]], count: 4 }]);
  return tf.tidy(() =>
    infoNCEInBatchCore(
      normalizeLastAxis(query) as tf.Tensor2D,
      normalizeLastAxis(positiveKey) as tf.Tensor2D,
      temperature,
    ),
  );
}
