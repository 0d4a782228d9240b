import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { labToRgb } from '../augment/color-lab.js';
import { ShapeError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { createRng } from '../core/rng.js';
import {
  assertFloat,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  assertRank,
  assertShape,
  formatShape,
} from '../core/validate.js';
import { featureMapModel } from '../heads/feature-map.js';
import { pixelClassifier } from '../heads/pixel-classifier.js';
import { colorizationBins, colorizationLoss, estimateAbPrior } from '../losses/colorization.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, checkTrainingOptions, encoderInputShape, checkTaskOptions } from './internal/common.js';
import { downsampleTo, labChannels, lightnessInput, resizeTo } from './internal/lab.js';
import { BasePretextTask, embedImages, type EmbedOptions, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link annealedMean}. */
export interface AnnealedMeanOptions {
  /**
   * Temperature T: 1 gives the mean of the predicted distribution, → 0 its mode.
   * @default 0.38 (Zhang et al.)
   */
  temperature?: number;
}

/**
 * Zhang et al.'s annealed-mean decoding of a colour distribution ("Colorful
 * Image Colorization", ECCV 2016, eq. 5): `H(Z) = E[f_T(Z)]`, where
 * `f_T(z) = exp(log z / T) / Σ exp(log z / T)` re-sharpens the predicted
 * distribution before taking its mean, so the result is vibrant (closer to
 * the mode) yet spatially consistent (closer to the mean). With
 * `z = softmax(logits)` this is `softmax(logits / T) · bins`.
 *
 * Shapes: `logits` float32 `[B, h, w, Q]`, `bins` float32 `[Q, 2]` (ab
 * centres, e.g. {@link colorizationBins}). Returns ab `[B, h, w, 2]` in Lab units.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { annealedMean, colorizationBins } from 'selfsup';
 *
 * const bins = colorizationBins();
 * // A confident prediction of bin 200 decodes to (nearly) that bin's ab.
 * const logits = tf.reshape(tf.mul(tf.oneHot(tf.tensor1d([200], 'int32'), 313), 10), [1, 1, 1, 313]) as tf.Tensor4D;
 * console.log(annealedMean(logits, bins).dataSync(), tf.slice(bins, [200, 0], [1, 2]).dataSync());
 * ```
 */
export function annealedMean(logits: tf.Tensor4D, bins: tf.Tensor2D, options: AnnealedMeanOptions = {}): tf.Tensor4D {
  const fn = 'annealedMean';
  assertKnownOptions(options, ['temperature'], fn);
  const { temperature = 0.38 } = options;
  assertRank(logits, 4, fn, 'logits', '[B, h, w, Q]');
  assertFloat(logits, fn, 'logits');
  assertRank(bins, 2, fn, 'bins', '[Q, 2]');
  assertShape(bins, [logits.shape[3], 2], fn, 'bins', '[Q, 2] with Q the last axis of logits');
  assertFloat(bins, fn, 'bins');
  assertPositive(temperature, fn, 'options.temperature');
  return tf.tidy(() => {
    const [b, h, w, q] = logits.shape;
    const p = tf.softmax(tf.div(tf.reshape(logits, [b * h * w, q]), temperature));
    return tf.reshape(tf.matMul(p, bins), [b, h, w, 2]) as tf.Tensor4D;
  });
}

/** Options of {@link Colorization}. */
export interface ColorizationOptions extends TaskOptions {
  /**
   * The per-pixel classifier on the encoder's feature map, `[B, h, w, F]` →
   * `[B, h', w', 313]`; not disposed by the task.
   * @default pixelClassifier({ numClasses: 313, upsample: 2, hiddenChannels: [64] }), owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * The empirical colour prior `p̃` `[313]` for class rebalancing (cloned;
   * see `estimateAbPrior`). Without it the task estimates the prior from the
   * training data itself: the running mean of `estimateAbPrior` over the
   * first `priorSteps` batches, then frozen. Call
   * {@link Colorization.estimatePrior} to set it from a dataset instead.
   * @default undefined (estimated from the training batches)
   */
  prior?: tf.Tensor1D;
  /**
   * Batches the prior is averaged over when it is estimated during training.
   * @default 20
   */
  priorSteps?: number;
  /**
   * Mixing weight λ of the uniform distribution in the rebalancing weights (1: no rebalancing).
   * @default 0.5 (Zhang et al.)
   */
  lambda?: number;
  /**
   * σ (ab units) of the soft encoding and of the prior's smoothing.
   * @default 5 (Zhang et al.)
   */
  sigma?: number;
  /**
   * Nearest bins each target is soft-encoded onto.
   * @default 5 (Zhang et al.)
   */
  neighbours?: number;
  /**
   * Annealed-mean temperature of {@link Colorization.colorize}.
   * @default 0.38 (Zhang et al.)
   */
  temperature?: number;
  /**
   * Adam's learning rate when no optimizer is given (Zhang et al.: 3e-5 for
   * 450k iterations at batch 40; short runs need more).
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * Colorization as a pretext task (Zhang, Isola & Efros, "Colorful Image
 * Colorization", ECCV 2016): the network sees only the lightness L of a Lab
 * image and predicts, at every pixel of a reduced grid, a distribution over
 * the 313 in-gamut quantised ab bins; it is trained with the class-rebalanced
 * multinomial cross-entropy against the soft-encoded true colours (each true
 * ab spread over its 5 nearest bins with σ = 5), where each pixel is weighted
 * by `w ∝ ((1 − λ)p̃ + λ/Q)⁻¹` of its colour's empirical prior `p̃`
 * (smoothed with σ = 5, λ = 1/2), so rare saturated colours are not drowned
 * by the desaturated majority. Display decodes with the annealed mean,
 * T = 0.38. The representation is the encoder applied to L.
 *
 * The encoder is yours (a tfjs-layers conv encoder ending in global average
 * pooling, such as `convEncoder`, with a 1-channel input): the per-pixel
 * head reads its feature map before pooling ({@link featureMapModel}), and the
 * pooled features are what `embed` returns. Its input is `(L − 50)/100`
 * ∈ [−0.5, 0.5], the normalisation of Zhang et al.'s code.
 * `step` takes RGB images in [0, 1] `[B, H, W, 3]`; `embed` takes RGB or
 * grayscale (`[B, H, W, 1]`, read as R = G = B) images.
 *
 * Differences from the paper, for small images: the prediction grid is the
 * encoder's map up-sampled ×2 (the paper predicts at 1/4 resolution with a
 * VGG-style network with dilated convolutions), targets are downsampled
 * to that grid; the prior is estimated from the training batches unless you
 * give one (the paper computes it over ImageNet's training set beforehand).
 * The rebalancing weights are part of the loss value (the paper's Caffe code
 * applies them to the gradient only: same gradient).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Colorization, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8, 8], seed: 0 });
 * const task = new Colorization(encoder, { seed: 1 });
 * const photos = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(photos));
 * const rgb = task.colorize(photos); // [2, 16, 16, 3]
 * console.log(rgb.shape);
 * task.dispose();
 * ```
 */
export class Colorization extends BasePretextTask {
  readonly name = 'Colorization';
  /** `[H, W, 1]` of the encoder's input. */
  readonly imageShape: [number, number, number];
  /** The encoder's feature map (shares its weights). */
  readonly featureMap: tfl.LayersModel;
  /** The per-pixel classifier. */
  readonly head: tfl.LayersModel;
  /** The 313 ab bins `[313, 2]`. */
  readonly bins: tf.Tensor2D;
  /** `[h', w']` of the prediction grid. */
  readonly outputSize: [number, number];
  /** Annealed-mean temperature of `colorize`. */
  readonly temperature: number;
  private readonly lambda: number;
  private readonly sigma: number;
  private readonly neighbours: number;
  private readonly priorSteps: number;
  private priorEstimate: tf.Tensor1D | null = null;
  private priorBatches = 0;
  private priorFrozen = false;
  private readonly ownsHead: boolean;

  constructor(encoder: ImageEncoder, options: ColorizationOptions = {}) {
    const fn = 'Colorization';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      ['head', 'prior', 'priorSteps', 'lambda', 'sigma', 'neighbours', 'temperature', 'learningRate', 'optimizer', 'seed', 'onNonFinite'],
      fn,
    );
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { priorSteps = 20, lambda = 0.5, sigma = 5, neighbours = 5, temperature = 0.38 } = options;
    assertInteger(priorSteps, fn, 'options.priorSteps', { min: 1 });
    assertInRange(lambda, 0, 1, fn, 'options.lambda', [true, false]);
    assertPositive(sigma, fn, 'options.sigma');
    assertInteger(neighbours, fn, 'options.neighbours', { min: 1, max: 313 });
    assertPositive(temperature, fn, 'options.temperature');
    if (options.prior !== undefined) {
      assertShape(options.prior, [313], fn, 'options.prior', '[313]');
      assertFloat(options.prior, fn, 'options.prior');
    }
    const featureMap = featureMapModel(encoder);
    const inputShape = encoderInputShape(encoder);
    if (inputShape === null || inputShape[2] !== 1) {
      throw new ShapeError(fn, 'encoder', 'take 1-channel input (the L channel)', inputShape === null ? 'an unknown input shape' : formatShape(inputShape));
    }
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    const rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = inputShape;
    this.featureMap = featureMap;
    const mapShape = tf.tidy(() => (featureMap.apply(tf.zeros([1, ...inputShape])) as tf.Tensor).shape.slice(1)) as [number, number, number];
    this.ownsHead = options.head === undefined;
    this.head =
      options.head ?? pixelClassifier({ inputShape: mapShape, numClasses: 313, upsample: 2, hiddenChannels: [64], seed: rng.nextUint32() });
    const out = tf.tidy(() => (this.head.apply(tf.zeros([1, ...mapShape])) as tf.Tensor).shape);
    if (out.length !== 4 || out[3] !== 313) {
      throw new ShapeError(fn, 'options.head', 'map the feature map to [B, h, w, 313] logits', formatShape(out));
    }
    this.outputSize = [out[1]!, out[2]!];
    this.bins = colorizationBins();
    this.lambda = lambda;
    this.sigma = sigma;
    this.neighbours = neighbours;
    this.temperature = temperature;
    this.priorSteps = priorSteps;
    if (options.prior !== undefined) {
      this.priorEstimate = tf.tidy(() => tf.div(options.prior!, tf.sum(options.prior!)) as tf.Tensor1D);
      this.priorFrozen = true;
    }
  }

  /** The colour prior in use (`[313]`, a copy to dispose), or null before any was estimated. */
  get prior(): tf.Tensor1D | null {
    return this.priorEstimate === null ? null : (tf.clone(this.priorEstimate) as tf.Tensor1D);
  }

  /** The variables one step updates: the encoder's, then the head's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.head)];
  }

  /**
   * Sets the rebalancing prior from a set of RGB images (Zhang et al.
   * estimate it over the whole training set) and freezes it.
   */
  estimatePrior(images: tf.Tensor4D): void {
    this.checkRgb(images, 'Colorization.estimatePrior');
    const next = tf.tidy(() => {
      const { ab } = labChannels(images);
      return estimateAbPrior(downsampleTo(ab, this.outputSize[0], this.outputSize[1]), this.bins, { sigma: this.sigma });
    });
    this.priorEstimate?.dispose();
    this.priorEstimate = tf.keep(next);
    this.priorFrozen = true;
  }

  /** Per-pixel logits `[B, h', w', 313]` for RGB or grayscale images (inference mode). */
  predict(images: tf.Tensor4D): tf.Tensor4D {
    this.checkAny(images, 'Colorization.predict');
    return tf.tidy(() => this.logits(lightnessInput(labChannels(images).l), false));
  }

  /**
   * Colourises images from their lightness: annealed-mean ab (temperature
   * `temperature`) upsampled to full size, merged with the input's L and
   * converted to RGB `[B, H, W, 3]` in [0, 1].
   */
  colorize(images: tf.Tensor4D): tf.Tensor4D {
    this.checkAny(images, 'Colorization.colorize');
    return tf.tidy(() => {
      const { l } = labChannels(images);
      const ab = annealedMean(this.logits(lightnessInput(l), false), this.bins, { temperature: this.temperature });
      const [, h, w] = images.shape;
      return labToRgb(tf.concat([l, resizeTo(ab, h, w)], 3) as tf.Tensor4D);
    });
  }

  /** The training loss on RGB `images` (a differentiable scalar), with the current prior. */
  loss(images: tf.Tensor4D): tf.Scalar {
    this.checkRgb(images, 'Colorization.loss');
    return tf.tidy(() => {
      const { l, ab } = labChannels(images);
      return this.lossOf(lightnessInput(l), downsampleTo(ab, this.outputSize[0], this.outputSize[1]));
    });
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkRgb(images, 'Colorization.step');
    this.checkBatch(images, null);
    const { input, target } = tf.tidy(() => {
      const { l, ab } = labChannels(images);
      return { input: lightnessInput(l), target: downsampleTo(ab, this.outputSize[0], this.outputSize[1]) };
    });
    try {
      if (!this.priorFrozen) this.updatePrior(target);
      return this.minimize(() => this.lossOf(input, target), this.trainableVariables);
    } finally {
      tf.dispose([input, target]);
    }
  }

  /** Pooled encoder features of RGB or grayscale images (the encoder applied to (L − 50)/100). */
  override embed(images: tf.Tensor4D, options: EmbedOptions = {}): tf.Tensor2D {
    this.assertLive('Colorization.embed');
    this.checkAny(images, 'Colorization.embed');
    const l = tf.tidy(() => lightnessInput(labChannels(images).l));
    try {
      return embedImages(this.encoder, l, options);
    } finally {
      l.dispose();
    }
  }

  /** Checkpoints also carry the running ab prior and how far its estimation got. */
  protected override stateFields(): string[] {
    return [...super.stateFields(), 'priorEstimate', 'priorBatches', 'priorFrozen'];
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.bins.dispose();
    this.priorEstimate?.dispose();
    if (this.ownsHead) this.head.dispose();
  }

  private updatePrior(target: tf.Tensor4D): void {
    const batchPrior = estimateAbPrior(target, this.bins, { sigma: this.sigma });
    const n = this.priorBatches;
    const next = this.priorEstimate === null ? batchPrior : tf.tidy(() => tf.add(tf.mul(this.priorEstimate!, n / (n + 1)), tf.mul(batchPrior, 1 / (n + 1))) as tf.Tensor1D);
    if (next !== batchPrior) batchPrior.dispose();
    this.priorEstimate?.dispose();
    // Kept across steps: a step run inside tf.tidy (as trainLoop runs it) must not free the running estimate.
    this.priorEstimate = tf.keep(next);
    this.priorBatches++;
    if (this.priorBatches >= this.priorSteps) this.priorFrozen = true;
  }

  private logits(input: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.head.apply(this.featureMap.apply(input, { training }), { training }) as tf.Tensor4D;
  }

  private lossOf(input: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() =>
      colorizationLoss(this.logits(input, true), target, {
        bins: this.bins,
        ...(this.priorEstimate !== null ? { priorProbabilities: this.priorEstimate } : {}),
        lambda: this.lambda,
        sigma: this.sigma,
        neighbours: this.neighbours,
      }),
    );
  }

  private checkRgb(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImages(images, fn, 'images', [3]);
    this.checkSize(images, fn);
  }

  private checkAny(images: unknown, fn: string): asserts images is tf.Tensor4D {
    assertImages(images, fn, 'images', [1, 3]);
    this.checkSize(images, fn);
  }

  private checkSize(images: tf.Tensor4D, fn: string): void {
    const [, h, w] = images.shape;
    if (h !== this.imageShape[0] || w !== this.imageShape[1]) {
      throw new ShapeError(fn, 'images', `have height and width ${formatShape(this.imageShape.slice(0, 2))}`, formatShape(images.shape));
    }
  }
}
