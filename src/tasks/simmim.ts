import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { unpatchifyRaw } from '../core/patches.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInRange, assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { classificationHead } from '../heads/classification-head.js';
import { truncatedNormalArray } from '../heads/init.js';
import { VisionTransformer } from '../heads/vit.js';
import { simMIMLoss } from '../losses/simmim.js';
import { patchMaskToPixelsUnchecked } from '../masking/patch-mask-to-pixels.js';
import { randomPatchMask } from '../masking/random-patch-mask.js';
import { assertEncoder, assertImageBatch, checkTaskOptions, checkTrainingOptions, resolveImageShape } from './internal/common.js';
import { convPatchGrid } from './internal/feature-grid.js';
import { BasePretextTask, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link SimMIM}. */
export interface SimMIMOptions extends TaskOptions {
  /**
   * Fraction of the mask patches masked in each image (exactly
   * `ceil(ratio·count)` of them, as SimMIM's mask generator).
   * @default 0.6 (SimMIM)
   */
  maskRatio?: number;
  /**
   * Side of the square mask patches, in pixels. It must divide the image and
   * be a multiple of the encoder's stride (a ViT's patch size, or the input
   * size over a conv encoder's feature-map size). SimMIM masks 32-pixel
   * patches over a Swin's stride of 32, and found the mask patch size
   * matters more than the ratio.
   * @default the encoder's stride
   */
  maskPatchSize?: number;
  /**
   * `[H, W, C]` of the images, for conv encoders that do not declare their input.
   * @default read from the encoder
   */
  imageShape?: readonly [number, number, number];
  /**
   * Adam's learning rate when no optimizer is given (SimMIM: AdamW, 8e-4 ·
   * batch / 512 with warm-up and cosine decay).
   * @default 1e-3
   */
  learningRate?: number;
}

/** What {@link SimMIM.reconstruct} returns (dispose the three tensors). */
export interface SimMIMReconstruction {
  /** The images the encoder saw (masked patches replaced; for a ViT the masking is in token space, so this is the input). */
  masked: tf.Tensor4D;
  /** The decoder's prediction of every pixel `[B, H, W, C]`. */
  prediction: tf.Tensor4D;
  /** The pixel mask `[B, H, W, 1]` (1 = masked). */
  mask: tf.Tensor4D;
}

/**
 * SimMIM (Xie, Zhang, Cao, Lin, Bao, Yao, Dai & Hu, "SimMIM: A Simple
 * Framework for Masked Image Modeling", CVPR 2022): random patches of each
 * image are masked, the whole image — masked patches included — goes through
 * the encoder, and a single linear layer predicts the raw pixels of every
 * position from the encoder's feature map; the loss is the L1 error on the
 * masked pixels only ({@link simMIMLoss}). Unlike MAE the encoder sees every
 * position (so it need not be able to drop tokens) and the decoder is as
 * light as possible, which is what lets SimMIM train **convolutional encoders
 * as well as ViTs**:
 *
 * - **ViT** (`tinyVit`): SimMIM's own setting. The masked patches' embeddings
 *   are replaced by a learned mask token before the positional embedding
 *   (`VisionTransformer.encode`'s `mask` option); the decoder maps each
 *   patch token to its p·p·C pixels.
 * - **Conv encoder** (a tfjs-layers model ending in a pooling head, such as
 *   `convEncoder`): the masking is in the input, at patch granularity — the
 *   masked pixels are replaced by a learned per-channel value (a mask token
 *   in pixel space, initialised to mid-grey 0.5 so that masked patches are
 *   not confused with a black background) — and the decoder reads the
 *   encoder's last feature map (`featureMapModel`, before the pooling head),
 *   mapping each of its h·w positions to the s·s·C pixels it covers
 *   (s = H / h, a 1×1 convolution followed by a pixel shuffle, SimMIM's
 *   decoder).
 *
 * In both cases the representation is the encoder's usual output (`embed`).
 * The masks are drawn from the task's seed: exactly `ceil(ratio · count)`
 * mask patches per image (SimMIM's `MaskGenerator`).
 *
 * Pieces: {@link SimMIM.sampleMask}, {@link SimMIM.loss},
 * {@link SimMIM.reconstruct}, {@link SimMIM.decoder},
 * {@link SimMIM.maskToken}, {@link SimMIM.trainableVariables}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SimMIM, convEncoder, tinyVit } from 'selfsup';
 *
 * const images = tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * // A conv encoder: 16 → 8 → 4 (strides 2, 2), stride 4, 4×4-pixel mask patches.
 * const conv = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], strides: [2, 2], seed: 0 });
 * const onConv = new SimMIM(conv, { maskRatio: 0.5, seed: 1 });
 * console.log(onConv.stride, onConv.step(images).toFixed(3)); // 4, the L1 error of the masked pixels
 * // A ViT: masked tokens in embedding space.
 * const vit = tinyVit({ imageSize: 16, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const onVit = new SimMIM(vit, { seed: 1 });
 * console.log(onVit.step(images).toFixed(3));
 * onConv.dispose(); onVit.dispose(); conv.dispose(); vit.dispose();
 * ```
 */
export class SimMIM extends BasePretextTask {
  readonly name = 'SimMIM';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Whether the encoder is a ViT (token-space masking) or a conv encoder (input masking). */
  readonly encoderKind: 'vit' | 'conv';
  /** The encoder's stride s: pixels per token or per feature-map position. */
  readonly stride: number;
  /** Side of the mask patches, in pixels. */
  readonly maskPatchSize: number;
  /** Fraction of mask patches masked. */
  readonly maskRatio: number;
  /** The linear decoder: a feature (token) `[F]` → its s·s·C pixels. */
  readonly decoder: tfl.Sequential;
  /** The learned mask token: `[D]` in a ViT's embedding space, `[C]` in pixel space for a conv encoder. */
  readonly maskToken: tf.Variable;
  private readonly featureMap: tfl.LayersModel | null;
  private readonly grid: [number, number];
  private readonly rng: Rng;

  constructor(encoder: ImageEncoder, options: SimMIMOptions = {}) {
    const fn = 'SimMIM';
    assertEncoder(encoder, fn);
    assertKnownOptions(options, ['maskRatio', 'maskPatchSize', 'imageShape', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { maskRatio = 0.6 } = options;
    assertInRange(maskRatio, 0, 1, fn, 'options.maskRatio', [false, true]);
    const isVit = encoder instanceof VisionTransformer;
    const imageShape: [number, number, number] = isVit
      ? [encoder.imageSize[0], encoder.imageSize[1], encoder.channels]
      : resolveImageShape(encoder, options.imageShape, fn);
    const [h, w, c] = imageShape;
    // Everything is read and checked before anything is allocated.
    let featureMap: tfl.LayersModel | null = null;
    let stride: number;
    let featureDim: number;
    let grid: [number, number];
    if (isVit) {
      stride = encoder.patchSize;
      featureDim = encoder.dim;
      grid = [encoder.gridSize[0], encoder.gridSize[1]];
    } else {
      const found = convPatchGrid(encoder, imageShape, fn);
      featureMap = found.featureMap;
      stride = found.stride;
      featureDim = found.channels;
      grid = found.grid;
    }
    const { maskPatchSize = stride } = options;
    assertInteger(maskPatchSize, fn, 'options.maskPatchSize', { min: 1 });
    if (maskPatchSize % stride !== 0 || h % maskPatchSize !== 0 || w % maskPatchSize !== 0) {
      throw new InvalidArgumentError(
        fn,
        'options.maskPatchSize',
        `be a multiple of the encoder's stride ${stride} that divides the ${h}×${w} image`,
        describeValue(maskPatchSize),
      );
    }
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.encoderKind = isVit ? 'vit' : 'conv';
    this.stride = stride;
    this.maskPatchSize = maskPatchSize;
    this.maskRatio = maskRatio;
    this.featureMap = featureMap;
    this.grid = grid;
    this.decoder = classificationHead({ inputDim: featureDim, numClasses: stride * stride * c, seed: this.rng.nextUint32() });
    // SimMIM initialises its token from N(0, 0.02²) truncated at ±0.02; in pixel space, mid-grey.
    const token = isVit ? truncatedNormalArray(this.rng, featureDim, 0.02, -1, 1) : new Float32Array(c).fill(0.5);
    this.maskToken = tf.tidy(() => tf.variable(tf.tensor1d(token), true));
  }

  /** The variables one step updates: the encoder's, the decoder's and the mask token. */
  get trainableVariables(): tf.Variable[] {
    return [...this.variablesOf(this.decoder), this.maskToken];
  }

  /**
   * A fresh mask for `batch` images (from the task's seed): float32
   * `[B, (H/m)·(W/m)]` over the m-pixel mask patches, 1 = masked.
   */
  sampleMask(batch: number): tf.Tensor2D {
    const [h, w] = this.imageShape;
    const m = this.maskPatchSize;
    const count = (h / m) * (w / m);
    // SimMIM masks ceil(ratio·count); randomPatchMask keeps floor(count·(1 − ratio)) — the same number.
    const { mask, idsKeep, idsRestore } = randomPatchMask(batch, count, { maskRatio: this.maskRatio, seed: this.rng });
    tf.dispose([idsKeep, idsRestore]);
    return mask;
  }

  /** The training loss on `images` with a fresh mask (a differentiable scalar). */
  loss(images: tf.Tensor4D): tf.Scalar {
    this.check(images, 'SimMIM.loss');
    return this.lossOf(images);
  }

  /** Masks and reconstructs `images` with a fresh mask, for display (see {@link SimMIMReconstruction}). */
  reconstruct(images: tf.Tensor4D): SimMIMReconstruction {
    this.check(images, 'SimMIM.reconstruct');
    const patchMask = this.sampleMask(images.shape[0]);
    try {
      return tf.tidy(() => {
        const { masked, prediction, pixelMask } = this.forwardMasked(images, patchMask, false);
        return { masked: masked ?? tf.clone(images), prediction, mask: pixelMask };
      });
    } finally {
      patchMask.dispose();
    }
  }

  protected runStep(images: tf.Tensor4D): number {
    this.check(images, 'SimMIM.step');
    this.checkBatch(images, null);
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  /** Frees the decoder, the mask token and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.decoder.dispose();
    this.maskToken.dispose();
  }

  private check(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImageBatch(images, this.imageShape, fn);
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const patchMask = this.sampleMask(images.shape[0]);
      const { prediction, pixelMask } = this.forwardMasked(images, patchMask, true);
      return simMIMLoss(prediction, images, pixelMask);
    });
  }

  /** The masked input, the decoder's prediction and the pixel mask for a mask over the mask patches. */
  private forwardMasked(
    images: tf.Tensor4D,
    patchMask: tf.Tensor2D,
    training: boolean,
  ): { masked: tf.Tensor4D | null; prediction: tf.Tensor4D; pixelMask: tf.Tensor4D } {
    const [h, w, c] = this.imageShape;
    const b = images.shape[0];
    const m = this.maskPatchSize;
    const pixelMask = patchMaskToPixelsUnchecked(patchMask, h / m, w / m, m);
    const [gh, gw] = this.grid;
    let tokens: tf.Tensor3D; // [B, gh·gw, F]
    let masked: tf.Tensor4D | null = null;
    if (this.encoderKind === 'vit') {
      const vit = this.encoder as VisionTransformer;
      // The mask on the mask-patch grid, refined onto the token grid.
      const tokenMask = tf.reshape(patchMaskToPixelsUnchecked(patchMask, h / m, w / m, m / this.stride), [b, gh * gw]) as tf.Tensor2D;
      const encoded = vit.encode(images, { mask: tokenMask, maskToken: this.maskToken as tf.Tensor1D });
      tokens = (vit.classToken ? tf.slice(encoded, [0, 1, 0], [-1, -1, -1]) : encoded) as tf.Tensor3D;
    } else {
      masked = tf.add(tf.mul(images, tf.sub(1, pixelMask)), tf.mul(pixelMask, this.maskToken)) as tf.Tensor4D;
      const map = this.featureMap!.apply(masked as tf.Tensor4D, { training }) as tf.Tensor4D;
      tokens = tf.reshape(map, [b, gh * gw, -1]) as tf.Tensor3D;
    }
    const f = tokens.shape[2];
    const pixels = this.decoder.apply(tf.reshape(tokens, [b * gh * gw, f]), { training }) as tf.Tensor2D;
    const prediction = unpatchifyRaw(tf.reshape(pixels, [b, gh * gw, this.stride * this.stride * c]) as tf.Tensor3D, this.stride, h, w);
    return { masked, prediction, pixelMask };
  }
}
