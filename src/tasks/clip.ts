import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { createRng } from '../core/rng.js';
import { assertFiniteNumber, assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { initKernelLayer } from '../heads/init.js';
import { clampLogScale, clipLoss } from '../losses/clip.js';
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
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link Clip}. */
export interface ClipOptions extends TaskOptions {
  /**
   * Width of the joint embedding space (both projections map to it).
   * @default 64 (CLIP: 512–1024)
   */
  embedDim?: number;
  /**
   * Initial log logit scale (the log inverse temperature).
   * @default Math.log(1 / 0.07) (CLIP)
   */
  logScale?: number;
  /**
   * Learn the logit scale (CLIP does), clamped after every step to `maxLogScale`.
   * @default true
   */
  learnLogScale?: boolean;
  /**
   * Upper bound of the learned log logit scale.
   * @default Math.log(100) (CLIP: the scale never exceeds 100)
   */
  maxLogScale?: number;
  /**
   * Adam's learning rate when no optimizer is given (CLIP: AdamW, 5e-4 with a cosine schedule).
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * CLIP (Radford et al., "Learning Transferable Visual Models From Natural
 * Language Supervision", ICML 2021): an image encoder and a text encoder are
 * trained jointly so that, in a batch of N (image, text) pairs, each image's
 * embedding is closest to its own text's among the N texts and vice versa.
 * Each encoder is followed by a linear projection (no bias) to the joint
 * space, both embeddings are L2-normalised, the N×N cosine similarities are
 * scaled by a learned logit scale `exp(t)` and the loss is the symmetric
 * cross-entropy of {@link clipLoss}; after every step `t` is clamped to
 * `log 100` ({@link clampLogScale}), as CLIP does. Because the text side can
 * describe any class, the trained pair classifies images into classes never
 * seen in training: embed one prompt (or several) per class and take the
 * nearest ({@link zeroShotClassifier}).
 *
 * The two modalities are yours: `textEncoder` is any single-output tfjs-layers
 * model over the paired inputs (e.g. `tokenEncoder` for token ids
 * `[B, T]`). `step(images, texts)` takes the pairs, row i of each belonging
 * together. `embed` returns the image encoder's features (before the
 * projection); {@link Clip.encodeImage} and {@link Clip.encodeText} the
 * normalised joint-space embeddings.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Clip, mlpEncoder, tokenEncoder } from 'selfsup';
 *
 * const images = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
 * const texts = tokenEncoder({ vocabSize: 10, sequenceLength: 3, outputDim: 16, seed: 1 });
 * const clip = new Clip(images, texts, { embedDim: 8, seed: 2 });
 * const batch = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
 * const captions = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 5, 9]], [4, 3], 'int32');
 * console.log(clip.step(batch, captions), clip.logitScale); // loss, ≈ 14.3
 * clip.dispose();
 * ```
 */
export class Clip extends BasePretextTask {
  readonly name = 'CLIP';
  /** The text (second-modality) encoder. */
  readonly textEncoder: ModalityEncoder;
  /** Linear projection of image features to the joint space. */
  readonly imageProjection: tfl.Sequential;
  /** Linear projection of text features to the joint space. */
  readonly textProjection: tfl.Sequential;
  /** The log logit scale t (a scalar variable; clamped after every step). */
  readonly logScale: tf.Variable;
  /** Whether t is learned. */
  readonly learnLogScale: boolean;
  /** Joint embedding width. */
  readonly embedDim: number;
  private readonly maxLogScale: number;
  private readonly imageShape: [number, number, number] | null;

  constructor(imageEncoder: ImageEncoder, textEncoder: ModalityEncoder, options: ClipOptions = {}) {
    const fn = 'Clip';
    assertEncoder(imageEncoder, fn, 'imageEncoder');
    const textDim = modalityFeatureDim(textEncoder, fn, 'textEncoder');
    assertKnownOptions(options, ['embedDim', 'logScale', 'learnLogScale', 'maxLogScale', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { embedDim = 64, logScale = Math.log(1 / 0.07), learnLogScale = true, maxLogScale = Math.log(100) } = options;
    assertInteger(embedDim, fn, 'options.embedDim', { min: 1 });
    assertFiniteNumber(logScale, fn, 'options.logScale');
    assertOneOf(learnLogScale, [true, false], fn, 'options.learnLogScale');
    assertFiniteNumber(maxLogScale, fn, 'options.maxLogScale');
    const imageShape = encoderInputShape(imageEncoder);
    if (imageShape === null) {
      throw new InvalidArgumentError(fn, 'imageEncoder', 'have a known input shape (a tfjs-layers model or a tinyVit)', 'an unknown shape');
    }
    const imageDim = encoderFeatureDim(imageEncoder, imageShape);
    assertTrainingFits(fn, 'options.embedDim', [[imageDim, embedDim], [textDim, embedDim]]);
    super(imageEncoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    const rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.textEncoder = textEncoder;
    this.embedDim = embedDim;
    this.maxLogScale = maxLogScale;
    this.learnLogScale = learnLogScale;
    const projection = (inputDim: number) => {
      const dense = tfl.layers.dense({ units: embedDim, useBias: false, inputShape: [inputDim] });
      const model = tfl.sequential({ layers: [dense] });
      initKernelLayer(dense, rng, 'xavier');
      return model;
    };
    this.imageProjection = projection(imageDim);
    this.textProjection = projection(textDim);
    this.logScale = tf.tidy(() => tf.variable(tf.scalar(Math.min(logScale, maxLogScale)), learnLogScale));
  }

  /** The current logit scale `exp(t)`. */
  get logitScale(): number {
    return Math.exp(this.logScale.dataSync()[0] as number);
  }

  /** Everything a step updates: image encoder, text encoder, both projections, and t when learned. */
  get trainableVariables(): tf.Variable[] {
    return [
      ...trainableVariables(this.encoder),
      ...trainableVariables(this.textEncoder),
      ...trainableVariables(this.imageProjection),
      ...trainableVariables(this.textProjection),
      ...(this.learnLogScale ? [this.logScale] : []),
    ];
  }

  /** L2-normalised joint-space embeddings `[B, embedDim]` of images (inference mode). */
  encodeImage(images: tf.Tensor4D): tf.Tensor2D {
    this.checkImages(images, 'Clip.encodeImage');
    return tf.tidy(() => normalizeLastAxis(this.projectImages(images, false)) as tf.Tensor2D);
  }

  /** L2-normalised joint-space embeddings `[B, embedDim]` of texts (inference mode). */
  encodeText(texts: tf.Tensor): tf.Tensor2D {
    assertPaired(texts, texts?.shape?.[0] ?? 0, 'Clip.encodeText', 'texts', 'a [B, ...] batch for the text encoder');
    return tf.tidy(() => normalizeLastAxis(this.projectTexts(texts, false)) as tf.Tensor2D);
  }

  /** The symmetric contrastive loss of a batch of pairs (a differentiable scalar). */
  loss(images: tf.Tensor4D, texts: tf.Tensor): tf.Scalar {
    this.checkPairs(images, texts, 'Clip.loss');
    return this.lossOf(images, texts);
  }

  /**
   * One optimizer step on N pairs (row i of `images` belongs with row i of
   * `texts`), then the logit-scale clamp; returns the loss.
   */
  protected runStep(images: tf.Tensor4D, texts?: tf.Tensor): number {
    this.checkPairs(images, texts, 'Clip.step');
    this.checkBatch(images, null);
    const loss = this.minimize(() => this.lossOf(images, texts), this.trainableVariables);
    if (this.learnLogScale) clampLogScale(this.logScale, { max: this.maxLogScale });
    return loss;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.imageProjection.dispose();
    this.textProjection.dispose();
    this.logScale.dispose();
  }

  private projectImages(images: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return this.imageProjection.apply(encodeImages(this.encoder, images, training), { training }) as tf.Tensor2D;
  }

  private projectTexts(texts: tf.Tensor, training: boolean): tf.Tensor2D {
    return this.textProjection.apply(encodeModality(this.textEncoder, texts, training), { training }) as tf.Tensor2D;
  }

  private lossOf(images: tf.Tensor4D, texts: tf.Tensor): tf.Scalar {
    return tf.tidy(() => clipLoss(this.projectImages(images, true), this.projectTexts(texts, true), { logScale: this.logScale as tf.Scalar }));
  }

  private checkImages(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImages(images, fn);
    const s = this.imageShape!;
    if (images.shape[1] !== s[0] || images.shape[2] !== s[1] || images.shape[3] !== s[2]) {
      throw new InvalidArgumentError(fn, 'images', `have shape [B, ${s.join(', ')}]`, `[${images.shape.join(', ')}]`);
    }
  }

  private checkPairs(images: unknown, texts: unknown, fn: string): asserts texts is tf.Tensor {
    this.checkImages(images, fn);
    assertPaired(texts, (images as tf.Tensor4D).shape[0], fn, 'texts', 'the paired texts (e.g. [B, T] token ids, row i describing image i)');
  }
}
