import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient } from '../core/stop-gradient.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertPositive,
  assertRank,
  describeValue,
  formatShape,
  isTensor,
} from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { assertEmbeddings } from './internal/validation.js';
import { sinkhornKnopp } from './swav.js';

/** The prior the mean prediction is pulled towards: MSN's uniform one, PMSN's power law, or your own distribution `[K]`. */
export type MsnPrior = 'uniform' | 'powerLaw' | tf.Tensor1D;

/** Options of {@link msnLoss}. */
export interface MsnLossOptions {
  /**
   * Temperature τ of the softmax over cosine similarities to the prototypes.
   * @default 0.1 (MSN)
   */
  temperature?: number;
  /**
   * Sharpening temperature T of the targets: `p^(1/T) / Σ p^(1/T)`.
   * @default 0.25 (MSN)
   */
  sharpenTemperature?: number;
  /**
   * Sinkhorn–Knopp iterations on the sharpened targets (0: none).
   * @default 3 (MSN's ImageNet configuration and lightly's `MSNLoss`)
   */
  sinkhornIterations?: number;
  /**
   * Weight λ of the regulariser on the mean anchor prediction (0: off).
   * @default 1 (MSN, PMSN)
   */
  regularizationWeight?: number;
  /**
   * The prior of the regulariser. `'uniform'`: MSN's mean-entropy
   * maximisation `log K − H(p̄)` (me-max). `'powerLaw'`: PMSN's
   * `KL(π ‖ p̄)` with `π_k ∝ k^(−powerLawExponent)`, k = 1…K. A float32
   * `[K]` tensor of probabilities: `KL(π ‖ p̄)` with that π (lightly's
   * `PMSNCustomLoss`).
   * @default 'uniform'
   */
  prior?: MsnPrior;
  /**
   * Exponent of PMSN's power-law prior.
   * @default 0.25 (PMSN, lightly's `PMSNLoss`)
   */
  powerLawExponent?: number;
}

/**
 * PMSN's power-law prior `π_k ∝ k^(−exponent)`, k = 1…K, normalised to sum
 * to 1 (lightly's `_power_law_distribution`), as plain numbers.
 *
 * @example
 * ```ts
 * import { powerLawPrior } from 'selfsup';
 *
 * const prior = powerLawPrior(4, 0.25);
 * console.log(Array.from(prior, (p) => p.toFixed(3))); // ['0.302', '0.254', '0.230', '0.214']
 * ```
 */
export function powerLawPrior(k: number, exponent: number): Float32Array {
  const values = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    values[i] = (i + 1) ** -exponent;
    total += values[i]!;
  }
  return Float32Array.from(values, (v) => v / total);
}

/**
 * The loss of Masked Siamese Networks (Assran et al., "Masked Siamese
 * Networks for Label-Efficient Learning", ECCV 2022; `init_msn_loss` of the
 * official code) and of PMSN (Assran et al., "The Hidden Uniform Cluster
 * Prior in Self-Supervised Learning", ICLR 2023), in lightly's `MSNLoss` /
 * `PMSNLoss` form: the predictions of masked anchor views over K learnable
 * prototypes must match the sharpened predictions of the unmasked target
 * view, while the mean prediction is kept close to a prior.
 *
 * Shapes: `anchors` float32 `[V·B, D]` (V anchor views of B images,
 * view-major: row `v·B + b` is view v of image b), `targets` float32
 * `[B, D]` (the target network's embeddings of the target view),
 * `prototypes` float32 `[K, D]` (learnable; normalised here). All three are
 * L2-normalised. With `p = softmax(â·ĉᵀ/τ)` per anchor and, without
 * gradient, `q = sinkhorn(sharpen(softmax(t̂·ĉᵀ/τ), T))` per target, repeated
 * for the V views:
 *
 * `L = mean_rows[ −Σ_k q_k log p_k ] + λ·R(p̄)`, `p̄ = mean_rows(p)`,
 *
 * `R = log K − H(p̄)` (MSN's me-max, prior `'uniform'`) or `R = KL(π ‖ p̄)`
 * (PMSN, prior `'powerLaw'` or a given π).
 *
 * Reduction: the cross-entropy is averaged over the V·B anchors; the
 * regulariser is computed once on the mean over all V·B anchors. Values:
 * with uniform predictions the cross-entropy is `ln K` and the me-max term
 * 0; at collapse (every anchor and target on one prototype) the
 * cross-entropy → 0 and the me-max term → `ln K`.
 *
 * Numerics: sharpening is applied in log space
 * (`sharpen(softmax(s/τ), T) = softmax(s/(τT))`), the cross-entropy by a
 * max-subtracted log-softmax with an analytic gradient, and `log p̄` as a
 * log-sum-exp of the anchors' log-probabilities, so p̄ underflowing at a small
 * τ never gives `log 0` (the reference computes `log(p̄^(−p̄))`, which is
 * finite there too).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { msnLoss } from 'selfsup';
 *
 * const anchors = tf.randomNormal([8, 16], 0, 1, 'float32', 1) as tf.Tensor2D; // 2 masked views of 4 images
 * const targets = tf.randomNormal([4, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
 * const prototypes = tf.randomNormal([10, 16], 0, 1, 'float32', 3) as tf.Tensor2D;
 * console.log(msnLoss(anchors, targets, prototypes).dataSync()[0]);
 * console.log(msnLoss(anchors, targets, prototypes, { prior: 'powerLaw' }).dataSync()[0]); // PMSN
 * ```
 */
export function msnLoss(
  anchors: tf.Tensor2D,
  targets: tf.Tensor2D,
  prototypes: tf.Tensor2D,
  options: MsnLossOptions = {},
): tf.Scalar {
  const fn = 'msnLoss';
  assertKnownOptions(
    options,
    ['temperature', 'sharpenTemperature', 'sinkhornIterations', 'regularizationWeight', 'prior', 'powerLawExponent'],
    fn,
  );
  const {
    temperature = 0.1,
    sharpenTemperature = 0.25,
    sinkhornIterations = 3,
    regularizationWeight = 1,
    prior = 'uniform',
    powerLawExponent = 0.25,
  } = options;
  assertEmbeddings(targets, fn, 'targets');
  const [batch, d] = targets.shape;
  assertEmbeddings(anchors, fn, 'anchors');
  if (anchors.shape[1] !== d || anchors.shape[0] % batch !== 0) {
    throw new ShapeError(fn, 'anchors', `have V·B rows (B = ${batch} targets, V ≥ 1 views) and D = ${d} columns`, formatShape(anchors.shape));
  }
  assertEmbeddings(prototypes, fn, 'prototypes');
  if (prototypes.shape[1] !== d) {
    throw new ShapeError(fn, 'prototypes', `have D = ${d} columns like targets`, formatShape(prototypes.shape));
  }
  const k = prototypes.shape[0];
  assertPositive(temperature, fn, 'options.temperature');
  assertPositive(sharpenTemperature, fn, 'options.sharpenTemperature');
  assertInteger(sinkhornIterations, fn, 'options.sinkhornIterations', { min: 0 });
  assertNonNegative(regularizationWeight, fn, 'options.regularizationWeight');
  assertPositive(powerLawExponent, fn, 'options.powerLawExponent');
  const priorValues = readPrior(prior, k, powerLawExponent, fn);
  const views = anchors.shape[0] / batch;

  return tf.tidy(() => {
    const protos = normalizeLastAxis(prototypes) as tf.Tensor2D;
    const protosT = tf.transpose(protos);
    const anchorLogits = tf.div(tf.matMul(normalizeLastAxis(anchors) as tf.Tensor2D, protosT), temperature) as tf.Tensor2D;
    // Targets: no gradient (MSN computes them under torch.no_grad()).
    const sharpened = tf.div(tf.matMul(normalizeLastAxis(stopGradient(targets)) as tf.Tensor2D, stopGradient(protosT)), temperature * sharpenTemperature);
    // Sinkhorn balances the sharpened probabilities themselves (rows summing to 1), as
    // MSN and lightly do: exp(log q − max) is q up to one global factor, which the
    // first normalisation removes.
    const logSharpened = tf.logSoftmax(sharpened) as tf.Tensor2D;
    let q =
      sinkhornIterations > 0
        ? sinkhornKnopp(logSharpened, { epsilon: 1, iterations: sinkhornIterations })
        : (tf.exp(logSharpened) as tf.Tensor2D);
    if (views > 1) q = tf.tile(q, [views, 1]);
    const crossEntropy = tf.mean(softCrossEntropy(anchorLogits, stopGradient(q)));
    if (regularizationWeight === 0) return crossEntropy as tf.Scalar;
    const logP = tf.logSoftmax(anchorLogits);
    const logMean = tf.sub(tf.logSumExp(logP, 0), Math.log(anchors.shape[0])); // log p̄, [K]
    const meanP = tf.exp(logMean);
    const regularizer =
      priorValues === null
        ? tf.add(tf.sum(tf.mul(meanP, logMean)), Math.log(k))
        : klFromPrior(priorValues, logMean);
    return tf.add(crossEntropy, tf.mul(regularizationWeight, regularizer)) as tf.Scalar;
  });
}

/** `KL(π ‖ p̄) = Σ π (log π − log p̄)`, with `0·log 0 = 0` for empty prior entries. */
function klFromPrior(prior: Float32Array, logMean: tf.Tensor): tf.Tensor {
  const logPrior = Float32Array.from(prior, (v) => (v > 0 ? Math.log(v) : 0));
  return tf.sum(tf.mul(tf.tensor1d(prior), tf.sub(tf.tensor1d(logPrior), logMean)));
}

/** The prior as probabilities `[K]`, or null for MSN's me-max. */
function readPrior(prior: unknown, k: number, exponent: number, fn: string): Float32Array | null {
  if (prior === 'uniform') return null;
  if (prior === 'powerLaw') return powerLawPrior(k, exponent);
  if (isTensor(prior)) {
    assertRank(prior, 1, fn, 'options.prior', '[K]');
    assertFloat(prior, fn, 'options.prior');
    if (prior.shape[0] !== k) throw new ShapeError(fn, 'options.prior', `have K = ${k} entries (one per prototype)`, formatShape(prior.shape));
    const values = Float32Array.from(prior.dataSync() as Float32Array);
    let total = 0;
    for (const v of values) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(fn, 'options.prior', 'hold non-negative finite probabilities', String(v));
      total += v;
    }
    if (Math.abs(total - 1) > 1e-3) throw new InvalidArgumentError(fn, 'options.prior', 'sum to 1', `a sum of ${total}`);
    return values;
  }
  throw new InvalidArgumentError(fn, 'options.prior', "be 'uniform', 'powerLaw' or a float32 [K] tensor of probabilities", describeValue(prior));
}
