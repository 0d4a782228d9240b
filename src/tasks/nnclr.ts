import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byolAugment } from '../augment/presets.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInteger, assertPositive } from '../core/validate.js';
import { predictionMlp } from '../heads/prediction-mlp.js';
import { infoNCELoss } from '../losses/info-nce.js';
import { MemoryBank } from '../train/memory-bank.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder, StepState } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link NNCLR}. */
export interface NNCLROptions extends JointEmbeddingOptions {
  /**
   * Temperature τ of the contrastive loss.
   * @default 0.1 (the paper)
   */
  temperature?: number;
  /**
   * Size of the support set (the queue the nearest neighbours come from).
   * @default 8192 (the paper: 98304 on ImageNet)
   */
  supportSetSize?: number;
  /**
   * Size of the projection (and prediction).
   * @default 256 (the paper)
   */
  projectionDim?: number;
  /**
   * Hidden width of the projector and the predictor.
   * @default twice the encoder's feature size (the paper: 2048 and 4096 on a ResNet-50)
   */
  hiddenDim?: number;
  /**
   * Linear layers in the projector.
   * @default 2 (the paper: 3 on ImageNet)
   */
  projectorLayers?: number;
}

/**
 * NNCLR (Dwibedi et al., "With a Little Help from My Friends: Nearest-Neighbor
 * Contrastive Learning of Visual Representations", ICCV 2021): SimCLR whose
 * positive is not the other view's embedding but its nearest neighbour in a
 * support set of past embeddings — another image that the network already
 * finds similar — which adds semantic variation no augmentation provides.
 *
 * For view 1's projection z1, `NN(z1)` is the most cosine-similar entry of
 * the support set ({@link MemoryBank.nearestNeighbors}, no gradient); the
 * loss is InfoNCE with query `NN(z1)`, positive key `p2` (the predictor's
 * output for view 2) and the batch's other predictions as negatives,
 * symmetrised over the views, τ = 0.1. After the step view 1's normalised
 * projections are enqueued once. While the support set is still empty (the
 * first step) the embedding itself stands in for its neighbour.
 *
 * Heads: projector (linear → BN → ReLU, ×(layers − 1), → linear) and
 * predictor (linear → BN → ReLU → linear). Defaults: `byolAugment()` on RGB
 * (the paper uses BYOL's; {@link grayscaleAugment} on 1 channel), Adam at 1e-3
 * (the paper: LARS, base lr 0.15, batch 4096).
 *
 * Pieces: {@link NNCLR.computeLoss} (records view 1's projections),
 * {@link NNCLR.updateSupportSet} (enqueues them), {@link NNCLR.supportSet}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { NNCLR, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const nnclr = new NNCLR(encoder, { supportSetSize: 64, projectionDim: 16, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(nnclr.step(images).toFixed(3));
 * console.log(nnclr.supportSet.filled); // 48
 * nnclr.dispose();
 * ```
 */
export class NNCLR extends JointEmbeddingTask {
  readonly name = 'NNCLR';
  /** The projector. */
  readonly projector: tfl.Sequential;
  /** The predictor. */
  readonly predictor: tfl.Sequential;
  /** The support set of past view-1 projections (L2-normalised). */
  readonly supportSet: MemoryBank;
  /** Contrastive temperature. */
  readonly temperature: number;
  private pending: tf.Tensor2D | null = null;

  constructor(encoder: ImageEncoder, options: NNCLROptions = {}) {
    const fn = 'NNCLR';
    JointEmbeddingTask.checkOptions(options, ['temperature', 'supportSetSize', 'projectionDim', 'hiddenDim', 'projectorLayers'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => byolAugment()),
    });
    const { temperature = 0.1, supportSetSize = 8192, projectionDim = 256, hiddenDim = 2 * this.featureDim, projectorLayers = 2 } = options;
    assertPositive(temperature, fn, 'options.temperature');
    assertInteger(supportSetSize, fn, 'options.supportSetSize', { min: 1 });
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertInteger(projectorLayers, fn, 'options.projectorLayers', { min: 1 });
    assertTrainingFits(fn, 'options.hiddenDim', [
      ...mlpWeightShapes(this.featureDim, hiddenDim, projectorLayers, projectionDim),
      ...mlpWeightShapes(projectionDim, hiddenDim, 2, projectionDim),
    ], [{ shape: [supportSetSize, projectionDim], count: 3 }]);
    this.temperature = temperature;
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim, outputDim: projectionDim, numLayers: projectorLayers });
    this.predictor = predictionMlp({ inputDim: projectionDim, variant: 'byol', hiddenDim, seed: this.rng.nextUint32() });
    this.supportSet = new MemoryBank({ size: supportSetSize, dim: projectionDim, init: 'zeros' });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector, this.predictor);
  }

  /**
   * The symmetrised NNCLR loss of two views; differentiable with respect to
   * the encoder, projector and predictor. It records view 1's normalised
   * projections for {@link NNCLR.updateSupportSet} (call that once after the
   * optimizer step).
   */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const z = this.forwardPair(this.projector, view1, view2);
      const p = this.predictor.apply(z, { training: true }) as tf.Tensor2D;
      const [z1, z2] = this.splitPair(stopGradient(normalizeLastAxis(z)) as tf.Tensor2D);
      const [p1, p2] = this.splitPair(p);
      const neighbour = (q: tf.Tensor2D) => (this.supportSet.filled > 0 ? this.supportSet.nearestNeighbors(q) : q);
      const loss = tf.mul(
        0.5,
        tf.add(
          infoNCELoss(neighbour(z1), p2, undefined, { temperature: this.temperature }),
          infoNCELoss(neighbour(z2), p1, undefined, { temperature: this.temperature }),
        ),
      ) as tf.Scalar;
      this.pending?.dispose();
      this.pending = tf.keep(tf.clone(z1));
      return loss;
    });
  }

  /** Enqueues the projections recorded by the last {@link NNCLR.computeLoss} (once; later calls do nothing). */
  updateSupportSet(): void {
    if (this.pending === null) return;
    this.supportSet.enqueue(this.pending);
    this.pending.dispose();
    this.pending = null;
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const loss = this.minimize(() => this.computeLoss(view1, view2), this.trainableVariables);
    this.updateSupportSet();
    return loss;
  }

  protected override saveState(): StepState {
    const base = super.saveState();
    const cursor = this.supportSet.saveCursor();
    return {
      restore: () => {
        base.restore();
        cursor();
        this.pending?.dispose();
        this.pending = null;
      },
    };
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.predictor.dispose();
    this.supportSet.dispose();
    this.pending?.dispose();
    this.pending = null;
  }
}
