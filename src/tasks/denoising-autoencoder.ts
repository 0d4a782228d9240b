import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Rng } from '../core/rng.js';
import { assertInRange, assertKnownOptions } from '../core/validate.js';
import { reconstructionLoss } from '../losses/reconstruction.js';
import { trainableVariables } from '../train/variables.js';
import { defaultDecoder } from './internal/autoencoder.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { pixelDropout } from '../masking/denoising.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link DenoisingAutoencoder}. */
export interface DenoisingAutoencoderOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * The decoder `[B, F]` → `[B, H, W, C]` (pixels in [0, 1]); not disposed by the task.
   * @default a convDecoder for the encoder's feature size, owned by the task
   */
  decoder?: tfl.LayersModel;
  /**
   * Fraction ν of pixels set to zero in the corrupted input (all channels of a pixel together).
   * @default 0.25 (Vincent et al. 2008 train with 10–25 %, 25 % being their most used level)
   */
  dropProbability?: number;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * A denoising autoencoder (Vincent, Larochelle, Bengio & Manzagol,
 * "Extracting and Composing Robust Features with Denoising Autoencoders",
 * ICML 2008): the input is corrupted by "masking noise" — a random fraction
 * ν of the pixels is set to zero — and the network reconstructs the clean
 * image, so it must learn the structure that lets it fill the gaps rather
 * than copy its input.
 *
 * `loss = mean (decoder(encoder(x̃)) − x)²` over every pixel, with
 * `x̃ = x ⊙ m`, `m_ij ~ Bernoulli(1 − ν)` per pixel (shared by the channels;
 * `pixelDropout` of selfsup/masking).
 * Vincent et al. also try weighting the corrupted pixels more (their
 * "emphasis"); this follows their basic criterion. The masks come from the
 * task's seed.
 *
 * Pieces for your own loop: {@link DenoisingAutoencoder.corrupt},
 * {@link DenoisingAutoencoder.loss}, {@link DenoisingAutoencoder.reconstruct},
 * `decoder`, {@link DenoisingAutoencoder.trainableVariables}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, DenoisingAutoencoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 0 });
 * const task = new DenoisingAutoencoder(encoder, { dropProbability: 0.3, seed: 1 });
 * const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images));
 * task.dispose();
 * ```
 */
export class DenoisingAutoencoder extends BasePretextTask {
  readonly name = 'DenoisingAutoencoder';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** The decoder from code to pixels. */
  readonly decoder: tfl.LayersModel;
  /** Fraction of pixels dropped. */
  readonly dropProbability: number;
  private readonly ownsDecoder: boolean;
  private readonly rng: Rng;

  constructor(encoder: ImageEncoder, options: DenoisingAutoencoderOptions = {}) {
    const fn = 'DenoisingAutoencoder';
    assertEncoder(encoder, fn);
    assertKnownOptions(options, ['imageShape', 'decoder', 'dropProbability', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn, ['decoder']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { dropProbability = 0.25 } = options;
    assertInRange(dropProbability, 0, 1, fn, 'options.dropProbability', [false, true]);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    const built = defaultDecoder(encoder, imageShape, options.decoder, this.rng, fn);
    this.imageShape = imageShape;
    this.decoder = built.decoder;
    this.ownsDecoder = built.owned;
    this.dropProbability = dropProbability;
  }

  /** The variables one step updates: the encoder's, then the decoder's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.decoder)];
  }

  /** `images` with a fresh random fraction `dropProbability` of their pixels set to zero (draws from the task's seed). */
  corrupt(images: tf.Tensor4D): tf.Tensor4D {
    assertImageBatch(images, this.imageShape, 'DenoisingAutoencoder.corrupt');
    return this.corruptUnchecked(images);
  }

  /** The training loss on `images` (a differentiable scalar; draws a fresh corruption). */
  loss(images: tf.Tensor4D): tf.Scalar {
    assertImageBatch(images, this.imageShape, 'DenoisingAutoencoder.loss');
    return this.lossOf(images);
  }

  /** Reconstructions `[B, H, W, C]` of (already corrupted, or clean) `images`, inference mode. */
  reconstruct(images: tf.Tensor4D): tf.Tensor4D {
    assertImageBatch(images, this.imageShape, 'DenoisingAutoencoder.reconstruct');
    return tf.tidy(() => this.decoder.apply(encodeImages(this.encoder, images, false), { training: false }) as tf.Tensor4D);
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    if (this.ownsDecoder) this.decoder.dispose();
  }

  private corruptUnchecked(images: tf.Tensor4D): tf.Tensor4D {
    return pixelDropout(images, { rate: this.dropProbability, seed: this.rng });
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const code = encodeImages(this.encoder, this.corruptUnchecked(images), true);
      return reconstructionLoss(this.decoder.apply(code, { training: true }) as tf.Tensor4D, images);
    });
  }
}
