import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ShapeError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { createRng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, formatShape } from '../core/validate.js';
import { featureMapModel } from '../heads/feature-map.js';
import { pixelClassifier } from '../heads/pixel-classifier.js';
import { colorizationBins, colorizationLoss } from '../losses/colorization.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, checkTrainingOptions, encoderInputShape, assertTrainingFits, checkTaskOptions } from './internal/common.js';
import { colourInput, downsampleTo, labChannels, lightnessInput } from './internal/lab.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link SplitBrainAutoencoder}. */
export interface SplitBrainAutoencoderOptions extends TaskOptions {
  /**
   * Head of the L → ab network, `[B, h, w, F₁]` → `[B, h', w', 313]`; not disposed by the task.
   * @default pixelClassifier({ numClasses: 313, upsample: 2, hiddenChannels: [32] }), owned by the task
   */
  abHead?: tfl.LayersModel;
  /**
   * Head of the ab → L network, `[B, h, w, F₂]` → `[B, h', w', lBins]`; not disposed by the task.
   * @default pixelClassifier({ numClasses: lBins, upsample: 2, hiddenChannels: [32] }), owned by the task
   */
  lHead?: tfl.LayersModel;
  /**
   * Number of quantisation bins of L ∈ [0, 100] (equal width).
   * @default 100 (Zhang et al. 2017)
   */
  lBins?: number;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/** The concatenated representation of the two halves of a split-brain autoencoder, as an {@link ImageEncoder}. */
class SplitBrainEncoder {
  constructor(
    private readonly lNetwork: ImageEncoder,
    private readonly abNetwork: ImageEncoder,
  ) {}

  get variables(): tf.Variable[] {
    return this.trainableVariables;
  }

  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.lNetwork), ...trainableVariables(this.abNetwork)];
  }

  /** `[F₁(L) | F₂(ab)]` of RGB (or grayscale, ab = 0) images in [0, 1]. */
  apply(images: tf.Tensor4D, kwargs: { training?: boolean } = {}): tf.Tensor2D {
    const training = kwargs.training ?? false;
    return tf.tidy(() => {
      const { l, ab } = labChannels(images);
      return tf.concat(
        [encodeImages(this.lNetwork, lightnessInput(l), training), encodeImages(this.abNetwork, colourInput(ab), training)],
        1,
      ) as tf.Tensor2D;
    });
  }
}

/**
 * The split-brain autoencoder (Zhang, Isola & Efros, "Split-Brain
 * Autoencoders: Unsupervised Learning by Cross-Channel Prediction", CVPR
 * 2017): the network is split into two disjoint halves, each predicting one
 * subset of the input channels from the other — F₁ predicts the colour (ab)
 * from the lightness (L), F₂ the lightness from the colour — and the
 * representation is the two halves' features concatenated, so together they
 * see the whole input while neither can solve its task by copying. Both
 * predictions are classification over quantised targets, which the paper
 * found to beat regression: ab over the 313 bins of {@link colorizationBins}
 * (soft-encoded as in colorization, without class rebalancing), L over 100
 * equal bins of [0, 100] (cross-entropy on the bin of each pixel). The loss
 * is the sum of the two.
 *
 * You give the two halves: `lNetwork` takes `(L − 50)/100` `[B, H, W, 1]`,
 * `abNetwork` takes `ab/110` `[B, H, W, 2]` (Zhang et al.'s normalisation); both are tfjs-layers conv
 * encoders ending in global average pooling (e.g. `convEncoder` with
 * half the channels each, as the paper halves every layer of AlexNet). The
 * heads read their feature maps before pooling and predict on the map
 * up-sampled ×2 (targets downsampled to it). `encoder` (and `embed`) is the
 * concatenation `[F₁(L) | F₂(ab)]`, taking RGB images — or grayscale ones,
 * whose ab is 0, so only the L half then carries information.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, SplitBrainAutoencoder } from 'selfsup';
 *
 * const lNet = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8, 8], seed: 0 });
 * const abNet = convEncoder({ inputShape: [16, 16, 2], channels: [4, 8, 8], seed: 1 });
 * const task = new SplitBrainAutoencoder(lNet, abNet, { seed: 2 });
 * const photos = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
 * console.log(task.step(photos), task.embed(photos).shape); // loss, [2, 16]
 * task.dispose();
 * ```
 */
export class SplitBrainAutoencoder extends BasePretextTask {
  readonly name = 'SplitBrainAutoencoder';
  /** F₁: the L → ab half (input (L − 50)/100). */
  readonly lNetwork: ImageEncoder;
  /** F₂: the ab → L half (input ab / 110). */
  readonly abNetwork: ImageEncoder;
  /** Head predicting ab bins from F₁'s map. */
  readonly abHead: tfl.LayersModel;
  /** Head predicting L bins from F₂'s map. */
  readonly lHead: tfl.LayersModel;
  /** Number of L bins. */
  readonly lBins: number;
  /** `[H, W]` of the images. */
  readonly imageSize: [number, number];
  private readonly lMap: tfl.LayersModel;
  private readonly abMap: tfl.LayersModel;
  private readonly bins: tf.Tensor2D;
  private readonly abGrid: [number, number];
  private readonly lGrid: [number, number];
  private readonly ownsAbHead: boolean;
  private readonly ownsLHead: boolean;

  constructor(lNetwork: ImageEncoder, abNetwork: ImageEncoder, options: SplitBrainAutoencoderOptions = {}) {
    const fn = 'SplitBrainAutoencoder';
    assertEncoder(lNetwork, fn, 'lNetwork');
    assertEncoder(abNetwork, fn, 'abNetwork');
    assertKnownOptions(options, ['abHead', 'lHead', 'lBins', 'learningRate', 'optimizer', 'seed', 'onNonFinite'], fn);
    checkTaskOptions(options, fn, ['abHead', 'lHead']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const { lBins = 100 } = options;
    assertInteger(lBins, fn, 'options.lBins', { min: 2 });
    // The L head's classifier (its hidden channels × lBins), and lBins logits per pixel.
    assertTrainingFits(fn, 'options.lBins', [[256, lBins]]);
    const lShape = encoderInputShape(lNetwork);
    const abShape = encoderInputShape(abNetwork);
    if (lShape === null || lShape[2] !== 1) {
      throw new ShapeError(fn, 'lNetwork', 'take 1-channel input (L)', lShape === null ? 'an unknown input shape' : formatShape(lShape));
    }
    if (abShape === null || abShape[2] !== 2 || abShape[0] !== lShape[0] || abShape[1] !== lShape[1]) {
      throw new ShapeError(
        fn,
        'abNetwork',
        `take 2-channel input (ab) of lNetwork's size, [${lShape[0]}, ${lShape[1]}, 2]`,
        abShape === null ? 'an unknown input shape' : formatShape(abShape),
      );
    }
    const lMap = featureMapModel(lNetwork);
    const abMap = featureMapModel(abNetwork);
    super(new SplitBrainEncoder(lNetwork, abNetwork), options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    const rng = createRng(options.seed, fn, 'options.seed');
    this.lNetwork = lNetwork;
    this.abNetwork = abNetwork;
    this.lMap = lMap;
    this.abMap = abMap;
    this.lBins = lBins;
    this.imageSize = [lShape[0], lShape[1]];
    const mapOf = (m: tfl.LayersModel, shape: number[]) =>
      tf.tidy(() => (m.apply(tf.zeros([1, ...shape])) as tf.Tensor).shape.slice(1)) as [number, number, number];
    const lMapShape = mapOf(lMap, lShape);
    const abMapShape = mapOf(abMap, abShape);
    this.ownsAbHead = options.abHead === undefined;
    this.abHead =
      options.abHead ?? pixelClassifier({ inputShape: lMapShape, numClasses: 313, upsample: 2, hiddenChannels: [32], seed: rng.nextUint32() });
    this.ownsLHead = options.lHead === undefined;
    this.lHead =
      options.lHead ?? pixelClassifier({ inputShape: abMapShape, numClasses: lBins, upsample: 2, hiddenChannels: [32], seed: rng.nextUint32() });
    const gridOf = (head: tfl.LayersModel, input: number[], classes: number, arg: string): [number, number] => {
      const s = tf.tidy(() => (head.apply(tf.zeros([1, ...input])) as tf.Tensor).shape);
      if (s.length !== 4 || s[3] !== classes) throw new ShapeError(fn, arg, `output [B, h, w, ${classes}] logits`, formatShape(s));
      return [s[1]!, s[2]!];
    };
    this.abGrid = gridOf(this.abHead, lMapShape, 313, 'options.abHead');
    this.lGrid = gridOf(this.lHead, abMapShape, lBins, 'options.lHead');
    this.bins = colorizationBins();
  }

  /** The variables one step updates: both halves, then both heads. */
  get trainableVariables(): tf.Variable[] {
    return [
      ...trainableVariables(this.lNetwork),
      ...trainableVariables(this.abNetwork),
      ...trainableVariables(this.abHead),
      ...trainableVariables(this.lHead),
    ];
  }

  /** The two cross-channel losses on RGB `images` (differentiable scalars): L → ab and ab → L. */
  losses(images: tf.Tensor4D): { lToAb: tf.Scalar; abToL: tf.Scalar } {
    this.check(images, 'SplitBrainAutoencoder.losses', [3]);
    return this.lossesOf(images);
  }

  /** Their sum, the training loss (a differentiable scalar). */
  loss(images: tf.Tensor4D): tf.Scalar {
    this.check(images, 'SplitBrainAutoencoder.loss', [3]);
    return tf.tidy(() => {
      const { lToAb, abToL } = this.lossesOf(images);
      return tf.add(lToAb, abToL) as tf.Scalar;
    });
  }

  protected runStep(images: tf.Tensor4D): number {
    this.check(images, 'SplitBrainAutoencoder.step', [3]);
    this.checkBatch(images, null);
    return this.minimize(() => tf.tidy(() => {
      const { lToAb, abToL } = this.lossesOf(images);
      return tf.add(lToAb, abToL) as tf.Scalar;
    }), this.trainableVariables);
  }

  override embed(images: tf.Tensor4D, options?: { batchSize?: number }): tf.Tensor2D {
    this.assertLive('SplitBrainAutoencoder.embed');
    this.check(images, 'SplitBrainAutoencoder.embed', [1, 3]);
    return super.embed(images, options);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.bins.dispose();
    if (this.ownsAbHead) this.abHead.dispose();
    if (this.ownsLHead) this.lHead.dispose();
  }

  private lossesOf(images: tf.Tensor4D): { lToAb: tf.Scalar; abToL: tf.Scalar } {
    return tf.tidy(() => {
      const { l, ab } = labChannels(images);
      const abLogits = this.abHead.apply(this.lMap.apply(lightnessInput(l), { training: true }), { training: true }) as tf.Tensor4D;
      const lToAb = colorizationLoss(abLogits, downsampleTo(ab, this.abGrid[0], this.abGrid[1]), { bins: this.bins });
      const lLogits = this.lHead.apply(this.abMap.apply(colourInput(ab), { training: true }), { training: true }) as tf.Tensor4D;
      const [gh, gw] = this.lGrid;
      const lTarget = tf.reshape(downsampleTo(l, gh, gw), [-1]);
      const bin = tf.cast(tf.clipByValue(tf.floor(tf.mul(lTarget, this.lBins / 100)), 0, this.lBins - 1), 'int32');
      const abToL = tf.losses.softmaxCrossEntropy(
        tf.oneHot(bin as tf.Tensor1D, this.lBins),
        tf.reshape(lLogits, [-1, this.lBins]),
      ) as tf.Scalar;
      return { lToAb, abToL };
    });
  }

  private check(images: unknown, fn: string, channels: number[]): asserts images is tf.Tensor4D {
    assertImages(images, fn, 'images', channels);
    const [, h, w] = images.shape;
    if (h !== this.imageSize[0] || w !== this.imageSize[1]) {
      throw new ShapeError(fn, 'images', `have height and width ${formatShape(this.imageSize)}`, formatShape(images.shape));
    }
  }
}
