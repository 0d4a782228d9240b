import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byolAugment } from '../augment/presets.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInRange, assertInteger, assertNonNegative } from '../core/validate.js';
import { ticoLoss, updateTicoCovariance } from '../losses/tico.js';
import type { Schedule } from '../train/schedules.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import { readMomentum } from './momentum.js';
import type { ImageEncoder } from './pretext-task.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link TiCo}. */
export interface TiCoOptions extends JointEmbeddingOptions {
  /**
   * Momentum β of the covariance's moving average.
   * @default 0.9 (the paper)
   */
  beta?: number;
  /**
   * Weight ρ of the covariance-contrast term.
   * @default 8 (the paper)
   */
  rho?: number;
  /**
   * Target momentum: a number, or a {@link Schedule} of the step.
   * @default BYOL's cosine rise from 0.99 to 1 over `totalSteps`; a constant 0.99 without `totalSteps` (the paper: 0.99 → 1 as BYOL)
   */
  momentum?: number | Schedule;
  /**
   * Size of the projection.
   * @default 256 (the paper)
   */
  projectionDim?: number;
  /**
   * Hidden width of the projector.
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
 * TiCo (Zhu, Moraes, Karakas, Lee & Guo, "TiCo: Transformation Invariance
 * and Covariance Contrast for Self-Supervised Visual Representation
 * Learning", 2022): the online network's embedding of view 1 is aligned with
 * a momentum target's embedding of view 2 (transformation invariance), and
 * pushed away from the directions that the recent embeddings occupy, kept as
 * an exponential moving average C of their second-moment matrix (covariance
 * contrast). The paper shows it is both a contrastive method with C as an
 * implicit memory bank of all past negatives and a redundancy-reduction
 * method (a Barlow-Twins-like decorrelation), and that it does well with
 * small batches.
 *
 * Each step, as the paper's algorithm and lightly's example: online
 * projection `zA` of view 1 (encoder → projector, BYOL's head: linear → BN →
 * ReLU → linear 256), target projection `zB` of view 2 (EMA copies, no
 * gradient), `C ← β·C + (1 − β)·normalize(zA)ᵀnormalize(zA)/N`
 * ({@link updateTicoCovariance}), then `ticoLoss(zA, zB, C)` (ρ = 8),
 * the optimizer step, and the EMA update of the target. Defaults:
 * `byolAugment()`'s asymmetric pair on RGB (the paper uses BYOL's;
 * {@link grayscaleAugment} on one channel), Adam at 1e-3 (the paper: LARS).
 *
 * State: {@link TiCo.covariance} (`[projectionDim, projectionDim]`, starts at
 * zero) and {@link TiCo.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { TiCo, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const tico = new TiCo(encoder, { projectionDim: 16, hiddenDim: 32, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(tico.step(images).toFixed(3));
 * console.log(tico.covariance.shape); // [16, 16]
 * tico.dispose();
 * ```
 */
export class TiCo extends JointEmbeddingTask {
  readonly name = 'TiCo';
  /** The online projector. */
  readonly projector: tfl.Sequential;
  /** The target encoder and projector (EMA copies). */
  readonly target: TargetNetwork;
  /** β of the covariance average. */
  readonly beta: number;
  /** ρ of the covariance term. */
  readonly rho: number;
  private readonly covarianceVariable: tf.Variable;
  private readonly momentum: Schedule;

  constructor(encoder: ImageEncoder, options: TiCoOptions = {}) {
    const fn = 'TiCo';
    JointEmbeddingTask.checkOptions(options, ['beta', 'rho', 'momentum', 'projectionDim', 'hiddenDim', 'targetEncoder'], fn);
    const { beta = 0.9, rho = 8, projectionDim = 256, hiddenDim } = options ?? {};
    assertInRange(beta, 0, 1, fn, 'options.beta');
    assertNonNegative(rho, fn, 'options.rho');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (hiddenDim !== undefined) assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    if (options?.totalSteps !== undefined) assertInteger(options.totalSteps, fn, 'options.totalSteps', { min: 1 });
    const momentum = readMomentum(options?.momentum, 0.99, fn, { totalSteps: options?.totalSteps });
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => byolAugment()),
    });
    this.beta = beta;
    this.rho = rho;
    this.momentum = momentum;
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim: hiddenDim ?? 2 * this.featureDim, outputDim: projectionDim });
    this.covarianceVariable = tf.tidy(() => tf.variable(tf.zeros([projectionDim, projectionDim]), false));
    this.target = this.createTarget(this.projector, options.targetEncoder, [this.projector, this.covarianceVariable]);
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /** The moving covariance C `[D, D]` (the live variable: do not dispose). */
  get covariance(): tf.Tensor2D {
    return this.covarianceVariable as unknown as tf.Tensor2D;
  }

  /** The target projection `[B, D]` of `view`, without gradient. */
  computeTarget(view: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => stopGradient(this.forward(this.target.heads[0]!, view, this.target.encoder)));
  }

  /**
   * The TiCo loss of the online projection of `view1` against `target` (from
   * {@link TiCo.computeTarget} of view 2), with the covariance moved by this
   * batch; returns the loss and the new covariance (dispose it, or pass it to
   * {@link TiCo.setCovariance}). Differentiable with respect to the encoder
   * and the projector.
   */
  computeLoss(view1: tf.Tensor4D, target: tf.Tensor2D): { loss: tf.Scalar; covariance: tf.Tensor2D } {
    return tf.tidy(() => {
      const zA = this.forward(this.projector, view1);
      const covariance = updateTicoCovariance(this.covariance, zA, { beta: this.beta });
      return { loss: ticoLoss(zA, target, covariance, { rho: this.rho }), covariance };
    });
  }

  /** Replaces the moving covariance (e.g. with the one {@link TiCo.computeLoss} returned). */
  setCovariance(covariance: tf.Tensor2D): void {
    this.covarianceVariable.assign(covariance);
  }

  /** EMA step of the target (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const momentum = this.momentum(this.steps);
    const target = this.computeTarget(view2);
    let covariance: tf.Tensor2D | null = null;
    try {
      const loss = this.minimize(() => {
        const out = this.computeLoss(view1, target);
        // The covariance of this forward pass is kept for after the step (minimize disposes the rest).
        covariance?.dispose();
        covariance = tf.keep(out.covariance);
        return out.loss;
      }, this.trainableVariables);
      if (covariance !== null) this.setCovariance(covariance);
      this.updateTarget(momentum);
      return loss;
    } finally {
      target.dispose();
      (covariance as tf.Tensor2D | null)?.dispose();
    }
  }

  /** Frees the projector, the target, the covariance and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.target.dispose();
    this.covarianceVariable.dispose();
  }
}
