import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byolAugment } from '../augment/presets.js';
import { assertInteger, assertNonNegative } from '../core/validate.js';
import { barlowTwinsLoss } from '../losses/barlow-twins.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link BarlowTwins}. */
export interface BarlowTwinsTaskOptions extends JointEmbeddingOptions {
  /**
   * Weight λ of the redundancy-reduction (off-diagonal) term.
   * @default 5e-3 (the paper, for D = 8192)
   */
  lambda?: number;
  /**
   * Width of the projector's layers, hidden and output (D of the cross-correlation matrix).
   * @default four times the encoder's feature size (the paper: 8192 for a ResNet-50's 2048)
   */
  projectionDim?: number;
  /**
   * Linear layers in the projector.
   * @default 3 (the paper)
   */
  projectorLayers?: number;
}

/**
 * Barlow Twins (Zbontar et al., "Barlow Twins: Self-Supervised Learning via
 * Redundancy Reduction", ICML 2021): the cross-correlation matrix of the two
 * views' projections, each feature standardised over the batch, is driven
 * towards the identity — diagonal 1 (invariance to the augmentations),
 * off-diagonal 0 (decorrelated features, so no two dimensions carry the same
 * information). Collapse is impossible without negatives, momentum or
 * stop-gradient: a constant feature has zero correlation. It needs a
 * reasonably large batch for the D×D statistics and benefits from a wide
 * projector.
 *
 * Projector as the paper: three linear layers, the first two followed by
 * batch norm and ReLU, all of width D (default 4·F). Loss:
 * `barlowTwinsLoss(z1, z2, { lambda })` (official code's batch-norm
 * standardisation; a sum over the D×D matrix). Defaults: `byolAugment()` on
 * RGB (the paper uses BYOL's augmentations; {@link grayscaleAugment} on 1
 * channel), Adam at 1e-3 (the paper: LARS, lr 0.2 for weights, 0.0048 for
 * biases and BN, batch 2048).
 *
 * Pieces: {@link BarlowTwins.computeLoss}, {@link BarlowTwins.projector}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { BarlowTwins, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const barlow = new BarlowTwins(encoder, { projectionDim: 64, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(barlow.step(images).toFixed(2));
 * barlow.dispose();
 * ```
 */
export class BarlowTwins extends JointEmbeddingTask {
  readonly name = 'BarlowTwins';
  /** The projector. */
  readonly projector: tfl.Sequential;
  /** Off-diagonal weight λ. */
  readonly lambda: number;

  constructor(encoder: ImageEncoder, options: BarlowTwinsTaskOptions = {}) {
    const fn = 'BarlowTwins';
    JointEmbeddingTask.checkOptions(options, ['lambda', 'projectionDim', 'projectorLayers'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => byolAugment()),
    });
    const { lambda = 5e-3, projectionDim = 4 * this.featureDim, projectorLayers = 3 } = options;
    assertNonNegative(lambda, fn, 'options.lambda');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(projectorLayers, fn, 'options.projectorLayers', { min: 1 });
    // The loss's cross-correlation matrix is D × D.
    assertTrainingFits(fn, 'options.projectionDim', mlpWeightShapes(this.featureDim, projectionDim, projectorLayers, projectionDim), [[projectionDim, projectionDim]]);
    this.lambda = lambda;
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim: projectionDim, outputDim: projectionDim, numLayers: projectorLayers });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /** The Barlow Twins loss of two views; differentiable. */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const [z1, z2] = this.splitPair(this.forwardPair(this.projector, view1, view2));
      return barlowTwinsLoss(z1, z2, { lambda: this.lambda });
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
