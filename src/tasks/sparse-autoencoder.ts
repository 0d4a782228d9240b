import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Rng } from '../core/rng.js';
import { assertInRange, assertKnownOptions, assertNonNegative, assertOneOf } from '../core/validate.js';
import { reconstructionLoss } from '../losses/reconstruction.js';
import { sparsityPenalty, type SparsityKind } from '../losses/sparsity.js';
import { trainableVariables } from '../train/variables.js';
import { defaultDecoder } from './internal/autoencoder.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link SparseAutoencoder}. */
export interface SparseAutoencoderOptions extends TaskOptions {
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
   * `'l1'`: mean |code| (the L1 activity penalty). `'kl'`: Ng's KL divergence
   * of a target firing rate from each code unit's mean activation, on the
   * code squashed to [0, 1) by `tanh` (the conv encoder's codes are
   * post-ReLU, ≥ 0; Ng's units are sigmoids).
   * @default 'l1'
   */
  sparsity?: SparsityKind;
  /**
   * Weight β of the sparsity penalty in `loss = MSE + β·penalty`.
   * @default 0.01
   */
  sparsityWeight?: number;
  /**
   * Target firing rate ρ of `'kl'`, in (0, 1).
   * @default 0.05 (Ng)
   */
  target?: number;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * A sparse autoencoder: the encoder's pooled features are the code, a
 * decoder reconstructs the image from it, and a sparsity penalty on the code
 * keeps most units near zero, so each image is explained by a few active
 * features instead of an identity map (Ranzato et al., "Efficient Learning of
 * Sparse Representations with an Energy-Based Model", NeurIPS 2006; Ng,
 * "Sparse autoencoder", CS294A lecture notes, 2011).
 *
 * `loss = mean (decoder(code) − x)² + β · sparsityPenalty(code)` with
 * `code = encoder(x)` (`'l1'`: mean |code|; `'kl'`: Ng's
 * `Σ KL(ρ ‖ ρ̂_j)`, averaged over units, on `tanh(code)`). The encoder is
 * the representation that `embed` returns and the benchmark probes.
 *
 * Pieces for your own loop: {@link SparseAutoencoder.loss} (a differentiable
 * scalar), {@link SparseAutoencoder.reconstruct}, `decoder`, and
 * {@link SparseAutoencoder.trainableVariables}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, SparseAutoencoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 0 });
 * const task = new SparseAutoencoder(encoder, { sparsity: 'kl', seed: 1 });
 * const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images), task.steps); // loss, 1
 * task.dispose();
 * ```
 */
export class SparseAutoencoder extends BasePretextTask {
  readonly name = 'SparseAutoencoder';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** The decoder from code to pixels. */
  readonly decoder: tfl.LayersModel;
  /** The sparsity penalty in use. */
  readonly sparsity: SparsityKind;
  /** Its weight β. */
  readonly sparsityWeight: number;
  /** Target rate ρ of `'kl'`. */
  readonly target: number;
  private readonly ownsDecoder: boolean;

  constructor(encoder: ImageEncoder, options: SparseAutoencoderOptions = {}) {
    const fn = 'SparseAutoencoder';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      ['imageShape', 'decoder', 'sparsity', 'sparsityWeight', 'target', 'learningRate', 'optimizer', 'seed', 'onNonFinite'],
      fn,
    );
    checkTaskOptions(options, fn, ['decoder']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { sparsity = 'l1', sparsityWeight = 0.01, target = 0.05 } = options;
    assertOneOf(sparsity, ['l1', 'kl'] as const, fn, 'options.sparsity');
    assertNonNegative(sparsityWeight, fn, 'options.sparsityWeight');
    assertInRange(target, 0, 1, fn, 'options.target', [true, true]);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    const rng: Rng = createRng(options.seed, fn, 'options.seed');
    const built = defaultDecoder(encoder, imageShape, options.decoder, rng, fn);
    this.imageShape = imageShape;
    this.decoder = built.decoder;
    this.ownsDecoder = built.owned;
    this.sparsity = sparsity;
    this.sparsityWeight = sparsityWeight;
    this.target = target;
  }

  /** The variables one step updates: the encoder's, then the decoder's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.decoder)];
  }

  /** The training loss on `images` (a differentiable scalar; training-mode forward pass). */
  loss(images: tf.Tensor4D): tf.Scalar {
    assertImageBatch(images, this.imageShape, 'SparseAutoencoder.loss');
    return this.lossOf(images);
  }

  /** Reconstructions `[B, H, W, C]` of `images` (inference mode). */
  reconstruct(images: tf.Tensor4D): tf.Tensor4D {
    assertImageBatch(images, this.imageShape, 'SparseAutoencoder.reconstruct');
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

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const code = encodeImages(this.encoder, images, true);
      const reconstruction = reconstructionLoss(this.decoder.apply(code, { training: true }) as tf.Tensor4D, images);
      if (this.sparsityWeight === 0) return reconstruction;
      const units = this.sparsity === 'kl' ? tf.tanh(code) : code;
      const penalty = sparsityPenalty(units, { kind: this.sparsity, target: this.target });
      return tf.add(reconstruction, tf.mul(this.sparsityWeight, penalty)) as tf.Scalar;
    });
  }
}
