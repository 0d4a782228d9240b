import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mocoV2Augment } from '../augment/presets.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInteger, assertOneOf, assertPositive } from '../core/validate.js';
import { infoNCELoss } from '../losses/info-nce.js';
import { MemoryBank } from '../train/memory-bank.js';
import type { Schedule } from '../train/schedules.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder, StepState } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { readMomentum } from './momentum.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link MoCoV2}. */
export interface MoCoV2Options extends JointEmbeddingOptions {
  /**
   * Temperature τ of InfoNCE.
   * @default 0.2 (MoCo v2)
   */
  temperature?: number;
  /**
   * Momentum m of the key encoder's EMA: a number, or a {@link Schedule} of
   * the step. MoCo uses 0.999 over ~10⁶ ImageNet steps; a run of a few hundred
   * steps needs a faster-moving key encoder.
   * @default 0.99
   */
  momentum?: number | Schedule;
  /**
   * Number K of negative keys in the queue.
   * @default 4096 (MoCo: 65536 on ImageNet; 4096 is the usual CIFAR-10 value)
   */
  queueSize?: number;
  /**
   * Size of the projection (query and key) the loss sees.
   * @default 128 (MoCo v2)
   */
  projectionDim?: number;
  /**
   * Width of the projector's hidden layer.
   * @default the encoder's feature size (MoCo v2: 2048, a ResNet-50's)
   */
  hiddenDim?: number;
  /**
   * Batch norm in the projector's hidden layer (MoCo v2's head has none).
   * @default false
   */
  projectorBatchNorm?: boolean;
  /**
   * Also use view 2 as queries against view 1's keys and average the two
   * losses (MoCo v3's symmetrisation). Off, view 1 is the query and view 2
   * the key, as MoCo v2.
   * @default false
   */
  symmetric?: boolean;
  /**
   * A model with the encoder's architecture for the key encoder, for
   * encoders `cloneEncoder` cannot copy (its weights are overwritten; not
   * disposed by the method).
   * @default a clone of the encoder
   */
  targetEncoder?: ImageEncoder;
}

/**
 * MoCo v2 (He et al., "Momentum Contrast for Unsupervised Visual
 * Representation Learning", CVPR 2020; Chen et al., "Improved Baselines with
 * Momentum Contrastive Learning", 2020): a query encoder (your encoder + an
 * MLP projector) is trained with InfoNCE to match the key of the other view,
 * computed by a momentum encoder (an EMA copy, no gradient), against K
 * negative keys from a FIFO queue of past keys. The queue decouples the
 * number of negatives from the batch size; the slowly moving key encoder keeps
 * the queued keys consistent.
 *
 * Each step follows the official code: EMA update of the key encoder
 * (momentum m), keys of view 2 (L2-normalised, no gradient), InfoNCE of the
 * view-1 queries against [own key | queue] at τ = 0.2, the optimizer step, then
 * the keys are enqueued once ({@link MemoryBank}). Defaults: `mocoV2Augment`
 * on RGB ({@link grayscaleAugment} on 1 channel), projector hidden = feature
 * size → 128 without batch norm, K = 4096, m = 0.99, Adam at 1e-3 (the paper:
 * SGD 0.03·B/256, m = 0.999, K = 65536 on ImageNet).
 *
 * Batch norm: MoCo shuffles the key batch across GPUs so a query cannot find
 * its key through batch statistics. On one device we cannot; with a
 * batch-norm encoder the key encoder still computes its own batch
 * statistics over the key batch (common single-device practice).
 *
 * Pieces: {@link MoCoV2.computeKeys}, {@link MoCoV2.computeLoss},
 * {@link MoCoV2.updateTarget}, {@link MoCoV2.queue}, {@link MoCoV2.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { MoCoV2, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const moco = new MoCoV2(encoder, { queueSize: 64, projectionDim: 16, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(moco.step(images).toFixed(3));
 * console.log(moco.queue.enqueued); // 48 keys queued
 * moco.dispose();
 * ```
 */
export class MoCoV2 extends JointEmbeddingTask {
  readonly name = 'MoCoV2';
  /** The query projector (trained). */
  readonly projector: tfl.Sequential;
  /** The key encoder and key projector (EMA copies). */
  readonly target: TargetNetwork;
  /** The queue of negative keys `[K, projectionDim]`, L2-normalised. */
  readonly queue: MemoryBank;
  /** InfoNCE temperature. */
  readonly temperature: number;
  /** Whether the loss is symmetrised. */
  readonly symmetric: boolean;
  private readonly momentum: Schedule;

  constructor(encoder: ImageEncoder, options: MoCoV2Options = {}) {
    const fn = 'MoCoV2';
    JointEmbeddingTask.checkOptions(
      options,
      ['temperature', 'momentum', 'queueSize', 'projectionDim', 'hiddenDim', 'projectorBatchNorm', 'symmetric', 'targetEncoder'],
      fn,
    );
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => mocoV2Augment()),
    });
    const {
      temperature = 0.2,
      queueSize = 4096,
      projectionDim = 128,
      hiddenDim = this.featureDim,
      projectorBatchNorm = false,
      symmetric = false,
    } = options;
    assertPositive(temperature, fn, 'options.temperature');
    assertInteger(queueSize, fn, 'options.queueSize', { min: 1 });
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertOneOf(projectorBatchNorm, [true, false], fn, 'options.projectorBatchNorm');
    assertOneOf(symmetric, [true, false], fn, 'options.symmetric');
    // The queue (tensor, its JS initial values, a read per step) before the projector and its key copy.
    assertMemoryFits(fn, 'options.queueSize', [{ shape: [queueSize, projectionDim], count: 3 }]);
    assertTrainingFits(fn, 'options.hiddenDim', mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim), mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim));
    this.momentum = readMomentum(options.momentum, 0.99, fn);
    this.temperature = temperature;
    this.symmetric = symmetric;
    this.projector = this.projectionHead({ hiddenDim, outputDim: projectionDim, batchNorm: projectorBatchNorm });
    this.queue = new MemoryBank({ size: queueSize, dim: projectionDim, seed: this.rng.nextUint32() });
    this.target = this.createTarget(this.projector, options.targetEncoder, [this.projector, this.queue]);
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /**
   * The loss of a collapsed MoCo: ln(K + 1) (the positive and the K queued
   * negatives equally likely), for `collapse.uniformLoss` of `trainLoop` or a
   * `TrainingMonitor`.
   */
  uniformLoss(): number {
    return Math.log(this.queue.size + 1);
  }

  /** Query projections of the online network `[B, projectionDim]` (not normalised). */
  project(images: tf.Tensor4D, training = true): tf.Tensor2D {
    return tf.tidy(() => this.forward(this.projector, images, this.encoder, training));
  }

  /** Keys of the momentum encoder, L2-normalised, without gradient: `[B, projectionDim]`. */
  computeKeys(view: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const k = this.forward(this.target.heads[0]!, view, this.target.encoder);
      return stopGradient(normalizeLastAxis(k)) as tf.Tensor2D;
    });
  }

  /**
   * InfoNCE of the queries of `view` against their `keys` (from
   * {@link MoCoV2.computeKeys} of the other view) and the current queue.
   * Differentiable with respect to the encoder and projector.
   */
  computeLoss(view: tf.Tensor4D, keys: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const negatives = this.queue.read();
      return infoNCELoss(this.project(view), keys, negatives, { temperature: this.temperature });
    });
  }

  /** EMA step of the key encoder and projector (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const step = this.steps;
    this.updateTarget();
    const keys2 = this.computeKeys(view2);
    const keys1 = this.symmetric ? this.computeKeys(view1) : null;
    try {
      const loss = this.minimize(() => {
        const l = this.computeLoss(view1, keys2);
        return keys1 === null ? l : (tf.mul(0.5, tf.add(l, this.computeLoss(view2, keys1))) as tf.Scalar);
      }, this.trainableVariables);
      if (keys1 === null) this.queue.enqueue(keys2, { step });
      else tf.tidy(() => this.queue.enqueue(tf.concat([keys2, keys1], 0) as tf.Tensor2D, { step }));
      return loss;
    } finally {
      keys2.dispose();
      keys1?.dispose();
    }
  }

  protected override saveState(): StepState {
    const base = super.saveState();
    const cursor = this.queue.saveCursor();
    return {
      restore: () => {
        base.restore();
        cursor();
      },
    };
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.target.dispose();
    this.queue.dispose();
  }
}
