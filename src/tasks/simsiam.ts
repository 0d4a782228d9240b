import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mocoV2Augment } from '../augment/presets.js';
import { assertInteger } from '../core/validate.js';
import { predictionMlp } from '../heads/prediction-mlp.js';
import { simSiamLoss } from '../losses/negative-cosine.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link SimSiam}. */
export interface SimSiamOptions extends JointEmbeddingOptions {
  /**
   * Size d of the projection z (and prediction p).
   * @default the encoder's feature size (the paper: 2048 on a ResNet-50's 2048 features)
   */
  projectionDim?: number;
  /**
   * Hidden width of the projector.
   * @default projectionDim
   */
  hiddenDim?: number;
  /**
   * Hidden width of the predictor (the bottleneck).
   * @default projectionDim / 4 (the paper: 512 for d = 2048)
   */
  predictorHiddenDim?: number;
  /**
   * Linear layers in the projector.
   * @default 2 (the paper's CIFAR-10 setting; 3 on ImageNet)
   */
  projectorLayers?: number;
}

/**
 * SimSiam (Chen & He, "Exploring Simple Siamese Representation Learning",
 * CVPR 2021): BYOL without the momentum target. Both views go through the
 * same encoder and projector; a predictor maps each projection onto the
 * other view's projection, which is held constant by a stop-gradient
 * (`simSiamLoss`, the symmetrised negative cosine). The stop-gradient is what
 * prevents collapse; there are no negatives and no EMA.
 *
 * Heads follow the paper: projector with batch norm on every layer, including
 * the affine-free output BN; predictor linear → BN → ReLU → linear with a
 * bottleneck of d/4. Defaults: `mocoV2Augment()` on RGB (the paper uses MoCo
 * v2's augmentation; {@link grayscaleAugment} on 1 channel), Adam at 1e-3 (the
 * paper: SGD 0.05·B/256, momentum 0.9, weight decay 1e-4, predictor at a
 * fixed rate).
 *
 * Pieces: {@link SimSiam.computeLoss}, {@link SimSiam.projector}, {@link SimSiam.predictor}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SimSiam, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const simsiam = new SimSiam(encoder, { seed: 1 }); // 32 → 32 → 32, predictor 32 → 8 → 32
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(simsiam.step(images).toFixed(3)); // in [−1, 1]
 * simsiam.dispose();
 * ```
 */
export class SimSiam extends JointEmbeddingTask {
  readonly name = 'SimSiam';
  /** The projector (encoder side of the paper's f). */
  readonly projector: tfl.Sequential;
  /** The predictor h. */
  readonly predictor: tfl.Sequential;

  constructor(encoder: ImageEncoder, options: SimSiamOptions = {}) {
    const fn = 'SimSiam';
    JointEmbeddingTask.checkOptions(options, ['projectionDim', 'hiddenDim', 'predictorHiddenDim', 'projectorLayers'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => mocoV2Augment()),
    });
    const { projectionDim = this.featureDim, projectorLayers = 2 } = options;
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    const { hiddenDim = projectionDim, predictorHiddenDim = Math.max(1, Math.round(projectionDim / 4)) } = options;
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertInteger(predictorHiddenDim, fn, 'options.predictorHiddenDim', { min: 1 });
    assertInteger(projectorLayers, fn, 'options.projectorLayers', { min: 1 });
    assertTrainingFits(fn, 'options.hiddenDim', [
      ...mlpWeightShapes(this.featureDim, hiddenDim, projectorLayers, projectionDim),
      ...mlpWeightShapes(projectionDim, predictorHiddenDim, 2, projectionDim),
    ]);
    this.projector = this.projectionHead({ variant: 'simsiam', hiddenDim, outputDim: projectionDim, numLayers: projectorLayers });
    this.predictor = predictionMlp({
      inputDim: projectionDim,
      variant: 'simsiam',
      hiddenDim: predictorHiddenDim,
      seed: this.rng.nextUint32(),
    });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector, this.predictor);
  }

  /** The symmetrised SimSiam loss of two views (stop-gradients built in); differentiable. */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const z = this.forwardPair(this.projector, view1, view2);
      const p = this.predictor.apply(z, { training: true }) as tf.Tensor2D;
      const [z1, z2] = this.splitPair(z);
      const [p1, p2] = this.splitPair(p);
      return simSiamLoss(p1, p2, z1, z2);
    });
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.minimize(() => this.computeLoss(view1, view2), this.trainableVariables);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.predictor.dispose();
  }
}
