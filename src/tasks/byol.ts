import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byolAugment } from '../augment/presets.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInteger } from '../core/validate.js';
import { predictionMlp } from '../heads/prediction-mlp.js';
import { byolLoss } from '../losses/negative-cosine.js';
import type { Schedule } from '../train/schedules.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import { readMomentum } from './momentum.js';
import type { ImageEncoder } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link BYOL}. */
export interface BYOLOptions extends JointEmbeddingOptions {
  /**
   * Target momentum τ: a number, or a {@link Schedule} of the step.
   * @default BYOL's cosine rise from 0.99 to 1 over `totalSteps` (`momentumSchedule`); a constant 0.99 without `totalSteps`. The paper starts at 0.996 for 300+ epochs; 0.99 suits short runs (solo-learn's CIFAR setting)
   */
  momentum?: number | Schedule;
  /**
   * Size of the projection (and prediction).
   * @default 256 (the paper)
   */
  projectionDim?: number;
  /**
   * Hidden width of the projector and of the predictor.
   * @default twice the encoder's feature size (the paper: 4096 for a ResNet-50's 2048)
   */
  hiddenDim?: number;
  /**
   * A model with the encoder's architecture for the target encoder, for
   * encoders `cloneEncoder` cannot copy (its weights are overwritten; not
   * disposed by the method).
   * @default a clone of the encoder
   */
  targetEncoder?: ImageEncoder;
}

/**
 * BYOL (Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020): no
 * negatives. The online network (encoder → projector → predictor) predicts
 * the target network's projection of the other view; the target is an EMA
 * of the online encoder and projector and receives no gradient. The
 * predictor and the slowly moving target are what keep the representation
 * from collapsing.
 *
 * Each step: targets of both views from the target network (training-mode
 * batch norm, no gradient), the symmetrised `byolLoss` (`2 − 2·cos` summed
 * over the two directions), the optimizer step on the online encoder,
 * projector and predictor, then the EMA update of the target with the
 * momentum of this step. Heads follow the paper (linear → BN → ReLU →
 * linear, hidden 2·F, output 256). Defaults: `byolAugment()`'s asymmetric
 * pair on RGB ({@link grayscaleAugment} on 1 channel), Adam at 1e-3 (the
 * paper: LARS 0.2·B/256 with weight decay 1.5e-6).
 *
 * Pieces: {@link BYOL.computeTargets}, {@link BYOL.computeLoss},
 * {@link BYOL.updateTarget}, {@link BYOL.projector}, {@link BYOL.predictor},
 * {@link BYOL.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { BYOL, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const byol = new BYOL(encoder, { projectionDim: 16, hiddenDim: 32, totalSteps: 3, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(byol.step(images).toFixed(3));
 * byol.dispose();
 * ```
 */
export class BYOL extends JointEmbeddingTask {
  readonly name = 'BYOL';
  /** The online projector g. */
  readonly projector: tfl.Sequential;
  /** The online predictor q. */
  readonly predictor: tfl.Sequential;
  /** The target encoder and projector (EMA copies). */
  readonly target: TargetNetwork;
  private readonly momentum: Schedule;

  constructor(encoder: ImageEncoder, options: BYOLOptions = {}) {
    const fn = 'BYOL';
    JointEmbeddingTask.checkOptions(options, ['momentum', 'projectionDim', 'hiddenDim', 'targetEncoder'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => byolAugment()),
    });
    const { projectionDim = 256, hiddenDim = 2 * this.featureDim } = options;
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    // Projector, predictor, and the target's copies (weights only).
    assertTrainingFits(fn, 'options.hiddenDim', [...mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim), ...mlpWeightShapes(projectionDim, hiddenDim, 2, projectionDim)], [
      ...mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim),
    ]);
    this.momentum = readMomentum(options.momentum, 0.99, fn, { totalSteps: this.totalSteps });
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim, outputDim: projectionDim });
    this.predictor = predictionMlp({ inputDim: projectionDim, variant: 'byol', hiddenDim, seed: this.rng.nextUint32() });
    this.target = this.createTarget(this.projector, options.targetEncoder, [this.projector, this.predictor]);
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector, this.predictor);
  }

  /** Target projections of the two views, `[B, projectionDim]` each, without gradient. */
  computeTargets(view1: tf.Tensor4D, view2: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D] {
    return tf.tidy(() => {
      const t = this.forwardPair(this.target.heads[0]!, view1, view2, this.target.encoder);
      return this.splitPair(stopGradient(t) as tf.Tensor2D);
    });
  }

  /**
   * The symmetrised BYOL loss of the online predictions of both views against
   * `targets` (from {@link BYOL.computeTargets}). Differentiable with respect
   * to the encoder, projector and predictor.
   */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D, targets: readonly [tf.Tensor2D, tf.Tensor2D]): tf.Scalar {
    return tf.tidy(() => {
      const z = this.forwardPair(this.projector, view1, view2);
      const [p1, p2] = this.splitPair(this.predictor.apply(z, { training: true }) as tf.Tensor2D);
      return byolLoss(p1, p2, targets[0], targets[1]);
    });
  }

  /** EMA step of the target (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const momentum = this.momentum(this.steps);
    const targets = this.computeTargets(view1, view2);
    try {
      const loss = this.minimize(() => this.computeLoss(view1, view2, targets), this.trainableVariables);
      this.updateTarget(momentum);
      return loss;
    } finally {
      tf.dispose(targets);
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.predictor.dispose();
    this.target.dispose();
  }
}
