import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { simclrAugment } from '../augment/presets.js';
import { assertInteger, assertOneOf, assertPositive } from '../core/validate.js';
import { ntXentLoss } from '../losses/nt-xent.js';
import { defaultAugment } from './grayscale-augment.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';

/** Options of {@link SimCLR}. */
export interface SimCLROptions extends JointEmbeddingOptions {
  /**
   * Temperature τ of NT-Xent. The paper uses 0.5 on CIFAR-10 and 0.1 with
   * its 4096-image ImageNet batches; small batches on small images do well
   * between 0.2 and 0.5.
   * @default 0.5
   */
  temperature?: number;
  /**
   * Size of the projection z the loss sees.
   * @default 128 (the paper)
   */
  projectionDim?: number;
  /**
   * Width of the projector's hidden layer.
   * @default the encoder's feature size (the paper: 2048, a ResNet-50's)
   */
  hiddenDim?: number;
  /**
   * Batch norm in the projector's hidden layer. The paper's formula has
   * none; its official code has it, and it speeds up short runs.
   * @default true
   */
  projectorBatchNorm?: boolean;
}

/**
 * SimCLR (Chen et al., "A Simple Framework for Contrastive Learning of Visual
 * Representations", ICML 2020): two augmented views of every image go
 * through the encoder f and a projection MLP g; NT-Xent pulls the two
 * projections of an image together and pushes the other 2N − 2 projections of
 * the batch away (in-batch negatives, no memory bank, no stop-gradient).
 *
 * Composition: augmentation ({@link JointEmbeddingOptions.augment}; default
 * `simclrAugment({ strength: 0.5 })` on RGB — the paper's CIFAR-10 setting —
 * and {@link grayscaleAugment} on 1-channel images) → your encoder →
 * `projectionMlp` (hidden = feature size, output 128, batch norm) →
 * `ntXentLoss(τ = 0.5)`, optimised with Adam (lr 1e-3) unless you pass an
 * optimizer. The paper trains with LARS at lr 0.3·B/256 on batches of
 * 256–4096 for hundreds of epochs; Adam is the usual small-batch substitute.
 * Both views are encoded in one batch, so batch norm sees all 2N images, as
 * in the official code.
 *
 * The pieces for your own loop: {@link SimCLR.views}, {@link SimCLR.project},
 * {@link SimCLR.computeLoss}, {@link SimCLR.projector},
 * {@link SimCLR.trainableVariables}. `dispose()` frees the projector and the
 * owned optimizer, never your encoder.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SimCLR, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
 * const simclr = new SimCLR(encoder, { temperature: 0.5, projectionDim: 16, seed: 1 });
 * const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(simclr.step(images).toFixed(3));
 * console.log(simclr.embed(images).shape); // [16, 32]: encoder features, no projector
 * simclr.dispose();
 * ```
 */
export class SimCLR extends JointEmbeddingTask {
  readonly name = 'SimCLR';
  /** The projection head g. */
  readonly projector: tfl.Sequential;
  /** NT-Xent temperature τ. */
  readonly temperature: number;

  constructor(encoder: ImageEncoder, options: SimCLROptions = {}) {
    const fn = 'SimCLR';
    JointEmbeddingTask.checkOptions(options, ['temperature', 'projectionDim', 'hiddenDim', 'projectorBatchNorm'], fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => simclrAugment({ strength: 0.5 })),
    });
    const { temperature = 0.5, projectionDim = 128, hiddenDim = this.featureDim, projectorBatchNorm = true } = options;
    assertPositive(temperature, fn, 'options.temperature');
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertOneOf(projectorBatchNorm, [true, false], fn, 'options.projectorBatchNorm');
    assertTrainingFits(fn, options.hiddenDim !== undefined ? 'options.hiddenDim' : 'options.projectionDim', mlpWeightShapes(this.featureDim, hiddenDim, 2, projectionDim));
    this.temperature = temperature;
    this.projector = this.projectionHead({ hiddenDim, outputDim: projectionDim, batchNorm: projectorBatchNorm });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector);
  }

  /**
   * The loss of a collapsed SimCLR on batches of `batchSize` images:
   * ln(2N − 1), where every one of the 2N − 1 candidates is equally likely.
   * Pass it to `trainLoop`'s (or a `TrainingMonitor`'s) `collapse.uniformLoss`
   * to be warned when training sits there.
   */
  uniformLoss(batchSize: number): number {
    assertInteger(batchSize, 'SimCLR.uniformLoss', 'batchSize', { min: 2 });
    return Math.log(2 * batchSize - 1);
  }

  /** Projections z = g(f(images)) `[B, projectionDim]` (training mode by default: batch norm uses batch statistics). */
  project(images: tf.Tensor4D, training = true): tf.Tensor2D {
    return tf.tidy(() => this.forward(this.projector, images, this.encoder, training));
  }

  /**
   * NT-Xent of two views (each `[B, H, W, C]`), differentiable with respect
   * to the encoder and the projector: call it inside `optimizer.minimize`.
   */
  computeLoss(view1: tf.Tensor4D, view2: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const z = this.project(tf.concat([view1, view2], 0) as tf.Tensor4D);
      const [z1, z2] = this.splitPair(z);
      return ntXentLoss(z1, z2, { temperature: this.temperature });
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

