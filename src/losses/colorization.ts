import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import {
  assertFloat,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertPositive,
  assertRank,
  assertShape,
  formatShape,
} from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { withoutGradient } from './internal/no-gradient.js';
import { assertNonEmpty } from './internal/validation.js';
import { ZHANG313_AB_BINS } from './internal/zhang313-bins.js';
import { assertBackendReady } from '../core/backend-ready.js';

/**
 * The 313 in-gamut quantised ab bins of Zhang et al. (Zhang, Isola & Efros,
 * "Colorful Image Colorization", ECCV 2016): the centres of the grid-10 cells
 * of the ab plane that contain in-gamut sRGB colours, as float32 `[313, 2]`
 * (a, b) pairs in CIE Lab units, ordered by a, then b — the authors'
 * `pts_in_hull` resource. Built into the package (no file is read). Returns a
 * new tensor that the caller disposes.
 *
 * @example
 * ```ts
 * import { colorizationBins } from 'selfsup';
 *
 * const bins = colorizationBins();
 * console.log(bins.shape); // [313, 2]
 * bins.dispose();
 * ```
 */
export function colorizationBins(): tf.Tensor2D {
  assertBackendReady('colorizationBins');
  return tf.tensor2d(ZHANG313_AB_BINS as number[], [313, 2], 'float32');
}

/**
 * Exact squared distances `[P, Q]` between ab points `[P, 2]` and bins
 * `[Q, 2]`, as `(a − a_q)² + (b − b_q)²`. Not the matmul expansion: with
 * |ab| ≈ 100 its float32 cancellation error (~1e-3) could reorder near neighbours.
 */
function abSquaredDistances(ab: tf.Tensor2D, bins: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [pa, pb] = tf.split(ab, 2, 1);
    const [qa, qb] = tf.split(tf.transpose(bins), 2, 0);
    return tf.add(tf.square(tf.sub(pa!, qa!)), tf.square(tf.sub(pb!, qb!))) as tf.Tensor2D;
  });
}

function assertBins(bins: unknown, fn: string, arg: string): asserts bins is tf.Tensor2D {
  assertRank(bins, 2, fn, arg, '[Q, 2]');
  assertShape(bins, [null, 2], fn, arg, '[Q, 2]');
  assertFloat(bins, fn, arg);
  assertNonEmpty(bins, fn, arg);
}

function assertAbImages(x: unknown, fn: string, arg: string): asserts x is tf.Tensor4D {
  assertRank(x, 4, fn, arg, '[B, H, W, 2] (Lab a, b channels)');
  assertShape(x, [null, null, null, 2], fn, arg, '[B, H, W, 2] (Lab a, b channels)');
  assertFloat(x, fn, arg);
}

/** Pixels handled per step by {@link estimateAbPrior}, bounding its memory to ~PIXELS_PER_CHUNK·Q floats. */
const PIXELS_PER_CHUNK = 16384;

/** Options of {@link estimateAbPrior}. */
export interface AbPriorOptions {
  /**
   * Standard deviation (ab units) of the Gaussian that smooths the empirical
   * distribution; 0 returns the raw histogram.
   * @default 5 (Zhang et al.)
   */
  sigma?: number;
}

/**
 * Estimates the prior `p̃` over colour bins from a dataset's ab values, the
 * input of {@link colorizationLoss}'s class rebalancing (Zhang et al., ECCV
 * 2016, §2.2: "the empirical probability of colors in the quantized ab space
 * … smoothed with a Gaussian kernel G_σ", σ = 5).
 *
 * Shapes: `abImages` float32 `[B, H, W, 2]`, the a and b channels of CIE Lab
 * in Lab units (channels 1–2 of selfsup/augment's `rgbToLab`); `bins` float32
 * `[Q, 2]` (e.g. {@link colorizationBins}). Returns float32 `[Q]` summing to 1
 * (a new tensor the caller disposes).
 *
 * Each pixel counts for its nearest bin (lowest index on ties); the
 * histogram `p` is normalised, then smoothed on the bins themselves:
 * `p̃_q = Σ_r p_r · G(c_q − c_r) / Σ_{q'} G(c_{q'} − c_r)` with
 * `G(d) = exp(−‖d‖²/2σ²)`, i.e. each bin's mass is spread over the bins by a
 * Gaussian of σ ab units and nothing leaves the gamut. Zhang et al. do not
 * publish their smoothing code; this is the discrete form of their
 * description. Pass `{ sigma: 0 }` for the raw histogram. Accumulate over
 * batches by averaging priors weighted by pixel counts (before smoothing, or
 * after: the smoothing is linear).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { colorizationBins, estimateAbPrior } from 'selfsup';
 *
 * const ab = tf.tensor4d([10, 20, 12, 18, -40, 5, 11, 21], [1, 2, 2, 2]); // four pixels' (a, b)
 * const bins = colorizationBins();
 * const prior = estimateAbPrior(ab, bins);
 * console.log(prior.shape, tf.sum(prior).dataSync()[0]); // [313] 1
 * ```
 */
export function estimateAbPrior(abImages: tf.Tensor4D, bins: tf.Tensor2D, options: AbPriorOptions = {}): tf.Tensor1D {
  const fn = 'estimateAbPrior';
  assertKnownOptions(options, ['sigma'], fn);
  const { sigma = 5 } = options;
  assertAbImages(abImages, fn, 'abImages');
  assertNonEmpty(abImages, fn, 'abImages');
  assertBins(bins, fn, 'bins');
  assertNonNegative(sigma, fn, 'options.sigma');
  const q = bins.shape[0];
  const pixels = abImages.size / 2;
  const counts = new Float64Array(q);
  const flat = tf.reshape(abImages, [pixels, 2]) as tf.Tensor2D;
  try {
    for (let start = 0; start < pixels; start += PIXELS_PER_CHUNK) {
      const size = Math.min(PIXELS_PER_CHUNK, pixels - start);
      const nearest = tf.tidy(() => tf.argMin(abSquaredDistances(tf.slice(flat, [start, 0], [size, 2]), bins), 1));
      const indices = nearest.dataSync();
      nearest.dispose();
      for (let i = 0; i < indices.length; i++) counts[indices[i]!]! += 1;
    }
  } finally {
    flat.dispose();
  }
  const histogram = Float32Array.from(counts, (c) => c / pixels);
  return tf.tidy(() => {
    const p = tf.tensor1d(histogram);
    if (sigma === 0) return p;
    const kernel = tf.exp(tf.div(abSquaredDistances(bins, bins), -2 * sigma * sigma)); // [Q, Q], symmetric
    const spread = tf.div(kernel, tf.sum(kernel, 0, true)); // column r: where bin r's mass goes
    return tf.reshape(tf.matMul(spread, tf.reshape(p, [q, 1])), [q]) as tf.Tensor1D;
  });
}

/** Options of {@link colorizationLoss}. */
export interface ColorizationLossOptions {
  /**
   * The colour bins `[Q, 2]` (ab, Lab units); Q must equal the logits' last axis.
   * @default colorizationBins() (Zhang et al.'s 313)
   */
  bins?: tf.Tensor2D;
  /**
   * Empirical prior `p̃` `[Q]` over the bins (see {@link estimateAbPrior};
   * normalised to sum 1 here). Omitted: a uniform prior, i.e. no class
   * rebalancing (every weight 1).
   * @default undefined (uniform: no rebalancing)
   */
  priorProbabilities?: tf.Tensor1D;
  /**
   * Mixing weight λ ∈ (0, 1] of the uniform distribution in the rebalancing
   * weights, `w ∝ 1/((1 − λ)p̃ + λ/Q)`; 1 disables rebalancing.
   * @default 0.5 (Zhang et al.)
   */
  lambda?: number;
  /**
   * Standard deviation (ab units) of the soft-encoding Gaussian.
   * @default 5 (Zhang et al.)
   */
  sigma?: number;
  /**
   * Number of nearest bins each target ab value is soft-encoded onto.
   * @default 5 (Zhang et al.)
   */
  neighbours?: number;
}

/**
 * The class-rebalanced multinomial colorization loss of Zhang, Isola &
 * Efros ("Colorful Image Colorization", ECCV 2016, eq. 2–4).
 *
 * Shapes: `logits` float32 NHWC `[B, H, W, Q]` (unnormalised scores over Q
 * colour bins per pixel); `abTargets` float32 `[B, H, W, 2]`, the true a, b
 * (Lab units, e.g. channels 1–2 of selfsup/augment's `rgbToLab`). Returns a scalar.
 *
 * 1. Soft encoding `Z`: each target ab is spread over its `neighbours`
 *    nearest bins with weights `exp(−d²/2σ²)`, normalised to sum 1.
 * 2. Rebalancing: `w_q ∝ 1/((1 − λ)p̃_q + λ/Q)`, scaled so `Σ_q p̃_q w_q = 1`;
 *    the pixel weight is `v = w[argmax_q Z_q]` (the nearest bin).
 * 3. `L = −mean_pixels v · Σ_q Z_q log softmax_q(logits)`.
 *
 * Reduction: the mean over the B·H·W pixels (the paper writes a sum). The
 * weights `v` are part of the value; Zhang et al.'s Caffe code applies them
 * to the gradient only, which gives the same gradient and an unweighted
 * reported loss. Their code mixes the uniform distribution over bins with
 * non-zero prior only (`λ/Q'`), the paper over all Q (`λ/Q`, used here); the
 * two agree when every `p̃_q > 0`. No gradient flows into `abTargets`, `bins` or
 * `priorProbabilities`. Values: for uniform logits `ln Q` times the mean pixel
 * weight (`ln Q` without rebalancing); its minimum is the entropy of the soft
 * encoding, not 0.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { colorizationBins, colorizationLoss } from 'selfsup';
 *
 * const bins = colorizationBins();
 * const logits = tf.zeros([1, 2, 2, 313]);
 * const ab = tf.tensor4d([0, 0, 20, -30, 55, 60, -10, 5], [1, 2, 2, 2]);
 * console.log(colorizationLoss(logits, ab, { bins }).dataSync()[0]); // ln 313 ≈ 5.746 (uniform logits)
 * ```
 */
export function colorizationLoss(
  logits: tf.Tensor4D,
  abTargets: tf.Tensor4D,
  options: ColorizationLossOptions = {},
): tf.Scalar {
  const fn = 'colorizationLoss';
  assertKnownOptions(options, ['bins', 'priorProbabilities', 'lambda', 'sigma', 'neighbours'], fn);
  const { bins, priorProbabilities, lambda = 0.5, sigma = 5, neighbours = 5 } = options;
  assertRank(logits, 4, fn, 'logits', '[B, H, W, Q]');
  assertFloat(logits, fn, 'logits');
  assertNonEmpty(logits, fn, 'logits');
  const [b, h, w, q] = logits.shape;
  assertAbImages(abTargets, fn, 'abTargets');
  assertShape(abTargets, [b, h, w, 2], fn, 'abTargets', '[B, H, W, 2]');
  if (bins !== undefined) {
    assertBins(bins, fn, 'options.bins');
    if (bins.shape[0] !== q) {
      throw new ShapeError(fn, 'options.bins', `have Q = ${q} rows, the last axis of logits`, formatShape(bins.shape));
    }
  } else if (q !== 313) {
    throw new ShapeError(
      fn,
      'logits',
      'have Q = 313 channels (the default colorizationBins()), or pass options.bins with Q rows',
      formatShape(logits.shape),
    );
  }
  if (priorProbabilities !== undefined) {
    assertShape(priorProbabilities, [q], fn, 'options.priorProbabilities', '[Q]');
    assertFloat(priorProbabilities, fn, 'options.priorProbabilities');
  }
  assertInRange(lambda, 0, 1, fn, 'options.lambda', [true, false]);
  assertPositive(sigma, fn, 'options.sigma');
  assertInteger(neighbours, fn, 'options.neighbours', { min: 1, max: q });

  return tf.tidy(() => {
    const binTable = bins ?? colorizationBins();
    const pixels = b * h * w;
    const weights = rebalancingWeights(priorProbabilities, q, lambda);
    const targets = withoutGradient((ab) => {
      const points = tf.reshape(ab, [pixels, 2]) as tf.Tensor2D;
      const { indices } = tf.topk(tf.neg(abSquaredDistances(points, binTable)), neighbours);
      // Exact distances of the chosen bins, so the weights do not inherit topk's ordering only.
      const chosen = tf.reshape(tf.gather(binTable, tf.reshape(indices, [-1])), [pixels, neighbours, 2]);
      const d2 = tf.sum(tf.square(tf.sub(tf.reshape(points, [pixels, 1, 2]), chosen)), -1);
      const soft = tf.softmax(tf.div(d2, -2 * sigma * sigma)) as tf.Tensor2D; // [P, n], rows sum to 1
      const rowStarts = tf.range(0, pixels * neighbours, neighbours, 'int32');
      const nearest = tf.gather(tf.reshape(indices, [-1]), tf.add(rowStarts, tf.argMax(soft, 1)));
      const pixelWeight = tf.reshape(tf.gather(weights, nearest), [pixels, 1]);
      let encoded: tf.Tensor = tf.zeros([pixels, q]);
      const columns = tf.split(soft, neighbours, 1);
      const picks = tf.split(indices, neighbours, 1);
      for (let j = 0; j < neighbours; j++) {
        const oneHot = tf.oneHot(tf.reshape(picks[j]!, [pixels]), q);
        encoded = tf.add(encoded, tf.mul(oneHot, columns[j]!));
      }
      return tf.mul(encoded, pixelWeight) as tf.Tensor2D;
    }, abTargets);
    const flatLogits = tf.reshape(logits, [pixels, q]) as tf.Tensor2D;
    return tf.mean(softCrossEntropy(flatLogits, targets)) as tf.Scalar;
  });
}

/** `w_q ∝ 1/((1 − λ)p̃_q + λ/Q)` with `Σ p̃ w = 1`; all ones without a prior. */
function rebalancingWeights(prior: tf.Tensor1D | undefined, q: number, lambda: number): tf.Tensor1D {
  if (prior === undefined) return tf.ones([q]) as tf.Tensor1D;
  const p = tf.div(prior, tf.sum(prior));
  const w = tf.reciprocal(tf.add(tf.mul(1 - lambda, p), lambda / q));
  return tf.div(w, tf.sum(tf.mul(p, w))) as tf.Tensor1D;
}
