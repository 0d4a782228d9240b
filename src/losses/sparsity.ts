import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../core/custom-gradient.js';
import { assertFloat, assertInRange, assertKnownOptions, assertMinRank, assertOneOf } from '../core/validate.js';
import { assertNonEmpty } from './internal/validation.js';

/** Which penalty {@link sparsityPenalty} computes. */
export type SparsityKind = 'l1' | 'kl';

/** Options of {@link sparsityPenalty}. */
export interface SparsityPenaltyOptions {
  /**
   * `'l1'`: the mean absolute activation. `'kl'`: the KL divergence of a
   * target firing rate from each unit's mean activation (activations in [0, 1]).
   * @default 'l1'
   */
  kind?: SparsityKind;
  /**
   * Target mean activation ρ of `'kl'`, in (0, 1).
   * @default 0.05
   */
  target?: number;
}

/** Keeps ρ̂ inside (0, 1) so a dead or saturated unit gives a large finite penalty. */
const RATE_BOUND = 1e-6;

function meanAbsolute(input: tf.Tensor): tf.Tensor {
  const op = customGradient((save, x: tf.Tensor) => {
    save([x]);
    return {
      value: tf.mean(tf.abs(x)),
      // sign(x): 0 at x = 0 like PyTorch (tfjs's abs gradient is −1 there).
      gradFunc: (dy, saved) => tf.tidy(() => tf.mul(tf.sign(saved[0]!), tf.div(dy, saved[0]!.size))),
    };
  });
  return op(input);
}

function meanBernoulliKl(rates: tf.Tensor, rho: number): tf.Tensor {
  const op = customGradient((save, r: tf.Tensor) => {
    const rc = tf.clipByValue(r, RATE_BOUND, 1 - RATE_BOUND);
    save([rc]);
    const kl = tf.add(tf.mul(rho, tf.log(tf.div(rho, rc))), tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, rc)))));
    return {
      value: tf.mean(kl),
      // Evaluated at the bounded rate, so a dead unit (ρ̂ = 0) still gets a
      // large, finite push back instead of clipByValue's zero gradient.
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const rS = saved[0]!;
          const d = tf.add(tf.neg(tf.div(rho, rS)), tf.div(1 - rho, tf.sub(1, rS)));
          return tf.mul(d, tf.div(dy, rS.size));
        }),
    };
  });
  return op(rates);
}

/**
 * Sparsity penalties for sparse autoencoders.
 *
 * Shapes: `activations` float32 `[B, ...units]` (rank ≥ 2, e.g. `[B, H]`);
 * returns a scalar.
 *
 * - `'l1'` (default): `mean |a|` over every element (the L1 activity
 *   regulariser; Goodfellow, Bengio & Courville, Deep Learning, §14.2.1).
 *   Its gradient at 0 is 0 (`sign`), as PyTorch's.
 * - `'kl'`: with `ρ̂_j = mean_b a_bj` the mean activation of unit j over the
 *   batch, `mean_j [ ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j)) ]`
 *   (Ng, "Sparse autoencoder", CS294A lecture notes, 2011). Activations must
 *   lie in [0, 1] (sigmoid units); ρ̂ is bounded to [1e-6, 1 − 1e-6] so a dead
 *   unit gives a large finite penalty whose gradient still points back.
 *
 * Reduction: means, including over the units for `'kl'`, where Ng's notes
 * sum over the hidden units: multiply by the number of units for his `Σ_j`.
 * Values: 0 for all-zero activations (`'l1'`) or when every unit fires at
 * the target rate (`'kl'`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sparsityPenalty } from 'selfsup';
 *
 * const hidden = tf.sigmoid(tf.tensor2d([[-3, 0, 2], [-4, 1, -1]]));
 * console.log(sparsityPenalty(hidden).dataSync()[0]); // mean |a|
 * console.log(sparsityPenalty(hidden, { kind: 'kl', target: 0.05 }).dataSync()[0]);
 * ```
 */
export function sparsityPenalty(activations: tf.Tensor, options: SparsityPenaltyOptions = {}): tf.Scalar {
  const fn = 'sparsityPenalty';
  assertKnownOptions(options, ['kind', 'target'], fn);
  const { kind = 'l1', target = 0.05 } = options;
  assertMinRank(activations, 2, fn, 'activations', '[B, ...units]');
  assertFloat(activations, fn, 'activations');
  assertNonEmpty(activations, fn, 'activations');
  assertOneOf(kind, ['l1', 'kl'], fn, 'options.kind');
  assertInRange(target, 0, 1, fn, 'options.target', [true, true]);
  return tf.tidy(
    () => (kind === 'l1' ? meanAbsolute(activations) : meanBernoulliKl(tf.mean(activations, 0), target)) as tf.Scalar,
  );
}
