import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { simclrAugment } from '../augment/presets.js';
import { assertInteger, assertOneOf, assertPositive } from '../core/validate.js';
import { dclLoss, dclwLoss } from '../losses/dcl.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';

/** Options of {@link DCL}. */
export interface DCLOptions extends JointEmbeddingOptions {
  /**
   * Temperature τ of the decoupled contrastive loss.
   * @default 0.1 (lightly's `DCLLoss`; the paper: 0.1–0.2 on ImageNet)
   */
  temperature?: number;
  /**
   * DCLW: weight each image's positive term by the von Mises–Fisher weights
   * `2 − N·softmax(cos(z1, z2)/σ)` ({@link dclwLoss}).
   * @default false (plain DCL)
   */
  weighted?: boolean;
  /**
   * σ of DCLW's weighting (only with `weighted`).
   * @default 0.5 (the paper)
   */
  sigma?: number;
  /**
   * Size of the projection the loss sees.
   * @default 128 (SimCLR's, which the paper keeps)
   */
  projectionDim?: number;
  /**
   * Width of the projector's hidden layer.
   * @default the encoder's feature size
   */
  hiddenDim?: number;
}

/**
 * DCL and DCLW (Yeh, Hong, Hsu, Liu, Chen & LeCun, "Decoupled Contrastive
 * Learning", ECCV 2022): SimCLR with the positive pair removed from the
 * InfoNCE denominator. The paper shows that the positive in the denominator
 * scales every gradient by a "negative-positive coupling" factor that is
 * small when the positive is easy or the negatives are few — the reason
 * SimCLR needs large batches — and that removing it ({@link dclLoss}) trains
 * well at batch sizes of 256 and below. DCLW ({@link dclwLoss},
 * `weighted: true`) also up-weights hard positives with a von Mises–Fisher
 * weighting.
 *
 * Composition, as SimCLR: augmentation (default `simclrAugment({ strength:
 * 0.5 })` on RGB, {@link grayscaleAugment} on one channel) → your encoder →
 * `projectionMlp` (hidden = feature size, output 128, batch norm) → the DCL
 * loss at τ = 0.1; both views encoded in one batch. Adam at 1e-3 unless you
 * pass an optimizer (the paper: SGD / LARS as SimCLR).
 *
 * Pieces: {@link DCL.project}, {@link DCL.computeLoss}, {@link DCL.projector}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { DCL, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const dcl = new DCL(encoder, { projectionDim: 16, weighted: true, seed: 1 }); // DCLW
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(dcl.step(images).toFixed(3));
 * dcl.dispose();
 * ```
 */
export class DCL extends JointEmbeddingTask {
  readonly name = 'DCL';
  /** The projection head. */
  readonly projector: tfl.Sequential;
  /** Temperature τ. */
  readonly temperature: number;
  /** Whether the positives are weighted (DCLW). */
  readonly weighted: boolean;
  /** σ of DCLW's weighting. */
  readonly sigma: number;

  constructor(encoder: ImageEncoder, options: DCLOptions = {}) {
    const fn = 'DCL';
    JointEmbeddingTask.checkOptions(options, ['temperature', 'weighted', 'sigma', 'projectionDim', 'hiddenDim'], fn);
    // Every option is checked before the base class allocates the optimizer.
    const { temperature = 0.1, weighted = false, sigma = 0.5, projectionDim = 128, hiddenDim } = options ?? {};
    assertPositive(temperature, fn, 'options.temperature');
    assertOneOf(weighted, [true, false], fn, 'options.weighted');
    assertPositive(sigma, fn, 'options.sigma');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (hiddenDim !== undefined) assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => simclrAugment({ strength: 0.5 })),
    });
    this.temperature = temperature;
    this.weighted = weighted;
    this.sigma = sigma;
    this.projector = this.projectionHead({ hiddenDim: hiddenDim ?? this.featureDim, outputDim: projectionDim, batchNorm: true });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /** Projections `[B, projectionDim]` of `images` (training mode by default). */
  project(images: tf.Tensor4D, training = true): tf.Tensor2D {
    return tf.tidy(() => this.forward(this.projector, images, this.encoder, training));
  }

  /** The (weighted) decoupled contrastive loss of two views; differentiable. */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const [z1, z2] = this.splitPair(this.forwardPair(this.projector, view1, view2));
      return this.weighted
        ? dclwLoss(z1, z2, { temperature: this.temperature, sigma: this.sigma })
        : dclLoss(z1, z2, { temperature: this.temperature });
    });
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.minimize(() => this.computeLoss(view1, view2), this.trainableVariables);
  }

  /** Frees the projector and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
  }
}
