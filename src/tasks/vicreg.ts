import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byolAugment } from '../augment/presets.js';
import { assertInteger, assertNonNegative } from '../core/validate.js';
import { vicregLoss } from '../losses/vicreg.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link VICReg}. */
export interface VICRegTaskOptions extends JointEmbeddingOptions {
  /**
   * Weight λ of the invariance (MSE) term.
   * @default 25 (the paper)
   */
  simWeight?: number;
  /**
   * Weight μ of the variance term.
   * @default 25 (the paper)
   */
  varWeight?: number;
  /**
   * Weight ν of the covariance term.
   * @default 1 (the paper)
   */
  covWeight?: number;
  /**
   * Width of the expander's layers, hidden and output.
   * @default four times the encoder's feature size (the paper: 8192 for a ResNet-50's 2048)
   */
  projectionDim?: number;
  /**
   * Linear layers in the expander.
   * @default 3 (the paper)
   */
  projectorLayers?: number;
}

/**
 * VICReg (Bardes, Ponce & LeCun, "VICReg: Variance-Invariance-Covariance
 * Regularization for Self-Supervised Learning", ICLR 2022): three explicit
 * terms on the two views' embeddings — invariance (mean squared distance),
 * variance (a hinge keeping every dimension's standard deviation above 1 over
 * the batch, which forbids collapse) and covariance (off-diagonal covariances
 * pushed to 0, redundancy reduction like Barlow Twins but on each branch
 * separately). No negatives, momentum, stop-gradient or weight sharing needed.
 *
 * Expander as the paper: three linear layers of width D (default 4·F), the
 * first two followed by batch norm and ReLU. Loss: `vicregLoss` with
 * λ = μ = 25, ν = 1. Defaults: `byolAugment()` on RGB (the paper uses
 * BYOL's; {@link grayscaleAugment} on 1 channel), Adam at 1e-3 (the paper:
 * LARS, base lr 0.2, batch 2048).
 *
 * Pieces: {@link VICReg.computeLoss}, {@link VICReg.projector}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { VICReg, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const vicreg = new VICReg(encoder, { projectionDim: 64, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(vicreg.step(images).toFixed(2));
 * vicreg.dispose();
 * ```
 */
export class VICReg extends JointEmbeddingTask {
  readonly name = 'VICReg';
  /** The expander (projector). */
  readonly projector: tfl.Sequential;
  /** The three weights `{ simWeight, varWeight, covWeight }`. */
  readonly lossWeights: { simWeight: number; varWeight: number; covWeight: number };

  constructor(encoder: ImageEncoder, options: VICRegTaskOptions = {}) {
    const fn = 'VICReg';
    JointEmbeddingTask.checkOptions(options, ['simWeight', 'varWeight', 'covWeight', 'projectionDim', 'projectorLayers'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => byolAugment()),
    });
    const { simWeight = 25, varWeight = 25, covWeight = 1, projectionDim = 4 * this.featureDim, projectorLayers = 3 } = options;
    assertNonNegative(simWeight, fn, 'options.simWeight');
    assertNonNegative(varWeight, fn, 'options.varWeight');
    assertNonNegative(covWeight, fn, 'options.covWeight');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(projectorLayers, fn, 'options.projectorLayers', { min: 1 });
    // The covariance term is D × D per view.
    assertTrainingFits(fn, 'options.projectionDim', mlpWeightShapes(this.featureDim, projectionDim, projectorLayers, projectionDim), [
      { shape: [projectionDim, projectionDim], count: 2 },
    ]);
    this.lossWeights = { simWeight, varWeight, covWeight };
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim: projectionDim, outputDim: projectionDim, numLayers: projectorLayers });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /** The VICReg loss of two views; differentiable. */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const [z1, z2] = this.splitPair(this.forwardPair(this.projector, view1, view2));
      return vicregLoss(z1, z2, this.lossWeights);
    });
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.minimize(() => this.computeLoss(view1, view2), this.trainableVariables);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
  }
}
