import * as tf from '@tensorflow/tfjs-core';
import {
  assertFloat,
  assertKnownOptions,
  assertNonNegative,
  assertShape,
  assertTensor,
} from '../core/validate.js';
import { assertImages } from '../core/images.js';
import { divideByMaskTotal } from './internal/masked-mean.js';
import { assertMatching, assertNonEmpty } from './internal/validation.js';

/** Options of {@link reconstructionLoss}. */
export interface ReconstructionLossOptions {
  /**
   * Float32 `[B, H, W, 1]` weights, 1 where the loss counts (the region to
   * fill in, for inpainting) and 0 elsewhere; requires NHWC `prediction`.
   * @default undefined (every element counts)
   */
  mask?: tf.Tensor4D;
}

function checkMask(mask: unknown, prediction: tf.Tensor, fn: string, arg: string): asserts mask is tf.Tensor4D {
  assertImages(prediction, fn, 'prediction');
  const [b, h, w] = prediction.shape;
  assertShape(mask, [b!, h!, w!, 1], fn, arg, '[B, H, W, 1]');
  assertFloat(mask, fn, arg);
}

function squaredError(prediction: tf.Tensor, target: tf.Tensor, mask: tf.Tensor4D | undefined): tf.Scalar {
  const squared = tf.squaredDifference(prediction, target);
  if (mask === undefined) return tf.mean(squared) as tf.Scalar;
  const channels = prediction.shape[3]!;
  return divideByMaskTotal(tf.sum(tf.mul(squared, mask)), tf.mul(tf.sum(mask), channels));
}

/**
 * The L2 reconstruction loss of autoencoding pretext tasks (denoising
 * autoencoders; Context Encoders' `L_rec`, Pathak et al., "Context Encoders:
 * Feature Learning by Inpainting", CVPR 2016, eq. 1).
 *
 * Shapes: `prediction`, `target` float32, same shape; with a `mask`, NHWC
 * `[B, H, W, C]` and the mask `[B, H, W, 1]` (broadcast over channels).
 * Returns a scalar.
 *
 * - no mask: `L = mean (p − t)²` over every element;
 * - with a mask: `L = Σ mask·(p − t)² / (C·Σ mask)`, the mean squared error
 *   over the masked pixels only. An all-zero mask gives 0.
 *
 * Reduction: a mean (the paper writes a squared norm; the mean only rescales
 * it, and Context Encoders' code averages too). Values: 0 for a perfect
 * reconstruction. No gradient is blocked: stop the target's gradient
 * yourself if it comes from a network.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { reconstructionLoss } from 'selfsup';
 *
 * const target = tf.ones([1, 2, 2, 3]);
 * const prediction = tf.zeros([1, 2, 2, 3]);
 * const mask = tf.tensor4d([1, 0, 0, 0], [1, 2, 2, 1]); // only the top-left pixel counts
 * console.log(reconstructionLoss(prediction, target).dataSync()[0]); // 1
 * console.log(reconstructionLoss(prediction, target, { mask }).dataSync()[0]); // 1
 * ```
 */
export function reconstructionLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: ReconstructionLossOptions = {},
): tf.Scalar {
  const fn = 'reconstructionLoss';
  assertKnownOptions(options, ['mask'], fn);
  const { mask } = options;
  assertTensor(prediction, fn, 'prediction');
  assertFloat(prediction, fn, 'prediction');
  assertMatching(target, prediction, fn, 'target', 'prediction');
  assertNonEmpty(prediction, fn, 'prediction');
  if (mask !== undefined) checkMask(mask, prediction, fn, 'options.mask');
  return tf.tidy(() => squaredError(prediction, target, mask));
}

/** `mean softplus(−x)`, i.e. `−mean log σ(x)`: the BCE of logits against label 1. */
function meanSoftplusOfNegated(logits: tf.Tensor): tf.Tensor {
  return tf.mean(tf.softplus(tf.neg(logits)));
}

function assertLogits(x: unknown, fn: string, arg: string): asserts x is tf.Tensor {
  assertTensor(x, fn, arg);
  assertFloat(x, fn, arg);
  assertNonEmpty(x, fn, arg);
}

/**
 * The non-saturating generator loss of a GAN (Goodfellow et al.,
 * "Generative Adversarial Nets", NeurIPS 2014, §3): the generator maximises
 * `log D(G(z))`, i.e.
 *
 * `L = mean softplus(−d) = −mean log σ(d)`
 *
 * for the discriminator's logits `d` on generated samples (any shape, e.g.
 * `[B]` or `[B, 1]`). Returns a scalar. Reduction: mean over all logits.
 * Values: `ln 2` when the discriminator is undecided (d = 0); → 0 as it is
 * fooled. Stable for logits of any size (`softplus` never overflows).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { generatorAdversarialLoss } from 'selfsup';
 *
 * console.log(generatorAdversarialLoss(tf.zeros([4, 1])).dataSync()[0]); // ln 2 ≈ 0.693
 * ```
 */
export function generatorAdversarialLoss(fakeLogits: tf.Tensor): tf.Scalar {
  assertLogits(fakeLogits, 'generatorAdversarialLoss', 'fakeLogits');
  return tf.tidy(() => meanSoftplusOfNegated(fakeLogits) as tf.Scalar);
}

/**
 * The standard GAN discriminator loss (Goodfellow et al. 2014), binary
 * cross-entropy from logits with real = 1 and fake = 0:
 *
 * `L = mean softplus(−real) + mean softplus(fake)`
 *
 * Shapes: `realLogits`, `fakeLogits` float32 of any shape (their sizes may
 * differ). Returns a scalar. Reduction: each term is a mean over its own
 * logits, and the two are summed (Context Encoders' code, DCGAN); halve it
 * for the mean over all samples of an equal-sized batch. Values: `2 ln 2`
 * when undecided; → 0 for a perfect discriminator.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { discriminatorAdversarialLoss } from 'selfsup';
 *
 * const real = tf.tensor1d([3, 2]);
 * const fake = tf.tensor1d([-2, -4]);
 * console.log(discriminatorAdversarialLoss(real, fake).dataSync()[0]);
 * ```
 */
export function discriminatorAdversarialLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  const fn = 'discriminatorAdversarialLoss';
  assertLogits(realLogits, fn, 'realLogits');
  assertLogits(fakeLogits, fn, 'fakeLogits');
  return tf.tidy(
    () => tf.add(meanSoftplusOfNegated(realLogits), tf.mean(tf.softplus(fakeLogits))) as tf.Scalar,
  );
}

/** Options of {@link inpaintingLoss}. */
export interface InpaintingLossOptions {
  /**
   * Weight λ_rec of the masked L2 term.
   * @default 0.999 (Context Encoders)
   */
  reconstructionWeight?: number;
  /**
   * Weight λ_adv of the adversarial term.
   * @default 0.001 (Context Encoders)
   */
  adversarialWeight?: number;
}

/**
 * The joint generator loss of Context Encoders (Pathak et al., CVPR 2016,
 * eq. 3):
 *
 * `L = λ_rec · reconstructionLoss(prediction, target, {mask}) + λ_adv · generatorAdversarialLoss(fakeLogits)`
 *
 * Shapes: `prediction`, `target` float32 NHWC `[B, H, W, C]`; `mask` float32
 * `[B, H, W, 1]`, 1 on the region to fill in; `fakeLogits` the
 * discriminator's logits on the inpainted images (any shape). Returns a scalar.
 * The masked L2 is the mean over the masked pixels (see
 * {@link reconstructionLoss}); Context Encoders' code additionally weights a
 * border overlap region 10×, which this loss does not.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { inpaintingLoss } from 'selfsup';
 *
 * const target = tf.ones([1, 4, 4, 3]);
 * const prediction = tf.fill([1, 4, 4, 3], 0.5);
 * const mask = tf.pad(tf.ones([1, 2, 2, 1]), [[0, 0], [1, 1], [1, 1], [0, 0]]); // centre hole
 * console.log(inpaintingLoss(prediction, target, mask, tf.zeros([1])).dataSync()[0]);
 * ```
 */
export function inpaintingLoss(
  prediction: tf.Tensor4D,
  target: tf.Tensor4D,
  mask: tf.Tensor4D,
  fakeLogits: tf.Tensor,
  options: InpaintingLossOptions = {},
): tf.Scalar {
  const fn = 'inpaintingLoss';
  assertKnownOptions(options, ['reconstructionWeight', 'adversarialWeight'], fn);
  const { reconstructionWeight = 0.999, adversarialWeight = 0.001 } = options;
  assertImages(prediction, fn, 'prediction');
  assertMatching(target, prediction, fn, 'target', 'prediction', '[B, H, W, C]');
  checkMask(mask, prediction, fn, 'mask');
  assertLogits(fakeLogits, fn, 'fakeLogits');
  assertNonNegative(reconstructionWeight, fn, 'options.reconstructionWeight');
  assertNonNegative(adversarialWeight, fn, 'options.adversarialWeight');
  return tf.tidy(
    () =>
      tf.add(
        tf.mul(reconstructionWeight, squaredError(prediction, target, mask)),
        tf.mul(adversarialWeight, meanSoftplusOfNegated(fakeLogits)),
      ) as tf.Scalar,
  );
}
