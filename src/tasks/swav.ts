import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { simclrAugment } from '../augment/presets.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInteger, assertPositive } from '../core/validate.js';
import { prototypeLayer, type PrototypeLayer } from '../heads/prototype-layer.js';
import { sinkhornKnopp, swavLoss, MAX_SINKHORN_ITERATIONS } from '../losses/swav.js';
import { MemoryBank } from '../train/memory-bank.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder, StepState } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link SwAV}. */
export interface SwAVOptions extends JointEmbeddingOptions {
  /**
   * Number K of prototypes. Keep K well above the number of classes you hope
   * to separate, and, without a queue, no larger than a few batches.
   * @default 3000 (the paper, ImageNet)
   */
  numPrototypes?: number;
  /**
   * Temperature τ of the softmax over prototype scores.
   * @default 0.1 (the paper)
   */
  temperature?: number;
  /**
   * Sinkhorn-Knopp entropic regularisation ε.
   * @default 0.05 (the paper)
   */
  epsilon?: number;
  /**
   * Sinkhorn-Knopp iterations.
   * @default 3 (the paper)
   */
  sinkhornIterations?: number;
  /**
   * Length of the feature queue of each view (0: no queue). With small
   * batches the equal-partition constraint is too tight over one batch; the
   * paper then adds 3840 past features to the Sinkhorn input.
   * @default 0
   */
  queueSize?: number;
  /**
   * First step at which a full queue joins the Sinkhorn input (the paper
   * starts it after 15 epochs, once the prototypes have settled).
   * @default 0
   */
  queueStartStep?: number;
  /**
   * Steps during which the prototypes stay fixed (the paper: the first epoch).
   * @default 0
   */
  freezePrototypesSteps?: number;
  /**
   * Size of the projection the prototypes score.
   * @default 128 (the paper)
   */
  projectionDim?: number;
  /**
   * Width of the projector's hidden layer.
   * @default the encoder's feature size (the paper: 2048, a ResNet-50's)
   */
  hiddenDim?: number;
}

/**
 * SwAV (Caron et al., "Unsupervised Learning of Visual Features by
 * Contrasting Cluster Assignments", NeurIPS 2020): online clustering instead
 * of pairwise comparison. The L2-normalised projection of each view is scored
 * against K learnable prototypes; Sinkhorn-Knopp turns the scores of a batch
 * into soft codes that spread the batch equally over the prototypes (which is
 * what rules out the trivial one-cluster solution); each view then predicts
 * the other view's code from its own scores ("swapped prediction").
 *
 * Each step: scores `z·C` of both views, codes `Q = sinkhornKnopp(scores)`
 * without gradient (with the queued features of that view prepended when the
 * queue is on and full), `swavLoss(s1, s2, q1, q2, τ = 0.1)`, the optimizer
 * step (prototypes excluded while frozen), then the prototypes are
 * renormalised to unit length — SwAV's code normalises them before every
 * forward pass; doing it right after each update is the same sequence — and
 * the queues receive this step's features. Projector: linear → BN → ReLU →
 * linear (hidden F, output 128). Defaults: `simclrAugment({ strength: 0.5 })`
 * on RGB ({@link grayscaleAugment} on 1 channel), two views (the paper adds
 * multi-crop), Adam at 1e-3 (the paper: LARS, lr 4.8, batch 4096).
 *
 * Pieces: {@link SwAV.computeLoss} (records the features for the queue),
 * {@link SwAV.normalizePrototypes}, {@link SwAV.updateQueue},
 * {@link SwAV.prototypes}, {@link SwAV.queues}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SwAV, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const swav = new SwAV(encoder, { numPrototypes: 8, projectionDim: 16, queueSize: 32, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(swav.step(images).toFixed(3)); // the queue joins at step 2, once full
 * swav.dispose();
 * ```
 */
export class SwAV extends JointEmbeddingTask {
  readonly name = 'SwAV';
  /** The projector. */
  readonly projector: tfl.Sequential;
  /** The prototypes C (`[projectionDim, K]`, unit columns). */
  readonly prototypes: PrototypeLayer;
  /** One feature queue per view (empty array without a queue). */
  readonly queues: MemoryBank[];
  /** Swapped-prediction temperature. */
  readonly temperature: number;
  private readonly sinkhorn: { epsilon: number; iterations: number };
  private readonly queueStartStep: number;
  private readonly freezePrototypesSteps: number;
  private pending: tf.Tensor2D[] | null = null;

  constructor(encoder: ImageEncoder, options: SwAVOptions = {}) {
    const fn = 'SwAV';
    JointEmbeddingTask.checkOptions(
      options,
      [
        'numPrototypes',
        'temperature',
        'epsilon',
        'sinkhornIterations',
        'queueSize',
        'queueStartStep',
        'freezePrototypesSteps',
        'projectionDim',
        'hiddenDim',
      ],
      fn,
    );
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => simclrAugment({ strength: 0.5 })),
    });
    const {
      numPrototypes = 3000,
      temperature = 0.1,
      epsilon = 0.05,
      sinkhornIterations = 3,
      queueSize = 0,
      queueStartStep = 0,
      freezePrototypesSteps = 0,
      projectionDim = 128,
      hiddenDim = this.featureDim,
    } = options;
    assertInteger(numPrototypes, fn, 'options.numPrototypes', { min: 1 });
    assertPositive(temperature, fn, 'options.temperature');
    assertPositive(epsilon, fn, 'options.epsilon');
    assertInteger(sinkhornIterations, fn, 'options.sinkhornIterations', { min: 0, max: MAX_SINKHORN_ITERATIONS });
    assertInteger(queueSize, fn, 'options.queueSize', { min: 0 });
    assertInteger(queueStartStep, fn, 'options.queueStartStep', { min: 0 });
    assertInteger(freezePrototypesSteps, fn, 'options.freezePrototypesSteps', { min: 0 });
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertTrainingFits(fn, 'options.hiddenDim', [...mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim), [projectionDim, numPrototypes]], [
      { shape: [queueSize, projectionDim], count: 4 },
      { shape: [queueSize, numPrototypes], count: 2 },
    ]);
    this.temperature = temperature;
    this.sinkhorn = { epsilon, iterations: sinkhornIterations };
    this.queueStartStep = queueStartStep;
    this.freezePrototypesSteps = freezePrototypesSteps;
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim, outputDim: projectionDim });
    this.prototypes = prototypeLayer({ numPrototypes, seed: this.rng.nextUint32() });
    // Build the layer now, so its variables exist before the first step.
    tf.tidy(() => {
      this.prototypes.apply(tf.zeros([1, projectionDim]));
    });
    this.queues = queueSize > 0 ? [0, 1].map(() => new MemoryBank({ size: queueSize, dim: projectionDim, init: 'zeros' })) : [];
  }

  /** Encoder, projector, and the prototypes unless they are frozen at this step. */
  get trainableVariables(): tf.Variable[] {
    const frozen = this.steps < this.freezePrototypesSteps;
    return frozen ? this.variablesOf(this.projector) : this.variablesOf(this.projector, this.prototypes);
  }

  /**
   * The swapped-prediction loss of two views; differentiable with respect to
   * the encoder, projector and prototypes. It records the views' normalised
   * features for {@link SwAV.updateQueue}.
   */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const z = normalizeLastAxis(this.forwardPair(this.projector, view1, view2)) as tf.Tensor2D;
      const [s1, s2] = this.splitPair(this.prototypes.apply(z) as tf.Tensor2D);
      const features = this.splitPair(stopGradient(z) as tf.Tensor2D);
      const useQueue = this.queues.length > 0 && this.steps >= this.queueStartStep && this.queues.every((q) => q.filled === q.size);
      const codes = [s1, s2].map((s, v) => {
        const batch = s.shape[0];
        if (!useQueue) return sinkhornKnopp(stopGradient(s), this.sinkhorn);
        const queued = tf.matMul(this.queues[v]!.read(), this.prototypes.prototypes());
        const q = sinkhornKnopp(tf.concat([queued, stopGradient(s)], 0) as tf.Tensor2D, this.sinkhorn);
        return tf.slice(q, [queued.shape[0], 0], [batch, -1]) as tf.Tensor2D;
      });
      if (this.queues.length > 0) {
        this.pending?.forEach((t) => t.dispose());
        this.pending = features.map((f) => tf.keep(tf.clone(f)));
      }
      return swavLoss(s1, s2, codes[0]!, codes[1]!, { temperature: this.temperature });
    });
  }

  /** Rescales every prototype to unit length (after each optimizer step). */
  normalizePrototypes(): void {
    this.prototypes.normalizeWeights();
  }

  /** Enqueues the features recorded by the last {@link SwAV.computeLoss} (no-op without a queue). */
  updateQueue(): void {
    if (this.pending === null) return;
    this.pending.forEach((f, v) => this.queues[v]!.enqueue(f));
    tf.dispose(this.pending);
    this.pending = null;
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const frozen = this.steps < this.freezePrototypesSteps;
    const loss = this.minimize(() => this.computeLoss(view1, view2), this.trainableVariables);
    // Frozen prototypes did not move: they are still unit vectors.
    if (!frozen) this.normalizePrototypes();
    this.updateQueue();
    return loss;
  }

  protected override saveState(): StepState {
    const base = super.saveState();
    const cursors = this.queues.map((q) => q.saveCursor());
    return {
      restore: () => {
        base.restore();
        for (const c of cursors) c();
        if (this.pending !== null) tf.dispose(this.pending);
        this.pending = null;
      },
    };
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.prototypes.dispose();
    for (const q of this.queues) q.dispose();
    if (this.pending !== null) tf.dispose(this.pending);
    this.pending = null;
  }
}
