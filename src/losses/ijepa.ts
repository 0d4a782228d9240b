import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../core/stop-gradient.js';
import { assertFloat, assertKnownOptions, assertMinRank, assertOneOf, assertPositive, assertSameShape } from '../core/validate.js';
import { assertNonEmpty } from './internal/validation.js';

/** Options of {@link ijepaLoss}. */
export interface IjepaLossOptions {
  /**
   * The distance in representation space: `'l2'`, the squared error of the
   * paper (eq. 1), or `'smoothL1'`, the Huber-type loss of the official code
   * and of lightly's example (`F.smooth_l1_loss`: `½d²/β` for `|d| < β`,
   * `|d| − ½β` beyond), which equals half the squared error for the small
   * differences of layer-normalised targets.
   * @default 'l2'
   */
  distance?: 'l2' | 'smoothL1';
  /**
   * β of `'smoothL1'`.
   * @default 1 (PyTorch's default, the official code's)
   */
  beta?: number;
}

/**
 * The I-JEPA objective (Assran et al., "Self-Supervised Learning from Images
 * with a Joint-Embedding Predictive Architecture", CVPR 2023, eq. 1; the
 * `loss_fn` of the official `train.py`): the predictor's outputs for the
 * target blocks must match the target encoder's representations of those
 * patches — a regression in representation space, not in pixels.
 *
 * Shapes: `predictions` and `targets` float32 of the same shape `[..., D]`,
 * e.g. `[M·B, K, D]` for M target blocks of K patches per image (the
 * official code stacks the blocks along the batch axis). `targets` carries
 * no gradient (the target encoder is an EMA, never trained by it); I-JEPA
 * layer-normalises them over D first (`F.layer_norm` without affine
 * parameters) — that is the method's job, not this loss's.
 *
 * `L = mean over all elements of (ŝ − s)²` (`'l2'`), or of the smooth-L1
 * function of `ŝ − s` (`'smoothL1'`). Reduction: the mean over every
 * element (blocks, patches, images and features), as `F.mse_loss` /
 * `F.smooth_l1_loss` with `reduction='mean'`; the paper's sum over the
 * patches of a block and the squared L2 norm over D differ from it by the
 * constant factor K·D. Values: 0 for exact predictions; 1 for zero
 * predictions of layer-normalised targets (each target row has mean 0 and
 * variance 1) with `'l2'`, 0.5 with `'smoothL1'` where every |s| < β.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ijepaLoss } from 'selfsup';
 *
 * const predictions = tf.zeros([2, 3, 4]);          // 2 blocks × 3 patches × 4 features
 * const targets = tf.tensor3d([[[1, -1, 1, -1], [1, -1, 1, -1], [1, -1, 1, -1]], [[1, -1, 1, -1], [1, -1, 1, -1], [1, -1, 1, -1]]]);
 * console.log(ijepaLoss(predictions, targets).dataSync()[0]); // 1
 * console.log(ijepaLoss(predictions, targets, { distance: 'smoothL1' }).dataSync()[0]); // 0.5
 * ```
 */
export function ijepaLoss(predictions: tf.Tensor, targets: tf.Tensor, options: IjepaLossOptions = {}): tf.Scalar {
  const fn = 'ijepaLoss';
  assertKnownOptions(options, ['distance', 'beta'], fn);
  const { distance = 'l2', beta = 1 } = options;
  assertMinRank(predictions, 2, fn, 'predictions', '[..., D]');
  assertFloat(predictions, fn, 'predictions');
  assertSameShape(targets, predictions, fn, 'targets', 'predictions');
  assertFloat(targets, fn, 'targets');
  assertNonEmpty(predictions, fn, 'predictions');
  assertOneOf(distance, ['l2', 'smoothL1'] as const, fn, 'options.distance');
  assertPositive(beta, fn, 'options.beta');
  return tf.tidy(() => {
    const diff = tf.sub(predictions, stopGradient(targets));
    if (distance === 'l2') return tf.mean(tf.square(diff)) as tf.Scalar;
    // With c = min(|d|, β): ½c²/β + (|d| − c) is ½d²/β below β and |d| − ½β beyond, without a branch to differentiate.
    const abs = tf.abs(diff);
    const clipped = tf.minimum(abs, beta);
    return tf.mean(tf.add(tf.div(tf.mul(0.5, tf.square(clipped)), beta), tf.sub(abs, clipped))) as tf.Scalar;
  });
}
