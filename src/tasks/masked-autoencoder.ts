import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { unpatchifyRaw } from '../core/patches.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInRange, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { MaeDecoder, maeDecoder } from '../heads/mae-decoder.js';
import { VisionTransformer } from '../heads/vit.js';
import { maeLoss } from '../losses/mae.js';
import { assertImageBatch, checkTrainingOptions } from './internal/common.js';
import { patchMaskToPixelsUnchecked } from '../masking/patch-mask-to-pixels.js';
import { randomPatchMask } from '../masking/random-patch-mask.js';
import { BasePretextTask } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link MaskedAutoencoder}. */
export interface MaskedAutoencoderOptions extends TaskOptions {
  /**
   * The decoder (made for this encoder by `maeDecoder`); not disposed by the task.
   * @default maeDecoder(encoder, { dim: 32, depth: 2, heads: 4 }), owned by the task
   */
  decoder?: MaeDecoder;
  /**
   * Fraction of patches removed from each image (the encoder sees the rest).
   * @default 0.75 (MAE)
   */
  maskRatio?: number;
  /**
   * Regress per-patch normalised pixels (MAE's `norm_pix_loss`, the setting
   * of its best results).
   * @default true
   */
  normPixLoss?: boolean;
  /**
   * Adam's learning rate when no optimizer is given (MAE: AdamW, base rate
   * 1.5e-4 × batch/256 with 40 warm-up epochs; short CPU runs need more).
   * @default 1e-3
   */
  learningRate?: number;
}

/** What {@link MaskedAutoencoder.reconstruct} returns. */
export interface MaeReconstruction {
  /** The decoder's images `[B, H, W, C]` (every patch predicted; in normalised units with `normPixLoss`). */
  prediction: tf.Tensor4D;
  /** The removed patches as a pixel mask `[B, H, W, 1]` (1 = removed). */
  mask: tf.Tensor4D;
  /** The input with the decoder's prediction pasted into the removed patches (raw pixels only). */
  pasted: tf.Tensor4D;
}

/**
 * Masked autoencoder (He et al., "Masked Autoencoders Are Scalable Vision
 * Learners", CVPR 2022): each image is cut into patches, a random 75 % of
 * them is removed, the ViT encoder sees only the visible quarter (no mask
 * tokens in the encoder), and a light Transformer decoder — given the encoded
 * visible tokens and a shared learned mask token at every removed position —
 * predicts the pixels of every patch; the loss is the mean squared error on
 * the removed patches only (on per-patch normalised pixels with
 * `normPixLoss`). The encoder is the representation (`embed` pools its tokens
 * as the ViT's `pool` option says).
 *
 * The masks are MAE's per-sample random shuffles (`randomPatchMask` of
 * selfsup/masking), drawn from the task's seed.
 * MAE trains with AdamW and a cosine schedule for 800–1600 epochs; here Adam
 * with a constant rate by default (pass your own optimizer and schedule).
 *
 * Pieces for your own loop: {@link MaskedAutoencoder.sampleMask},
 * {@link MaskedAutoencoder.loss}, {@link MaskedAutoencoder.reconstruct},
 * `decoder`, {@link MaskedAutoencoder.trainableVariables}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { MaskedAutoencoder, tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const task = new MaskedAutoencoder(vit, { maskRatio: 0.5, seed: 1 });
 * const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images));
 * task.dispose();
 * vit.dispose();
 * ```
 */
export class MaskedAutoencoder extends BasePretextTask {
  readonly name = 'MaskedAutoencoder';
  /** The ViT being trained (also `encoder`). */
  readonly vit: VisionTransformer;
  /** The decoder. */
  readonly decoder: MaeDecoder;
  /** Fraction of patches removed. */
  readonly maskRatio: number;
  /** Whether targets are per-patch normalised. */
  readonly normPixLoss: boolean;
  private readonly ownsDecoder: boolean;
  private readonly rng: Rng;

  constructor(encoder: VisionTransformer, options: MaskedAutoencoderOptions = {}) {
    const fn = 'MaskedAutoencoder';
    if (!(encoder instanceof VisionTransformer)) {
      throw new InvalidArgumentError(fn, 'encoder', 'be a VisionTransformer made by tinyVit', describeValue(encoder));
    }
    assertKnownOptions(options, ['decoder', 'maskRatio', 'normPixLoss', 'learningRate', 'optimizer', 'seed'], fn);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { maskRatio = 0.75, normPixLoss = true } = options;
    assertInRange(maskRatio, 0, 1, fn, 'options.maskRatio', [true, false]);
    assertOneOf(normPixLoss, [true, false], fn, 'options.normPixLoss');
    if (options.decoder !== undefined) {
      const d = options.decoder as unknown;
      const ok = d instanceof MaeDecoder && d.numPatches === encoder.numPatches && d.encoderDim === encoder.dim;
      if (!ok) {
        throw new InvalidArgumentError(fn, 'options.decoder', 'be a MaeDecoder made by maeDecoder(encoder)', describeValue(d));
      }
    }
    if (Math.floor(encoder.numPatches * (1 - maskRatio)) < 1) {
      throw new InvalidArgumentError(
        fn,
        'options.maskRatio',
        `leave at least one of the ${encoder.numPatches} patches visible (⌊L·(1 − maskRatio)⌋ ≥ 1)`,
        String(maskRatio),
      );
    }
    super(encoder, options.optimizer, learningRate);
    this.rng = createRng(options.seed);
    this.vit = encoder;
    this.ownsDecoder = options.decoder === undefined;
    this.decoder = options.decoder ?? maeDecoder(encoder, { dim: 32, depth: 2, heads: 4, seed: this.rng.nextUint32() });
    this.maskRatio = maskRatio;
    this.normPixLoss = normPixLoss;
  }

  /** The variables one step updates: the encoder's, then the decoder's. */
  get trainableVariables(): tf.Variable[] {
    return [...this.vit.trainableVariables, ...this.decoder.trainableVariables];
  }

  /**
   * A fresh random mask for `batch` images (draws from the task's seed):
   * `keepIds` int32 `[B, K]` (visible patches, in shuffled order) and `mask`
   * float32 `[B, L]` (1 = removed). Dispose both.
   */
  sampleMask(batch: number): { keepIds: tf.Tensor2D; mask: tf.Tensor2D } {
    const { idsKeep, mask, idsRestore } = randomPatchMask(batch, this.vit.numPatches, { maskRatio: this.maskRatio, seed: this.rng });
    idsRestore.dispose();
    return { keepIds: idsKeep, mask };
  }

  /** The training loss on `images` with a fresh mask (a differentiable scalar). */
  loss(images: tf.Tensor4D): tf.Scalar {
    this.check(images, 'MaskedAutoencoder.loss');
    return this.lossOf(images);
  }

  /** Reconstructs `images` with a fresh mask, for display (see {@link MaeReconstruction}); dispose the three tensors. */
  reconstruct(images: tf.Tensor4D): MaeReconstruction {
    this.check(images, 'MaskedAutoencoder.reconstruct');
    const { keepIds, mask } = this.sampleMask(images.shape[0]);
    try {
      return tf.tidy(() => {
        const [, h, w] = images.shape;
        const p = this.vit.patchSize;
        const pred = this.decoder.decode(this.vit.encode(images, { keepIds }), keepIds);
        const prediction = unpatchifyRaw(pred, p, h, w);
        const pixelMask = patchMaskToPixelsUnchecked(mask, this.vit.gridSize[0], this.vit.gridSize[1], p);
        const pasted = tf.add(tf.mul(images, tf.sub(1, pixelMask)), tf.mul(prediction, pixelMask)) as tf.Tensor4D;
        return { prediction, mask: pixelMask, pasted };
      });
    } finally {
      tf.dispose([keepIds, mask]);
    }
  }

  step(images: tf.Tensor4D): number {
    this.check(images, 'MaskedAutoencoder.step');
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  override dispose(): void {
    super.dispose();
    if (this.ownsDecoder) this.decoder.dispose();
  }

  private check(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImageBatch(images, [...this.vit.imageSize, this.vit.channels] as [number, number, number], fn);
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const { keepIds, mask } = this.sampleMask(images.shape[0]);
      const prediction = this.decoder.decode(this.vit.encode(images, { keepIds }), keepIds);
      return maeLoss(prediction, images, mask, { patchSize: this.vit.patchSize, normPixLoss: this.normPixLoss });
    });
  }
}

