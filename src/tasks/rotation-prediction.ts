import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ShapeError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { assertKnownOptions, formatShape } from '../core/validate.js';
import { classificationHead } from '../heads/classification-head.js';
import { rotationLoss } from '../losses/rotation.js';
import { rotationBatch } from '../masking/rotation-batch.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, encoderFeatureDim, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link RotationPrediction}. */
export interface RotationPredictionOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the (square) images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * The 4-way classifier on the encoder's features; not disposed by the task.
   * @default a linear classificationHead (RotNet's linear classifier on pooled features), owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Adam's learning rate when no optimizer is given (RotNet: SGD, momentum 0.9, 0.1).
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * Rotation prediction (RotNet; Gidaris, Singh & Komodakis, "Unsupervised
 * Representation Learning by Predicting Image Rotations", ICLR 2018): every
 * image is rotated by 0°, 90°, 180° and 270°, and the network classifies
 * which rotation it sees. Telling an upright object from a rotated one needs
 * the object's identity, pose and orientation — semantic features — while the
 * rotations leave no low-level artefacts to exploit (they are exact pixel
 * permutations).
 *
 * As in the paper, all four rotations of each image are in the same batch
 * (the batch the encoder sees is 4B), with the cross-entropy of
 * {@link rotationLoss}. Images must be square.
 *
 * Pieces for your own loop: {@link RotationPrediction.rotationBatch},
 * {@link RotationPrediction.loss}, `head`, {@link RotationPrediction.trainableVariables}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, RotationPrediction } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 0 });
 * const task = new RotationPrediction(encoder, { seed: 1 });
 * const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images)); // ≈ ln 4 at the start
 * task.dispose();
 * ```
 */
export class RotationPrediction extends BasePretextTask {
  readonly name = 'RotationPrediction';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** The 4-way classifier. */
  readonly head: tfl.LayersModel;
  private readonly ownsHead: boolean;

  constructor(encoder: ImageEncoder, options: RotationPredictionOptions = {}) {
    const fn = 'RotationPrediction';
    assertEncoder(encoder, fn);
    assertKnownOptions(options, ['imageShape', 'head', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    if (imageShape[0] !== imageShape[1]) {
      throw new ShapeError(fn, 'options.imageShape', 'be square (a rotated image keeps its shape)', formatShape(imageShape));
    }
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    const rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.ownsHead = options.head === undefined;
    this.head =
      options.head ?? classificationHead({ inputDim: encoderFeatureDim(encoder, imageShape), numClasses: 4, seed: rng.nextUint32() });
  }

  /** The variables one step updates: the encoder's, then the head's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.head)];
  }

  /**
   * The four rotations of every image, `[4B, H, W, C]` (image i at rows
   * 4i … 4i + 3, by 0°, 90°, 180° and 270° counter-clockwise: `rotationBatch`
   * of selfsup/masking) and their labels int32 `[4B]`.
   */
  rotationBatch(images: tf.Tensor4D): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    assertImageBatch(images, this.imageShape, 'RotationPrediction.rotationBatch');
    return this.rotations(images);
  }

  /** The training loss on `images` (a differentiable scalar). */
  loss(images: tf.Tensor4D): tf.Scalar {
    assertImageBatch(images, this.imageShape, 'RotationPrediction.loss');
    return this.lossOf(images);
  }

  /** Rotation logits `[B, 4]` of (possibly rotated) images, inference mode. */
  predict(images: tf.Tensor4D): tf.Tensor2D {
    assertImageBatch(images, this.imageShape, 'RotationPrediction.predict');
    return tf.tidy(() => this.head.apply(encodeImages(this.encoder, images, false), { training: false }) as tf.Tensor2D);
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    if (this.ownsHead) this.head.dispose();
  }

  private rotations(images: tf.Tensor4D): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    return rotationBatch(images);
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const batch = this.rotations(images);
      const logits = this.head.apply(encodeImages(this.encoder, batch.images, true), { training: true }) as tf.Tensor2D;
      return rotationLoss(logits, batch.labels);
    });
  }
}
