import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { unpatchifyRaw } from '../core/patches.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInRange, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import { decoderConfig, MaeDecoder, type MaeEncoderGeometry } from '../heads/mae-decoder.js';
import { selectionMatrix } from '../heads/transformer.js';
import { VisionTransformer } from '../heads/vit.js';
import { maeLoss } from '../losses/mae.js';
import { assertEncoder, assertImageBatch, checkTaskOptions, checkTrainingOptions, resolveImageShape } from './internal/common.js';
import { convPatchGrid } from './internal/feature-grid.js';
import { patchMaskToPixelsUnchecked } from '../masking/patch-mask-to-pixels.js';
import { randomPatchMask } from '../masking/random-patch-mask.js';
import { BasePretextTask, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link MaskedAutoencoder}. */
export interface MaskedAutoencoderOptions extends TaskOptions {
  /**
   * The decoder (made for this ViT by `maeDecoder`); not disposed by the task.
   * Conv encoders always get their own.
   * @default maeDecoder(encoder, { dim: 32, depth: 2, heads: 4 }), owned by the task
   */
  decoder?: MaeDecoder;
  /**
   * `[H, W, C]` of the images, for conv encoders that do not declare their input.
   * @default read from the encoder
   */
  imageShape?: readonly [number, number, number];
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
 * them is removed, the encoder sees the rest, and a light Transformer decoder
 * — given the encoded visible patches and a shared learned mask token at
 * every removed position — predicts the pixels of every patch; the loss is
 * the mean squared error on the removed patches only (on per-patch
 * normalised pixels with `normPixLoss`). The encoder is the representation
 * (`embed`).
 *
 * - **ViT** (`tinyVit`), MAE's setting: the encoder embeds only the visible
 *   patches (no mask tokens in the encoder); `embed` pools its tokens as the
 *   ViT's `pool` option says.
 * - **Conv encoder** (a tfjs-layers model whose last feature map can be read
 *   before its pooling head, such as `convEncoder`): a convolution cannot
 *   skip patches, so the removed patches are blanked in the input (a learned
 *   per-channel fill, initialised to mid-grey) and the patches are the cells
 *   of the encoder's last map — each of its h×w positions stands for the s×s
 *   pixels it covers (s = H / h). Only the visible positions' features go to
 *   the decoder, which fills the rest with its mask token exactly as for a
 *   ViT, so the encoder's features of a removed patch carry no gradient
 *   (ConvNeXt V2's FCMAE recipe, with dense instead of sparse convolutions).
 *   `embed` is the encoder's own output.
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
 * import { MaskedAutoencoder, convEncoder, tinyVit } from 'selfsup';
 *
 * const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const onVit = new MaskedAutoencoder(vit, { maskRatio: 0.5, seed: 1 });
 * console.log(onVit.step(images));
 * // A conv encoder: 8 → 4 → 2, so 2×2 patches of 4×4 pixels.
 * const conv = convEncoder({ inputShape: [8, 8, 1], channels: [8, 16], strides: [2, 2], seed: 0 });
 * const onConv = new MaskedAutoencoder(conv, { maskRatio: 0.5, seed: 1 });
 * console.log(onConv.patchSize, onConv.step(images)); // 4, the loss
 * onVit.dispose(); onConv.dispose(); vit.dispose(); conv.dispose();
 * ```
 */
export class MaskedAutoencoder extends BasePretextTask {
  readonly name = 'MaskedAutoencoder';
  /** The ViT being trained (also `encoder`), or null for a conv encoder. */
  readonly vit: VisionTransformer | null;
  /** Whether the encoder is a ViT (visible patches only) or a conv encoder (blanked input, map cells as patches). */
  readonly encoderKind: 'vit' | 'conv';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Side p of the patches, in pixels (a conv encoder's stride). */
  readonly patchSize: number;
  /** `[rows, columns]` of the patch grid. */
  readonly gridSize: [number, number];
  /** Number of patches L. */
  readonly numPatches: number;
  /** The decoder. */
  readonly decoder: MaeDecoder;
  /** Fraction of patches removed. */
  readonly maskRatio: number;
  /** Whether targets are per-patch normalised. */
  readonly normPixLoss: boolean;
  /** A conv encoder's learned per-channel fill of the removed patches `[C]`; null for a ViT. */
  readonly fill: tf.Variable | null;
  private readonly featureMap: tfl.LayersModel | null;
  private readonly ownsDecoder: boolean;
  private readonly rng: Rng;

  constructor(encoder: VisionTransformer | ImageEncoder, options: MaskedAutoencoderOptions = {}) {
    const fn = 'MaskedAutoencoder';
    assertEncoder(encoder, fn);
    assertKnownOptions(options, ['decoder', 'maskRatio', 'normPixLoss', 'imageShape', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { maskRatio = 0.75, normPixLoss = true } = options;
    assertInRange(maskRatio, 0, 1, fn, 'options.maskRatio', [true, false]);
    assertOneOf(normPixLoss, [true, false], fn, 'options.normPixLoss');
    // Everything is read and checked before anything is allocated.
    const isVit = encoder instanceof VisionTransformer;
    let imageShape: [number, number, number];
    let patchSize: number;
    let gridSize: [number, number];
    let width: number;
    let featureMap: tfl.LayersModel | null = null;
    if (isVit) {
      imageShape = [encoder.imageSize[0], encoder.imageSize[1], encoder.channels];
      patchSize = encoder.patchSize;
      gridSize = [encoder.gridSize[0], encoder.gridSize[1]];
      width = encoder.dim;
    } else {
      imageShape = resolveImageShape(encoder, options.imageShape, fn);
      const found = convPatchGrid(encoder, imageShape, fn);
      featureMap = found.featureMap;
      patchSize = found.stride;
      gridSize = found.grid;
      width = found.channels;
    }
    const numPatches = gridSize[0] * gridSize[1];
    if (options.decoder !== undefined) {
      const d = options.decoder as unknown;
      const ok = isVit && d instanceof MaeDecoder && d.numPatches === numPatches && d.encoderDim === width;
      if (!ok) {
        throw new InvalidArgumentError(
          fn,
          'options.decoder',
          isVit ? 'be a MaeDecoder made by maeDecoder(encoder)' : 'be omitted for a conv encoder (the task builds its decoder)',
          describeValue(d),
        );
      }
    }
    if (Math.floor(numPatches * (1 - maskRatio)) < 1) {
      throw new InvalidArgumentError(
        fn,
        'options.maskRatio',
        `leave at least one of the ${numPatches} patches visible (⌊L·(1 − maskRatio)⌋ ≥ 1)`,
        String(maskRatio),
      );
    }
    const config = decoderConfig({ dim: 32, depth: 2, heads: 4 }, fn);
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.vit = isVit ? encoder : null;
    this.encoderKind = isVit ? 'vit' : 'conv';
    this.imageShape = imageShape;
    this.patchSize = patchSize;
    this.gridSize = gridSize;
    this.numPatches = numPatches;
    this.featureMap = featureMap;
    this.ownsDecoder = options.decoder === undefined;
    const geometry: MaeEncoderGeometry = { numPatches, patchDim: patchSize * patchSize * imageShape[2], dim: width, classToken: isVit && encoder.classToken, gridSize };
    this.decoder = options.decoder ?? new MaeDecoder(geometry, config, createRng(this.rng.nextUint32()));
    this.fill = isVit ? null : tf.tidy(() => tf.variable(tf.fill([imageShape[2]], 0.5), true));
    this.maskRatio = maskRatio;
    this.normPixLoss = normPixLoss;
  }

  /** The variables one step updates: the encoder's, the decoder's (and a conv encoder's fill). */
  get trainableVariables(): tf.Variable[] {
    return [...this.variablesOf(this.decoder), ...(this.fill !== null ? [this.fill] : [])];
  }

  /**
   * A fresh random mask for `batch` images (draws from the task's seed):
   * `keepIds` int32 `[B, K]` (visible patches, in shuffled order) and `mask`
   * float32 `[B, L]` (1 = removed). Dispose both.
   */
  sampleMask(batch: number): { keepIds: tf.Tensor2D; mask: tf.Tensor2D } {
    const { idsKeep, mask, idsRestore } = randomPatchMask(batch, this.numPatches, { maskRatio: this.maskRatio, seed: this.rng });
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
        const [h, w] = this.imageShape;
        const p = this.patchSize;
        const prediction = unpatchifyRaw(this.predict(images, keepIds, mask, false), p, h, w);
        const pixelMask = patchMaskToPixelsUnchecked(mask, this.gridSize[0], this.gridSize[1], p);
        const pasted = tf.add(tf.mul(images, tf.sub(1, pixelMask)), tf.mul(prediction, pixelMask)) as tf.Tensor4D;
        return { prediction, mask: pixelMask, pasted };
      });
    } finally {
      tf.dispose([keepIds, mask]);
    }
  }

  protected runStep(images: tf.Tensor4D): number {
    this.check(images, 'MaskedAutoencoder.step');
    this.checkBatch(images, null);
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  /** Frees an owned decoder, a conv encoder's fill and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    if (this.ownsDecoder) this.decoder.dispose();
    this.fill?.dispose();
  }

  private check(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImageBatch(images, this.imageShape, fn);
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const { keepIds, mask } = this.sampleMask(images.shape[0]);
      const prediction = this.predict(images, keepIds, mask, true);
      return maeLoss(prediction, images, mask, { patchSize: this.patchSize, normPixLoss: this.normPixLoss });
    });
  }

  /** The decoder's pixels `[B, L, p·p·C]` of every patch, from the visible ones. */
  private predict(images: tf.Tensor4D, keepIds: tf.Tensor2D, mask: tf.Tensor2D, training: boolean): tf.Tensor3D {
    if (this.vit !== null) return this.decoder.decode(this.vit.encode(images, { keepIds }), keepIds);
    const b = images.shape[0];
    const [gh, gw] = this.gridSize;
    const p = this.patchSize;
    const pixelMask = patchMaskToPixelsUnchecked(mask, gh, gw, p);
    const blanked = tf.add(tf.mul(images, tf.sub(1, pixelMask)), tf.mul(pixelMask, this.fill!)) as tf.Tensor4D;
    const map = this.featureMap!.apply(blanked, { training }) as tf.Tensor4D;
    const cells = tf.reshape(map, [b, gh * gw, -1]) as tf.Tensor3D;
    const visible = tf.matMul(selectionMatrix(keepIds, this.numPatches), cells) as tf.Tensor3D;
    return this.decoder.decode(visible, keepIds);
  }
}
