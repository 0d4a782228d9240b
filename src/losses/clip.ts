import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { InvalidArgumentError } from '../core/errors.js';
import {
  assertFiniteNumber,
  assertFloat,
  assertKnownOptions,
  assertRank,
  describeValue,
  isTensor,
} from '../core/validate.js';
import { clipFromEmbeddings } from './internal/contrastive.js';
import { assertEmbeddings, assertMatching } from './internal/validation.js';

/** CLIP's initial log logit scale, `log(1/0.07)`. */
const DEFAULT_LOG_SCALE = Math.log(1 / 0.07);

/** Options of {@link clipLoss}. */
export interface ClipLossOptions {
  /**
   * Log of the logit scale (the inverse temperature): a number, or a scalar
   * tensor (typically a `tf.Variable`) to learn it, as CLIP does. The loss
   * never clamps it; clamp the variable after each optimizer step with
   * {@link clampLogScale}.
   * @default Math.log(1 / 0.07) (≈ 2.659, CLIP's initialisation)
   */
  logScale?: number | tf.Scalar;
}

/**
 * The symmetric contrastive loss of CLIP (Radford et al., "Learning
 * Transferable Visual Models From Natural Language Supervision", ICML 2021,
 * Figure 3 pseudocode).
 *
 * Shapes: `imageEmbeddings`, `textEmbeddings` float32 `[N, D]`, row `i` of
 * each being a matching pair; returns a scalar.
 *
 * `logits = exp(logScale) · normalize(I) · normalize(T)ᵀ` (`[N, N]`), then
 *
 * `L = ½ [ CE_rows(logits, i) + CE_cols(logits, i) ]`
 *
 * where `CE_rows` is the mean over images of the cross-entropy of each row
 * against its matching text (index `i`) and `CE_cols` the same over texts
 * (columns). N − 1 negatives per anchor in each direction.
 *
 * Reduction: the mean of the two directions' means (as CLIP and open_clip).
 * Values: `log N` when every logit is equal (collapse, or `logScale → −∞`);
 * → 0 for matching pairs far apart from the rest at a large scale. Symmetric:
 * swapping images and texts gives the same value.
 *
 * The gradient with respect to `logScale` (when it is a tensor) is exact;
 * nothing is clamped inside the loss. Max-subtracted log-sum-exp in both
 * directions, analytic backward with plain matrix products.
 *
 * @param imageEmbeddings float32 `[N, D]`, N ≥ 1.
 * @param textEmbeddings float32 `[N, D]`.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { clampLogScale, clipLoss } from 'selfsup';
 *
 * const images = tf.tensor2d([[1, 0.1], [0.2, 1]]);
 * const texts = tf.tensor2d([[0.9, 0], [0, 1]]);
 * console.log(clipLoss(images, texts).dataSync()[0]); // logScale = log(1/0.07)
 *
 * // A learnable temperature, clamped after each step as in CLIP.
 * const logScale = tf.variable(tf.scalar(Math.log(1 / 0.07)));
 * const optimizer = tf.train.sgd(0.1);
 * optimizer.minimize(() => clipLoss(images, texts, { logScale }), false, [logScale]);
 * clampLogScale(logScale);
 * ```
 */
export function clipLoss(
  imageEmbeddings: tf.Tensor2D,
  textEmbeddings: tf.Tensor2D,
  options: ClipLossOptions = {},
): tf.Scalar {
  const fn = 'clipLoss';
  assertKnownOptions(options, ['logScale'], fn);
  const { logScale = DEFAULT_LOG_SCALE } = options;
  assertEmbeddings(imageEmbeddings, fn, 'imageEmbeddings');
  assertMatching(textEmbeddings, imageEmbeddings, fn, 'textEmbeddings', 'imageEmbeddings', '[N, D]');
  assertMemoryFits(fn, 'imageEmbeddings', [{ shape: [imageEmbeddings.shape[0], imageEmbeddings.shape[0]], count: 4 }]);
  if (isTensor(logScale)) {
    assertRank(logScale, 0, fn, 'options.logScale', '(a scalar)');
    assertFloat(logScale, fn, 'options.logScale');
  } else {
    assertFiniteNumber(logScale, fn, 'options.logScale');
  }
  return tf.tidy(() =>
    clipFromEmbeddings(imageEmbeddings, textEmbeddings, isTensor(logScale) ? (logScale as tf.Scalar) : tf.scalar(logScale)),
  );
}

/** Options of {@link clampLogScale}. */
export interface ClampLogScaleOptions {
  /**
   * Upper bound of the log scale.
   * @default Math.log(100) (CLIP: the logit scale never exceeds 100)
   */
  max?: number;
}

/**
 * Clamps a learnable CLIP log logit scale in place, `v ← min(v, max)`, the
 * step CLIP takes after every optimizer update (Radford et al. 2021, §2.5:
 * "clipped to prevent scaling the logits by more than 100"). Kept outside
 * {@link clipLoss} so the loss's gradient stays exact.
 *
 * @param variable a float32 scalar `tf.Variable` (the `logScale` given to {@link clipLoss}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { clampLogScale } from 'selfsup';
 *
 * const logScale = tf.variable(tf.scalar(5));
 * clampLogScale(logScale);
 * console.log(logScale.dataSync()[0]); // 4.6052 = log(100)
 * ```
 */
export function clampLogScale(variable: tf.Variable, options: ClampLogScaleOptions = {}): void {
  const fn = 'clampLogScale';
  assertKnownOptions(options, ['max'], fn);
  const { max = Math.log(100) } = options;
  const isVariable =
    isTensor(variable) && typeof (variable as unknown as { assign?: unknown }).assign === 'function';
  if (!isVariable) {
    throw new InvalidArgumentError(fn, 'variable', 'be a tf.Variable', describeValue(variable));
  }
  assertRank(variable, 0, fn, 'variable', '(a scalar)');
  assertFloat(variable, fn, 'variable');
  assertFiniteNumber(max, fn, 'options.max');
  tf.tidy(() => variable.assign(tf.minimum(variable, max)));
}
