import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mocoV2Augment } from '../augment/presets.js';
import { assertInteger } from '../core/validate.js';
import { predictionMlp } from '../heads/prediction-mlp.js';
import { fastSiamLoss } from '../losses/fast-siam.js';
import { defaultAugment } from './grayscale-augment.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';

/** Options of {@link FastSiam}. */
export interface FastSiamOptions extends JointEmbeddingOptions {
  /**
   * Views V of every image per step: each is predicted from the mean
   * projection of the other V − 1.
   * @default 4 (the paper: one predicted view and three target views)
   */
  numViews?: number;
  /**
   * Size d of the projection (and prediction).
   * @default the encoder's feature size
   */
  projectionDim?: number;
  /**
   * Hidden width of the projector.
   * @default projectionDim
   */
  hiddenDim?: number;
  /**
   * Hidden width of the predictor (the bottleneck).
   * @default projectionDim / 4
   */
  predictorHiddenDim?: number;
}

/**
 * FastSiam (Pototzky, Sultan & Schmidt-Thieme, "FastSiam: Resource-Efficient
 * Self-supervised Learning on a Single GPU", GCPR 2022): SimSiam with V > 2
 * views per image, each view's prediction regressed onto the mean of the
 * other views' projections ({@link fastSiamLoss}). The averaged target is
 * steadier than SimSiam's single view, so FastSiam converges in fewer epochs
 * and with smaller batches — the regime of a single GPU, or of a CPU.
 *
 * Heads are SimSiam's (projector with batch norm on every layer including
 * the output, predictor with a d/4 bottleneck; lightly's FastSiam example
 * reuses them). All V·B views are encoded in one batch, so batch norm sees
 * every view. Defaults: 4 views, `mocoV2Augment()` on RGB (SimSiam's;
 * {@link grayscaleAugment} on one channel), Adam at 1e-3.
 *
 * Pieces: {@link FastSiam.multiViews}, {@link FastSiam.computeLoss},
 * {@link FastSiam.projector}, {@link FastSiam.predictor}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { FastSiam, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const fastSiam = new FastSiam(encoder, { numViews: 4, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(fastSiam.step(images).toFixed(3)); // in [−1, 1]
 * fastSiam.dispose();
 * ```
 */
export class FastSiam extends JointEmbeddingTask {
  readonly name = 'FastSiam';
  /** The projector. */
  readonly projector: tfl.Sequential;
  /** The predictor. */
  readonly predictor: tfl.Sequential;
  /** Views per image. */
  readonly numViews: number;

  constructor(encoder: ImageEncoder, options: FastSiamOptions = {}) {
    const fn = 'FastSiam';
    JointEmbeddingTask.checkOptions(options, ['numViews', 'projectionDim', 'hiddenDim', 'predictorHiddenDim'], fn);
    const { numViews = 4, projectionDim, hiddenDim, predictorHiddenDim } = options ?? {};
    assertInteger(numViews, fn, 'options.numViews', { min: 2 });
    if (projectionDim !== undefined) assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (hiddenDim !== undefined) assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    if (predictorHiddenDim !== undefined) assertInteger(predictorHiddenDim, fn, 'options.predictorHiddenDim', { min: 1 });
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => mocoV2Augment()),
    });
    this.numViews = numViews;
    const d = projectionDim ?? this.featureDim;
    const predictorWidth = predictorHiddenDim ?? Math.max(1, Math.round(d / 4));
    // Both heads are checked before the first is built (a refused second one would leak the first).
    const widest = (['projectionDim', 'hiddenDim', 'predictorHiddenDim'] as const).reduce((a, k) => ((options[k] ?? 0) > (options[a] ?? 0) ? k : a));
    assertTrainingFits(fn, `options.${widest}`, [...mlpWeightShapes(this.featureDim, hiddenDim ?? d, 2, d), ...mlpWeightShapes(d, predictorWidth, 2, d)]);
    this.projector = this.projectionHead({ variant: 'simsiam', hiddenDim: hiddenDim ?? d, outputDim: d, numLayers: 2 });
    this.predictor = predictionMlp({
      inputDim: d,
      variant: 'simsiam',
      hiddenDim: predictorWidth,
      seed: this.rng.nextUint32(),
    });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector, this.predictor);
  }

  /** `numViews` augmented views of `images` (from `seed`, by default the method's stream); dispose them. */
  multiViews(images: tf.Tensor4D, seed?: number): tf.Tensor4D[] {
    const fn = 'FastSiam.multiViews';
    this.assertLive(fn);
    this.checkImages(images, fn, 1);
    return this.drawManyViews(images, this.numViews, seed, fn);
  }

  /** The FastSiam loss of V views `[B, H, W, C]` each (stop-gradients built in); differentiable. */
  computeLoss(views: readonly tf.Tensor4D[]): tf.Scalar {
    return tf.tidy(() => {
      const v = views.length;
      const b = views[0]!.shape[0];
      const z = this.forward(this.projector, tf.concat([...views], 0) as tf.Tensor4D); // [V·B, d], view-major
      const p = this.predictor.apply(z, { training: true }) as tf.Tensor2D;
      const byView = (x: tf.Tensor2D) => tf.reshape(x, [v, b, -1]) as tf.Tensor3D;
      return fastSiamLoss(byView(p), byView(z));
    });
  }

  /** One step on V fresh views of `images`; returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    return this.runManyViewStep(images, this.numViews, (views) => this.computeLoss(views));
  }

  /** A step on two given views (V = 2: the symmetrised SimSiam loss). */
  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.minimize(() => this.computeLoss([view1, view2]), this.trainableVariables);
  }

  /** Frees the heads and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.predictor.dispose();
  }
}
