import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { siameseHead } from '../heads/siamese-head.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { relativePositionPairs } from '../masking/relative-position.js';
import { cropEncoder, crossEntropy, type CropEncoder } from './internal/classify.js';
import { BasePretextTask, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link ContextPrediction}. */
export interface ContextPredictionOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * Side p of the square patches.
   * @default ⌊min(H, W) / 4⌋ (7 for 28×28 images)
   */
  patchSize?: number;
  /**
   * Gap between the centre patch and its neighbour (Doersch et al.: half a patch).
   * @default max(1, round(p / 4))
   */
  gap?: number;
  /**
   * Maximum random shift of each patch along each axis (Doersch et al.: 7 of 96 pixels).
   * @default 1
   */
  jitter?: number;
  /**
   * Standardise each patch on its own (mean 0, variance 1).
   * @default false
   */
  normalizePatches?: boolean;
  /**
   * The 8-way classifier `[B, 2, F]` → `[B, 8]`; not disposed by the task.
   * @default siameseHead({ hiddenDims: [256] }) (fusion, fc7, fc8), owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * Context prediction (Doersch, Gupta & Efros, "Unsupervised Visual
 * Representation Learning by Context Prediction", ICCV 2015): a patch and
 * one of its eight neighbours are cut from an image, both go through the same
 * encoder, and a head on their concatenated features predicts where the
 * neighbour lies relative to the first patch (8 classes, in reading order:
 * top-left, top, top-right, left, right, bottom-left, bottom, bottom-right).
 * Answering needs to recognise what the parts are.
 *
 * As in the paper, the patches are separated by a gap and jittered, so the
 * answer cannot be read off continuing lines or textures (the pairs come from
 * selfsup/masking's `relativePositionPairs`).
 * Scaled for small images: 7-pixel patches with a 2-pixel gap and ±1 pixel
 * of jitter in 28×28 images (the paper: 96-pixel patches, a 48-pixel gap,
 * up to 7 pixels of jitter). The paper's defences against chromatic
 * aberration (colour dropping) do not apply to grayscale data and are not
 * included. The encoder trains on patches and transfers to whole images.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ContextPrediction, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], seed: 0 });
 * const task = new ContextPrediction(encoder, { seed: 1 });
 * const images = tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images)); // ≈ ln 8 at the start
 * task.dispose();
 * ```
 */
export class ContextPrediction extends BasePretextTask {
  readonly name = 'ContextPrediction';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Patch side. */
  readonly patchSize: number;
  /** Gap between the patches. */
  readonly gap: number;
  /** Maximum jitter. */
  readonly jitter: number;
  /** Whether patches are standardised. */
  readonly normalizePatches: boolean;
  /** The relative-position classifier. */
  readonly head: tfl.LayersModel;
  private readonly patches: CropEncoder;
  private readonly ownsHead: boolean;
  private readonly rng: Rng;

  constructor(encoder: ImageEncoder, options: ContextPredictionOptions = {}) {
    const fn = 'ContextPrediction';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      ['imageShape', 'patchSize', 'gap', 'jitter', 'normalizePatches', 'head', 'learningRate', 'optimizer', 'seed', 'onNonFinite'],
      fn,
    );
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    const side = Math.min(imageShape[0], imageShape[1]);
    const { patchSize = Math.max(1, Math.floor(side / 4)) } = options;
    assertInteger(patchSize, fn, 'options.patchSize', { min: 1 });
    const { gap = Math.max(1, Math.round(patchSize / 4)), jitter = 1, normalizePatches = false } = options;
    assertInteger(gap, fn, 'options.gap', { min: 0 });
    assertInteger(jitter, fn, 'options.jitter', { min: 0 });
    assertOneOf(normalizePatches, [true, false], fn, 'options.normalizePatches');
    const extent = 3 * patchSize + 2 * gap + 2 * jitter;
    // relativePositionPairs' layout: the 3×3 grid plus the jitter on both sides.
    if (extent > side) {
      throw new ValueRangeError(
        fn,
        'options.patchSize',
        `leave room for the 3×3 layout: 3·patchSize + 2·gap + 2·jitter ≤ ${side}`,
        `${patchSize} (gap ${gap}, jitter ${jitter}: ${extent})`,
      );
    }
    const patchEncoder = cropEncoder(encoder, patchSize, imageShape[2], fn, 'patches');
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.patches = patchEncoder;
    this.imageShape = imageShape;
    this.patchSize = patchSize;
    this.gap = gap;
    this.jitter = jitter;
    this.normalizePatches = normalizePatches;
    this.ownsHead = options.head === undefined;
    this.head = options.head ?? siameseHead({ branches: 2, inputDim: patchEncoder.featureDim, hiddenDims: [256], numClasses: 8, seed: this.rng.nextUint32() });
  }

  /** The variables one step updates: the encoder's, then the head's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.head)];
  }

  /**
   * A fresh pair per image (from the task's seed): `patches` `[2B, p, p, C]`
   * (centre, neighbour, image by image) and the neighbour's position, int32 `[B]` in [0, 8).
   */
  pairs(images: tf.Tensor4D): { patches: tf.Tensor4D; labels: tf.Tensor1D } {
    assertImageBatch(images, this.imageShape, 'ContextPrediction.pairs');
    return this.pairsOf(images);
  }

  /** The training loss on `images` (a differentiable scalar; fresh pairs). */
  loss(images: tf.Tensor4D): tf.Scalar {
    assertImageBatch(images, this.imageShape, 'ContextPrediction.loss');
    return this.lossOf(images);
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

  private pairsOf(images: tf.Tensor4D): { patches: tf.Tensor4D; labels: tf.Tensor1D } {
    const { center, neighbor, labels } = relativePositionPairs(images, {
      patchSize: this.patchSize,
      gap: this.gap,
      jitter: this.jitter,
      seed: this.rng,
    });
    const patches = tf.tidy(() => {
      const [b, p, , c] = center.shape;
      // Interleave: centre i at row 2i, its neighbour at row 2i + 1.
      const pairs = tf.reshape(tf.stack([center, neighbor], 1), [2 * b, p, p, c]) as tf.Tensor4D;
      if (!this.normalizePatches) return pairs;
      const { mean, variance } = tf.moments(pairs, [1, 2, 3], true);
      return tf.div(tf.sub(pairs, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
    });
    tf.dispose([center, neighbor]);
    return { patches, labels };
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const { patches, labels } = this.pairsOf(images);
      const features = tf.reshape(this.patches.encode(patches, true), [images.shape[0], 2, -1]);
      return crossEntropy(this.head.apply(features, { training: true }) as tf.Tensor2D, labels);
    });
  }
}
