import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertDtype, assertInRange, assertInteger, assertKnownOptions } from '../core/validate.js';
import { correspondenceHead } from '../heads/correspondence-head.js';
import { trainableVariables } from '../train/variables.js';
import {
  assertEncoder,
  assertPaired,
  checkTrainingOptions,
  encodeModality,
  encoderFeatureDim,
  encoderInputShape,
  modalityFeatureDim,
  assertTrainingFits,
  checkTaskOptions,
  type ModalityEncoder,
} from './internal/common.js';
import { crossEntropy } from './internal/classify.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link CrossModalCorrespondence}. */
export interface CrossModalCorrespondenceOptions extends TaskOptions {
  /**
   * The fusion classifier `[[B, Fa], [B, Fb]]` → `[B, 2]`; not disposed by the task.
   * @default correspondenceHead({ hiddenDim }) (L³-Net's fc1–fc2), owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Width of the default head's fusion layer.
   * @default 128 (L³-Net)
   */
  hiddenDim?: number;
  /**
   * Fraction of each batch paired with its own other-modality sample (the
   * rest is paired with another sample's: the negatives).
   * @default 0.5 (L³-Net trains on balanced positives and negatives)
   */
  positiveFraction?: number;
  /**
   * Adam's learning rate when no optimizer is given (L³-Net: Adam, 1e-4).
   * @default 1e-3
   */
  learningRate?: number;
}

/** What {@link CrossModalCorrespondence.samplePairs} draws. */
export interface CorrespondencePairs {
  /** Row of the other modality paired with each image. */
  otherIndex: Int32Array;
  /** 1 when that row is the image's own (corresponds), 0 otherwise. */
  labels: Int32Array;
}

/**
 * Cross-modal correspondence, the audio-visual correspondence task of L³-Net
 * (Arandjelović & Zisserman, "Look, Listen and Learn", ICCV 2017): a vision
 * sub-network and a sub-network for a second modality (there, the audio of
 * the same second of video) embed their inputs, a fusion head on the
 * concatenated embeddings decides whether the two belong together, and both
 * sub-networks learn what the modalities have in common. Positives pair an
 * image with its own other-modality sample; negatives with another sample's
 * (the paper takes the sound of a different video), half and half; the loss
 * is the 2-way softmax cross-entropy.
 *
 * `step(images, other)` takes aligned pairs (row i of each belongs together)
 * and builds the positives and negatives itself from the task's seed: each
 * image keeps its own pair with probability `positiveFraction`, otherwise
 * gets another row of the batch (never its own). `otherEncoder` is any
 * single-output tfjs-layers model over the second modality (an
 * `mlpEncoder` on a 1-D signal, a `tokenEncoder`, a second
 * `convEncoder`). `embed` returns the vision sub-network's features;
 * {@link CrossModalCorrespondence.embedOther} the other one's.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { CrossModalCorrespondence, mlpEncoder } from 'selfsup';
 *
 * const vision = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
 * const sound = mlpEncoder({ inputShape: [12], units: [16], seed: 1 });
 * const task = new CrossModalCorrespondence(vision, sound, { hiddenDim: 8, seed: 2 });
 * const frames = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
 * const audio = tf.randomNormal([6, 12], 0, 1, 'float32', 4);
 * console.log(task.step(frames, audio)); // ≈ ln 2 at the start
 * console.log(task.predict(frames, audio).shape); // [6]: P(corresponds)
 * task.dispose();
 * ```
 */
export class CrossModalCorrespondence extends BasePretextTask {
  readonly name = 'CrossModalCorrespondence';
  /** The second modality's sub-network. */
  readonly otherEncoder: ModalityEncoder;
  /** The fusion classifier. */
  readonly head: tfl.LayersModel;
  /** Fraction of positive pairs per batch. */
  readonly positiveFraction: number;
  private readonly imageShape: [number, number, number];
  private readonly ownsHead: boolean;
  private readonly rng: Rng;

  constructor(visionEncoder: ImageEncoder, otherEncoder: ModalityEncoder, options: CrossModalCorrespondenceOptions = {}) {
    const fn = 'CrossModalCorrespondence';
    assertEncoder(visionEncoder, fn, 'visionEncoder');
    const otherDim = modalityFeatureDim(otherEncoder, fn, 'otherEncoder');
    assertKnownOptions(options, ['head', 'hiddenDim', 'positiveFraction', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { hiddenDim = 128, positiveFraction = 0.5 } = options;
    assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertInRange(positiveFraction, 0, 1, fn, 'options.positiveFraction', [true, true]);
    const imageShape = encoderInputShape(visionEncoder);
    if (imageShape === null) {
      throw new InvalidArgumentError(fn, 'visionEncoder', 'have a known input shape (a tfjs-layers model or a tinyVit)', 'an unknown shape');
    }
    const visionDim = encoderFeatureDim(visionEncoder, imageShape);
    if (options.head === undefined) assertTrainingFits(fn, 'options.hiddenDim', [[visionDim + otherDim, hiddenDim], [hiddenDim, hiddenDim], [hiddenDim, 2]]);
    super(visionEncoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.otherEncoder = otherEncoder;
    this.positiveFraction = positiveFraction;
    this.ownsHead = options.head === undefined;
    this.head = options.head ?? correspondenceHead({ inputDims: [visionDim, otherDim], hiddenDim, seed: this.rng.nextUint32() });
  }

  /** The variables a step updates: vision, other modality, head. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.otherEncoder), ...trainableVariables(this.head)];
  }

  /** Positives and negatives for a batch of `batch` aligned pairs (needs `batch` ≥ 2 for negatives), from the task's seed. */
  samplePairs(batch: number): CorrespondencePairs {
    assertInteger(batch, 'CrossModalCorrespondence.samplePairs', 'batch', { min: 2 });
    const otherIndex = new Int32Array(batch);
    const labels = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      if (this.rng.next() < this.positiveFraction) {
        otherIndex[i] = i;
        labels[i] = 1;
      } else {
        // Uniform over the other rows: draw from batch − 1 and skip i.
        const j = this.rng.int(0, batch - 1);
        otherIndex[i] = j >= i ? j + 1 : j;
      }
    }
    return { otherIndex, labels };
  }

  /** Probability that `images[i]` and `other[i]` belong together, `[B]` (inference mode). */
  predict(images: tf.Tensor4D, other: tf.Tensor): tf.Tensor1D {
    this.check(images, other, 'CrossModalCorrespondence.predict', 1);
    return tf.tidy(() => {
      const logits = this.logits(images, other, false);
      return tf.squeeze(tf.slice(tf.softmax(logits), [0, 1], [-1, 1]), [1]) as tf.Tensor1D;
    });
  }

  /** The loss on explicit pairs: `labels` int32 `[B]` (1 = `images[i]` and `other[i]` correspond). */
  loss(images: tf.Tensor4D, other: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
    const fn = 'CrossModalCorrespondence.loss';
    this.check(images, other, fn, 1);
    assertPaired(labels, images.shape[0], fn, 'labels', 'int32 correspondence labels (1 = the pair belongs together)');
    assertDtype(labels, 'int32', fn, 'labels');
    return tf.tidy(() => crossEntropy(this.logits(images, other, true), labels));
  }

  /** Second-modality features `[B, Fb]` (inference mode). */
  embedOther(other: tf.Tensor): tf.Tensor2D {
    assertPaired(other, other?.shape?.[0] ?? 0, 'CrossModalCorrespondence.embedOther', 'other', 'a [B, ...] batch of the second modality');
    return encodeModality(this.otherEncoder, other, false);
  }

  /** One optimizer step on `B` aligned pairs, with fresh positives and negatives; returns the loss. */
  protected runStep(images: tf.Tensor4D, other?: tf.Tensor): number {
    this.check(images, other, 'CrossModalCorrespondence.step', 2);
    this.checkBatch(images, null, 2);
    const { otherIndex, labels } = this.samplePairs(images.shape[0]);
    const paired = tf.tidy(() => tf.gather(other, tf.tensor1d(otherIndex, 'int32')));
    const target = tf.tensor1d(labels, 'int32');
    try {
      return this.minimize(() => tf.tidy(() => crossEntropy(this.logits(images, paired, true), target)), this.trainableVariables);
    } finally {
      tf.dispose([paired, target]);
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    if (this.ownsHead) this.head.dispose();
  }

  private logits(images: tf.Tensor4D, other: tf.Tensor, training: boolean): tf.Tensor2D {
    return this.head.apply([encodeImages(this.encoder, images, training), encodeModality(this.otherEncoder, other, training)], {
      training,
    }) as tf.Tensor2D;
  }

  private check(images: unknown, other: unknown, fn: string, minBatch: number): asserts other is tf.Tensor {
    assertImages(images, fn);
    const s = this.imageShape;
    const [b, h, w, c] = images.shape;
    if (h !== s[0] || w !== s[1] || c !== s[2] || b < minBatch) {
      throw new InvalidArgumentError(fn, 'images', `have shape [B, ${s.join(', ')}] with B ≥ ${minBatch}`, `[${images.shape.join(', ')}]`);
    }
    assertPaired(other, b, fn, 'other', 'the paired second-modality batch (row i belonging with image i)');
  }
}
