import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { simclrAugment } from '../augment/presets.js';
import { assertInteger, assertNonNegative } from '../core/validate.js';
import { mmcrLoss } from '../losses/mmcr.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';

/** Options of {@link MMCR}. */
export interface MMCROptions extends JointEmbeddingOptions {
  /**
   * Augmented views K of every image per step (the images of one manifold).
   * The paper uses 2 on ImageNet and up to 40 on CIFAR; more views give a
   * better centroid at the cost of K encoder passes per image.
   * @default 4
   */
  numViews?: number;
  /**
   * λ of the per-image nuclear-norm term ({@link mmcrLoss}).
   * @default 0 (the official code)
   */
  lambda?: number;
  /**
   * Size of the projection (the space the nuclear norms are taken in).
   * @default 128
   */
  projectionDim?: number;
  /**
   * Width of the projector's hidden layer.
   * @default the encoder's feature size
   */
  hiddenDim?: number;
}

/**
 * MMCR, Maximum Manifold Capacity Representations (Yerxa, Kuang, Simoncelli
 * & Chung, "Learning Efficient Coding of Natural Images with Maximum Manifold
 * Capacity Representations", NeurIPS 2023): the K augmented views of an image
 * are a point cloud ("manifold") on the unit sphere, and the objective
 * maximises the nuclear norm of the matrix of the clouds' centroids
 * ({@link mmcrLoss}) — the centroids spread over as many directions as
 * possible while each cloud shrinks, which by manifold-capacity theory makes
 * the classes linearly separable. No negatives, no momentum network, no
 * stop-gradient; the nuclear norm's gradient comes from selfsup's
 * differentiable {@link core!nuclearNorm}.
 *
 * Composition: K views (default 4) of every image through the augmentation
 * (default `simclrAugment({ strength: 0.5 })` on RGB, {@link grayscaleAugment}
 * on one channel — the paper uses SimCLR's) → your encoder → a
 * `projectionMlp` (hidden = feature size, output 128, batch norm; lightly's
 * `MMCRProjectionHead`) → unit-normalised → {@link mmcrLoss} with λ = 0. All
 * K·B views are encoded in one batch. Adam at 1e-3 unless you pass an
 * optimizer (the paper: LARS).
 *
 * Pieces: {@link MMCR.multiViews}, {@link MMCR.computeLoss}, {@link MMCR.projector}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { MMCR, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const mmcr = new MMCR(encoder, { numViews: 3, projectionDim: 16, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(mmcr.step(images).toFixed(3)); // −‖centroids‖_*, ≥ −√(16·16)
 * mmcr.dispose();
 * ```
 */
export class MMCR extends JointEmbeddingTask {
  readonly name = 'MMCR';
  /** The projection head. */
  readonly projector: tfl.Sequential;
  /** Views per image. */
  readonly numViews: number;
  /** λ of the local term. */
  readonly lambda: number;

  constructor(encoder: ImageEncoder, options: MMCROptions = {}) {
    const fn = 'MMCR';
    JointEmbeddingTask.checkOptions(options, ['numViews', 'lambda', 'projectionDim', 'hiddenDim'], fn);
    const { numViews = 4, lambda = 0, projectionDim = 128, hiddenDim } = options ?? {};
    assertInteger(numViews, fn, 'options.numViews', { min: 2 });
    assertNonNegative(lambda, fn, 'options.lambda');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (hiddenDim !== undefined) assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => simclrAugment({ strength: 0.5 })),
    });
    this.numViews = numViews;
    this.lambda = lambda;
    this.projector = this.projectionHead({ hiddenDim: hiddenDim ?? this.featureDim, outputDim: projectionDim, batchNorm: true });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /** `numViews` augmented views of `images` (from `seed`, by default the method's stream); dispose them. */
  multiViews(images: tf.Tensor4D, seed?: number): tf.Tensor4D[] {
    const fn = 'MMCR.multiViews';
    this.assertLive(fn);
    this.checkImages(images, fn, 1);
    return this.drawManyViews(images, this.numViews, seed, fn);
  }

  /** The MMCR loss of K views `[B, H, W, C]` each (all encoded in one batch); differentiable. */
  computeLoss(views: readonly tf.Tensor4D[]): tf.Scalar {
    return tf.tidy(() => {
      const k = views.length;
      const b = views[0]!.shape[0];
      const z = this.forward(this.projector, tf.concat([...views], 0) as tf.Tensor4D); // [K·B, D], view-major
      const perImage = tf.transpose(tf.reshape(z, [k, b, -1]), [1, 0, 2]) as tf.Tensor3D; // [B, K, D]
      return mmcrLoss(perImage, { lambda: this.lambda });
    });
  }

  /** One step on K fresh views of `images`; returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    return this.runManyViewStep(images, this.numViews, (views) => this.computeLoss(views));
  }

  /** A step on two given views (K = 2). */
  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.minimize(() => this.computeLoss([view1, view2]), this.trainableVariables);
  }

  /** Frees the projector and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
  }
}
