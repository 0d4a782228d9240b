import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { assertKnownOptions, assertPositive } from '../core/validate.js';
import { ntXentFromEmbeddings } from './internal/contrastive.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** Options of {@link ntXentLoss}. */
export interface NtXentOptions {
  /**
   * Softmax temperature τ (> 0). SimCLR used 0.5 for its CIFAR-10 and
   * 0.1 for its large-batch ImageNet runs.
   * @default 0.5
   */
  temperature?: number;
}

/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR
 * (Chen et al., "A Simple Framework for Contrastive Learning of Visual
 * Representations", ICML 2020, eq. 1).
 *
 * Shapes: `z1`, `z2` float32 `[N, D]`, row `i` of `z1` and row `i` of `z2`
 * being two views of the same example; returns a scalar.
 *
 * With `z = normalize([z1; z2])` (`[2N, D]`, `normalize(x) = x / max(‖x‖₂, 1e-12)`)
 * and `s_ij = z_i·z_j / τ`, the positive of row `i` is row `i ± N` and every
 * other row `j ≠ i` is a negative (2N − 2 negatives per anchor):
 *
 * `L = (1/2N) Σ_i [ logsumexp_{j≠i} s_ij − s_i,pos(i) ]`
 *
 * Reduction: the mean over all 2N anchors (the paper's `1/2N Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]`).
 * SimCLR's official TensorFlow code returns `loss_a + loss_b`, the sum of the
 * two views' means, which is exactly twice this value: multiply by 2 to
 * reproduce its numbers. lightly's `NTXentLoss` (no memory bank) equals this value.
 *
 * Values: `log(2N − 1)` when every view equals its partner and all examples
 * are identical (collapse); → 0 as positives align and negatives separate at
 * small τ. Symmetric: `ntXentLoss(z1, z2) = ntXentLoss(z2, z1)`. No
 * stop-gradient: both views receive gradients.
 *
 * Numerics: log-sum-exp with the row maximum subtracted, the self-similarity
 * excluded by a −∞ logit (not subtracted after the fact), and an analytic
 * backward (two plain matrix products) instead of autodiff; finite for
 * τ = 0.01, zero rows and norms of 1e4.
 *
 * @param z1 first views, float32 `[N, D]`, N ≥ 1.
 * @param z2 second views, float32 `[N, D]` (same shape as `z1`).
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ntXentLoss } from 'selfsup';
 *
 * const z1 = tf.tensor2d([[1, 0], [0, 1], [-1, 0]]);
 * const z2 = tf.tensor2d([[0.9, 0.1], [0.1, 0.9], [-1, 0.1]]);
 * console.log(ntXentLoss(z1, z2, { temperature: 0.5 }).dataSync()[0]); // ≈ 0.359
 *
 * // Training: gradients flow into both views.
 * const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D))([z1, z2]);
 * console.log(grads[0]!.shape); // [3, 2]
 * ```
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: NtXentOptions = {}): tf.Scalar {
  const fn = 'ntXentLoss';
  assertKnownOptions(options, ['temperature'], fn);
  const { temperature = 0.5 } = options;
  // One pair has no negatives (2N − 2 = 0): the loss is undefined, not 0.
  assertEmbeddings(z1, fn, 'z1', 2, 'NT-Xent contrasts each pair with the other 2N − 2 embeddings: one pair has no negatives');
  assertMatching(z2, z1, fn, 'z2', 'z1', '[N, D]');
  assertPositive(temperature, fn, 'options.temperature');
  // The 2N × 2N similarities, their softmax and its gradient.
  assertMemoryFits(fn, 'z1', [{ shape: [2 * z1.shape[0], 2 * z1.shape[0]], count: 4 }]);
  return tf.tidy(() => ntXentFromEmbeddings(z1, z2, temperature));
}
