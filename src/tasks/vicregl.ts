import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyHorizontalFlip, sampleFlip, type FlipParams } from '../augment/flip.js';
import { ColorJitter } from '../augment/color-jitter.js';
import { compose } from '../augment/compose.js';
import { RandomGrayscale } from '../augment/grayscale.js';
import { randomApply } from '../augment/random-apply.js';
import { applyResizedCrop, sampleResizedCrop, type ResizedCropParams } from '../augment/resized-crop.js';
import { InvalidArgumentError } from '../core/errors.js';
import { assertInRange, assertInteger, assertNonNegative, assertRangePair, describeValue } from '../core/validate.js';
import { projectionMlp } from '../heads/projection-mlp.js';
import { vicreglLoss, type VicreglView } from '../losses/vicregl.js';
import { grayscaleAugment } from './grayscale-augment.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';
import { readFeatureMap } from './internal/feature-grid.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import type { ImageEncoder } from './pretext-task.js';

/** Options of {@link VICRegL}. */
export interface VICRegLOptions extends JointEmbeddingOptions {
  /**
   * Area range of the random resized crops, which VICRegL makes itself (the
   * grids of matched locations come from the crop boxes); `augment` is the
   * photometric part applied after the crop and a horizontal flip.
   * @default [0.3, 1]
   */
  cropScale?: readonly [number, number];
  /**
   * Weight α of the global loss (the local one gets 1 − α).
   * @default 0.75 (the paper)
   */
  alpha?: number;
  /**
   * VICReg's invariance, variance and covariance weights.
   * @default 25, 25, 1
   */
  simWeight?: number;
  varWeight?: number;
  covWeight?: number;
  /**
   * Matched local features per direction (`vicreglLoss`), capped at the
   * feature map's positions.
   * @default [20, 4] (the official code)
   */
  numMatches?: readonly [number, number];
  /**
   * Width of the global expander (three layers, as VICReg).
   * @default four times the encoder's feature-map channels
   */
  projectionDim?: number;
  /**
   * Width of the local projector applied to every feature-map position.
   * @default the feature-map channels
   */
  localProjectionDim?: number;
}

/** Two VICRegL views with the image location of every feature-map position. */
export interface VICRegLViews {
  /** The augmented views `[B, H, W, C]`. */
  views: [tf.Tensor4D, tf.Tensor4D];
  /** `[B, h, w, 2]` (y, x) in input pixels of each feature-map cell's centre, per view. */
  grids: [tf.Tensor4D, tf.Tensor4D];
}

/**
 * VICRegL (Bardes, Ponce & LeCun, "VICRegL: Self-Supervised Learning of
 * Local Visual Features", NeurIPS 2022): VICReg on the pooled (global)
 * embeddings of two views, plus VICReg on *local* embeddings — the positions
 * of the encoder's feature map, projected one by one — matched across the
 * views both by feature distance and by where they lie in the original image
 * ({@link vicreglLoss}), weighted `α·global + (1 − α)·local`. The local term
 * makes the map itself invariant, for dense downstream tasks, while the
 * global term keeps the classification quality of VICReg.
 *
 * The encoder is a conv encoder whose last feature map can be read before
 * its pooling head (`convEncoder`; see `featureMapModel`). Each step: two
 * random resized crops and horizontal flips of every image, made by the task
 * so that the image location of every feature-map cell is known (the
 * `grids`), then the photometric `augment` (default: brightness / contrast
 * jitter on one channel, colour jitter and random grayscale on RGB); the
 * map's positions go through a local projector (linear → BN → ReLU →
 * linear; the paper uses layer norm), its mean through the global expander
 * (VICReg's); the loss; one optimizer step. `embed` is the encoder's output.
 * Two views only (the paper adds small local crops; the loss accepts them).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { VICRegL, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], strides: [2, 2], seed: 0 });
 * const vicregl = new VICRegL(encoder, { projectionDim: 32, localProjectionDim: 8, numMatches: [8, 4], seed: 1 });
 * const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(vicregl.step(images).toFixed(3));
 * vicregl.dispose();
 * ```
 */
export class VICRegL extends JointEmbeddingTask {
  readonly name = 'VICRegL';
  /** The global expander (on the mean of the feature map). */
  readonly projector: tfl.Sequential;
  /** The local projector (on every feature-map position). */
  readonly localProjector: tfl.Sequential;
  /** The encoder's feature map `[B, h, w, F]` (shares the encoder's weights). */
  readonly featureMap: tfl.LayersModel;
  /** Area range of the crops. */
  readonly cropScale: readonly [number, number];
  private readonly mapShape: [number, number, number];
  private readonly lossOptions: { alpha: number; simWeight: number; varWeight: number; covWeight: number; numMatches: [number, number] };

  constructor(encoder: ImageEncoder, options: VICRegLOptions = {}) {
    const fn = 'VICRegL';
    JointEmbeddingTask.checkOptions(
      options,
      ['cropScale', 'alpha', 'simWeight', 'varWeight', 'covWeight', 'numMatches', 'projectionDim', 'localProjectionDim'],
      fn,
    );
    const { cropScale = [0.3, 1], alpha = 0.75, simWeight = 25, varWeight = 25, covWeight = 1, numMatches = [20, 4] } = options ?? {};
    assertRangePair(cropScale, fn, 'options.cropScale', { min: 0, max: 1 });
    assertInRange(alpha, 0, 1, fn, 'options.alpha');
    assertNonNegative(simWeight, fn, 'options.simWeight');
    assertNonNegative(varWeight, fn, 'options.varWeight');
    assertNonNegative(covWeight, fn, 'options.covWeight');
    if (!Array.isArray(numMatches) || numMatches.length !== 2) {
      throw new InvalidArgumentError(fn, 'options.numMatches', 'be a pair [k1, k2] of integers ≥ 1', describeValue(numMatches));
    }
    assertInteger(numMatches[0], fn, 'options.numMatches[0]', { min: 1 });
    assertInteger(numMatches[1], fn, 'options.numMatches[1]', { min: 1 });
    if (options?.projectionDim !== undefined) assertInteger(options.projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (options?.localProjectionDim !== undefined) assertInteger(options.localProjectionDim, fn, 'options.localProjectionDim', { min: 1 });
    const featureMap = readFeatureMap(encoder, fn, 'be a conv encoder whose feature map can be read before its pooling head (e.g. convEncoder)');
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) =>
        shape[2] === 3
          ? compose([randomApply(new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 }), 0.8), new RandomGrayscale({ p: 0.2 })])
          : grayscaleAugment({ crop: false, flip: false }),
    });
    this.featureMap = featureMap;
    this.cropScale = [cropScale[0], cropScale[1]];
    const [h, w, c] = this.imageShape;
    this.mapShape = tf.tidy(() => (featureMap.apply(tf.zeros([1, h, w, c]), { training: false }) as tf.Tensor).shape.slice(1) as [number, number, number]);
    const channels = this.mapShape[2];
    this.lossOptions = { alpha, simWeight, varWeight, covWeight, numMatches: [numMatches[0], numMatches[1]] };
    // Both heads read the map's channels (the encoder's output may pool to a grid).
    const width = options.projectionDim ?? 4 * channels;
    const localWidth = options.localProjectionDim ?? channels;
    // Both heads are checked before the first is built (a refused second one would leak the first).
    assertTrainingFits(fn, localWidth > width ? 'options.localProjectionDim' : 'options.projectionDim', [
      ...mlpWeightShapes(channels, width, 3, width),
      ...mlpWeightShapes(channels, localWidth, 2, localWidth),
    ]);
    this.projector = projectionMlp({ inputDim: channels, hiddenDim: width, outputDim: width, numLayers: 3, batchNorm: true, seed: this.rng.nextUint32() });
    this.localProjector = projectionMlp({ inputDim: channels, hiddenDim: localWidth, outputDim: localWidth, batchNorm: true, seed: this.rng.nextUint32() });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.projector, this.localProjector);
  }

  /** Two views of `images` (crop, flip, then the photometric augmentation) and their grids, from `seed` (default: the method's stream). */
  viewsWithGrids(images: tf.Tensor4D, seed?: number): VICRegLViews {
    const fn = 'VICRegL.viewsWithGrids';
    this.assertLive(fn);
    this.checkImages(images, fn, 1);
    return this.drawViewsWithGrids(images, seed);
  }

  /** {@link VICRegL.viewsWithGrids} on a batch already checked. */
  private drawViewsWithGrids(images: tf.Tensor4D, seed?: number): VICRegLViews {
    const rng = seed === undefined ? this.rng : seed;
    const [h, w] = this.imageShape;
    const shape = images.shape as [number, number, number, number];
    const made: tf.Tensor4D[] = [];
    try {
      const one = (photometric: (typeof this.augmentations)[0]) => {
        const crop = sampleResizedCrop(shape, rng, { size: [h, w], scale: this.cropScale });
        const flip = sampleFlip(shape, rng, { p: 0.5 });
        const view = tf.tidy(() => {
          const geometric = applyHorizontalFlip(applyResizedCrop(images, crop), flip);
          return photometric.apply(geometric, photometric.sample(shape, rng));
        });
        made.push(view);
        const grid = this.grid(crop, flip);
        made.push(grid);
        return [view, grid] as const;
      };
      const [v1, g1] = one(this.augmentations[0]);
      const [v2, g2] = one(this.augmentations[1]);
      return { views: [v1, v2], grids: [g1, g2] };
    } catch (e) {
      tf.dispose(made);
      throw e;
    }
  }

  /** The VICRegL loss of two views and their grids (all encoded in one batch); differentiable. */
  computeLoss(views: readonly [tf.Tensor4D, tf.Tensor4D], grids: readonly [tf.Tensor4D, tf.Tensor4D]): tf.Scalar {
    return tf.tidy(() => {
      const b = views[0].shape[0];
      const [mh, mw, f] = this.mapShape;
      const map = this.featureMap.apply(tf.concat([...views], 0), { training: true }) as tf.Tensor4D; // [2B, h, w, F]
      const pooled = tf.mean(map, [1, 2]) as tf.Tensor2D;
      const global = this.projector.apply(pooled, { training: true }) as tf.Tensor2D;
      const local = this.localProjector.apply(tf.reshape(map, [2 * b * mh * mw, f]), { training: true }) as tf.Tensor2D;
      const localMaps = tf.reshape(local, [2 * b, mh, mw, -1]) as tf.Tensor4D;
      const [g1, g2] = tf.split(global, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      const [l1, l2] = tf.split(localMaps, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
      const pair: VicreglView[] = [
        { global: g1, local: l1, grid: grids[0] },
        { global: g2, local: l2, grid: grids[1] },
      ];
      return vicreglLoss(pair, [], this.lossOptions);
    });
  }

  /** One step on two fresh views with their grids; returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape, 2);
    this.applyLearningRate();
    const { views, grids } = this.drawViewsWithGrids(images);
    try {
      return this.minimize(() => this.computeLoss(views, grids), this.trainableVariables);
    } finally {
      tf.dispose([...views, ...grids]);
    }
  }

  /** A step on two given, uncropped views: both grids are the plain lattice of the map. */
  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const shape = view1.shape as [number, number, number, number];
    const [h, w] = this.imageShape;
    const whole = sampleResizedCrop(shape, 0, { size: [h, w], scale: [1, 1], ratio: [w / h, w / h] });
    const grid = this.grid(whole, { batchSize: shape[0], applied: new Uint8Array(shape[0]) });
    try {
      return this.minimize(() => this.computeLoss([view1, view2], [grid, grid]), this.trainableVariables);
    } finally {
      grid.dispose();
    }
  }

  /** Frees the heads and an owned optimizer (never the encoder). Idempotent. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.localProjector.dispose();
  }

  /** `[B, h, w, 2]`: (y, x) in input pixels of each map cell's centre, through the crop box and the flip. */
  private grid(crop: ResizedCropParams, flip: FlipParams): tf.Tensor4D {
    const [mh, mw] = this.mapShape;
    const b = crop.batchSize;
    const values = new Float32Array(b * mh * mw * 2);
    for (let s = 0; s < b; s++) {
      const flipped = flip.applied[s] === 1;
      for (let i = 0; i < mh; i++) {
        for (let j = 0; j < mw; j++) {
          // Cell centres as fractions of the view; a flip mirrors the columns of the view, then the crop box maps to input pixels.
          const fy = (i + 0.5) / mh;
          const fx0 = (j + 0.5) / mw;
          const fx = flipped ? 1 - fx0 : fx0;
          const at = ((s * mh + i) * mw + j) * 2;
          values[at] = crop.top[s]! + fy * crop.height[s]!;
          values[at + 1] = crop.left[s]! + fx * crop.width[s]!;
        }
      }
    }
    return tf.tensor4d(values, [b, mh, mw, 2]);
  }
}
