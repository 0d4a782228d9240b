import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compose } from '../augment/compose.js';
import { RandomHorizontalFlip } from '../augment/flip.js';
import { RandomResizedCrop } from '../augment/resized-crop.js';
import type { Transform } from '../augment/transform.js';
import { InvalidArgumentError } from '../core/errors.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, assertPositive, describeValue } from '../core/validate.js';
import { classificationHead } from '../heads/classification-head.js';
import { MemoryBank } from '../train/memory-bank.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, encoderFeatureDim, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { crossEntropy } from './internal/classify.js';
import { IntensityJitter } from './internal/intensity-jitter.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskState } from './task-state.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link ExemplarCnn}. */
export interface ExemplarCnnOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * Number N of exemplars, i.e. of surrogate classes. The first N images
   * `step` receives become the exemplars (or pass them with {@link ExemplarCnn.setExemplars}).
   * @default 1000
   */
  numExemplars?: number;
  /**
   * The augmentation that makes the copies of an exemplar ("heavily augmented").
   * @default random resized crop (scale 0.3–1, aspect 0.7–1.4: translation and scaling), horizontal flip, brightness and contrast jitter 0.4
   */
  augment?: Transform;
  /**
   * `'parametric'`: an N-way linear classifier over the exemplars (the
   * paper). `'non-parametric'`: the classifier weights are replaced by a
   * memory bank of the exemplars' own (normalised) features and the logits are
   * cosine similarities / `temperature` (Wu et al. 2018's instance
   * discrimination with a memory bank), which has no per-class parameters.
   * @default 'parametric'
   */
  variant?: 'parametric' | 'non-parametric';
  /**
   * Temperature τ of the non-parametric variant.
   * @default 0.07 (Wu et al.)
   */
  temperature?: number;
  /**
   * The N-way classifier of the parametric variant; not disposed by the task.
   * @default a linear classificationHead, owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * Exemplar CNN (Dosovitskiy, Fischer, Springenberg, Riedmiller & Brox,
 * "Discriminative Unsupervised Feature Learning with Exemplar Convolutional
 * Neural Networks", NeurIPS 2014 / TPAMI 2016): N "seed" images each become a
 * surrogate class, and the network is trained to recognise which seed a
 * heavily augmented copy came from. The transformations it must ignore
 * (translation, scale, contrast, …) become the invariances of its features,
 * while telling the seeds apart keeps them discriminative.
 *
 * The first `numExemplars` images `step` receives become the seeds (in
 * arrival order; or set them with {@link ExemplarCnn.setExemplars}); each step
 * then trains on as many freshly augmented copies of randomly chosen seeds
 * as the batch holds. The paper draws a fixed set of augmented copies per
 * seed beforehand; drawing fresh ones each step is the same distribution
 * without the storage. Its rotations (±20°) and colour augmentations are not
 * in the default pipeline (pass `augment` to add your own).
 *
 * **Scaling limit.** The parametric classifier has N·F weights and every
 * sample pays for an N-way softmax, while each class is seen only through its
 * own copies: the paper saw transfer improve up to about 8,000 surrogate
 * classes and then flatten, with more classes becoming too similar to tell
 * apart (and over-fitting), so exemplar CNN cannot treat every image of a
 * large dataset as a class. The `'non-parametric'` variant removes the
 * per-class weights — each exemplar's "weight" is its own feature, refreshed
 * through a {@link MemoryBank} (row i holds exemplar i, updated in turn,
 * `batch` rows per step) — but still scores every exemplar per sample (O(N·F)
 * memory and compute); instance discrimination methods (Wu et al. 2018, then
 * MoCo and SimCLR) go further with sampled negatives.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, ExemplarCnn } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [12, 12, 1], channels: [4, 8], seed: 0 });
 * const task = new ExemplarCnn(encoder, { numExemplars: 8, variant: 'non-parametric', seed: 1 });
 * const images = tf.randomUniform([8, 12, 12, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images), task.exemplarCount); // loss, 8
 * task.dispose();
 * ```
 */
export class ExemplarCnn extends BasePretextTask {
  readonly name = 'ExemplarCnn';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Number of surrogate classes N. */
  readonly numExemplars: number;
  /** The variant in use. */
  readonly variant: 'parametric' | 'non-parametric';
  /** The augmentation of the copies. */
  readonly augment: Transform;
  /** The N-way classifier (parametric variant), else null. */
  readonly head: tfl.LayersModel | null;
  /** The exemplars' features (non-parametric variant), else null. */
  readonly bank: MemoryBank | null;
  private readonly temperature: number;
  private readonly ownsHead: boolean;
  private readonly rng: Rng;
  private readonly seeds: Float32Array;
  private filled = 0;
  private nextRefresh = 0;
  /** Bank row holding each exemplar's feature (non-parametric). */
  private readonly rowOf: Int32Array;
  private seedTensor: tf.Tensor4D | null = null;

  constructor(encoder: ImageEncoder, options: ExemplarCnnOptions = {}) {
    const fn = 'ExemplarCnn';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      ['imageShape', 'numExemplars', 'augment', 'variant', 'temperature', 'head', 'learningRate', 'optimizer', 'seed', 'onNonFinite'],
      fn,
    );
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    const { numExemplars = 1000, variant = 'parametric', temperature = 0.07 } = options;
    assertInteger(numExemplars, fn, 'options.numExemplars', { min: 2 });
    assertOneOf(variant, ['parametric', 'non-parametric'] as const, fn, 'options.variant');
    assertPositive(temperature, fn, 'options.temperature');
    if (options.augment !== undefined && (options.augment === null || typeof (options.augment as Transform).run !== 'function')) {
      throw new InvalidArgumentError(fn, 'options.augment', 'be a Transform (e.g. compose([...]))', describeValue(options.augment));
    }
    if (options.head !== undefined && variant !== 'parametric') {
      throw new InvalidArgumentError(fn, 'options.head', "be omitted with variant 'non-parametric' (it has no classifier)", 'a model');
    }
    const featureDim = encoderFeatureDim(encoder, imageShape);
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.imageShape = imageShape;
    this.numExemplars = numExemplars;
    this.variant = variant;
    this.temperature = temperature;
    this.augment =
      options.augment ??
      compose([
        new RandomResizedCrop({ scale: [0.3, 1], ratio: [0.7, 1.4] }),
        new RandomHorizontalFlip(),
        new IntensityJitter(0.4, 0.4),
      ]);
    this.ownsHead = variant === 'parametric' && options.head === undefined;
    this.head =
      variant === 'parametric'
        ? (options.head ?? classificationHead({ inputDim: featureDim, numClasses: numExemplars, seed: this.rng.nextUint32() }))
        : null;
    this.bank = variant === 'non-parametric' ? new MemoryBank({ size: numExemplars, dim: featureDim, seed: this.rng.nextUint32() }) : null;
    this.seeds = new Float32Array(numExemplars * imageShape[0] * imageShape[1] * imageShape[2]);
    this.rowOf = new Int32Array(numExemplars);
  }

  /** Exemplars collected so far (≤ N). */
  get exemplarCount(): number {
    return this.filled;
  }

  /** The variables a step updates: the encoder's, then the classifier's (parametric). */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...(this.head ? trainableVariables(this.head) : [])];
  }

  /** Uses `images` `[N, H, W, C]` as the exemplars (replacing any collected ones). */
  setExemplars(images: tf.Tensor4D): void {
    assertImageBatch(images, this.imageShape, 'ExemplarCnn.setExemplars');
    if (images.shape[0] !== this.numExemplars) {
      throw new InvalidArgumentError('ExemplarCnn.setExemplars', 'images', `hold numExemplars = ${this.numExemplars} images`, String(images.shape[0]));
    }
    this.filled = 0;
    this.nextRefresh = 0;
    this.collect(images);
  }

  /**
   * Augmented copies of `size` random exemplars (from the task's seed):
   * `images` `[size, H, W, C]` and their exemplar index, int32 `[size]`.
   */
  sampleCopies(size: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    assertInteger(size, 'ExemplarCnn.sampleCopies', 'size', { min: 1 });
    if (this.filled === 0) {
      throw new InvalidArgumentError('ExemplarCnn.sampleCopies', 'this', 'hold exemplars (call step or setExemplars first)', 'none');
    }
    const ids = Int32Array.from({ length: size }, () => this.rng.int(0, this.filled));
    return tf.tidy(() => {
      const picked = tf.gather(this.seedBatch(), tf.tensor1d(ids, 'int32')) as tf.Tensor4D;
      return { images: this.augment.run(picked, { seed: this.rng }).images, labels: tf.tensor1d(ids, 'int32') };
    });
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    if (this.filled < this.numExemplars) this.collect(images);
    const { images: copies, labels } = this.sampleCopies(images.shape[0]);
    try {
      const loss = this.minimize(() => this.lossOf(copies, labels), this.trainableVariables);
      if (this.bank !== null && this.filled === this.numExemplars) this.refreshBank(images.shape[0]);
      return loss;
    } finally {
      tf.dispose([copies, labels]);
    }
  }

  /** Checkpoints also carry how many exemplars are collected and where the bank refresh is. */
  protected override stateFields(): string[] {
    return [...super.stateFields(), 'filled', 'nextRefresh'];
  }

  override setState(state: TaskState): void {
    super.setState(state);
    // The exemplars may have changed: rebuild their tensor on next use.
    this.seedTensor?.dispose();
    this.seedTensor = null;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.seedTensor?.dispose();
    this.seedTensor = null;
    this.bank?.dispose();
    if (this.ownsHead) this.head!.dispose();
  }

  private lossOf(copies: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const features = encodeImages(this.encoder, copies, true);
      if (this.head !== null) return crossEntropy(this.head.apply(features, { training: true }) as tf.Tensor2D, labels);
      const memory = this.bank!.read();
      const logits = tf.div(tf.matMul(normalizeLastAxis(features), tf.transpose(memory)), this.temperature) as tf.Tensor2D;
      const rows = tf.gather(tf.tensor1d(this.rowOf, 'int32'), labels) as tf.Tensor1D;
      return crossEntropy(logits, rows);
    });
  }

  /** Adds images as exemplars until N are held; the non-parametric bank gets their features in the same order. */
  private collect(images: tf.Tensor4D): void {
    const take = Math.min(images.shape[0], this.numExemplars - this.filled);
    if (take <= 0) return;
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const data = images.dataSync() as Float32Array;
    this.seeds.set(data.subarray(0, take * size), this.filled * size);
    const start = this.filled;
    this.filled += take;
    this.seedTensor?.dispose();
    this.seedTensor = null;
    if (this.bank !== null) {
      const features = tf.tidy(
        () => normalizeLastAxis(encodeImages(this.encoder, tf.slice(images, [0, 0, 0, 0], [take, -1, -1, -1]) as tf.Tensor4D, false)) as tf.Tensor2D,
      );
      this.write(Int32Array.from({ length: take }, (_, i) => start + i), features);
    }
  }

  /** Re-encodes the next `count` exemplars (cyclically) into the bank, so each row tracks the current encoder. */
  private refreshBank(count: number): void {
    const n = Math.min(count, this.numExemplars);
    const ids = Int32Array.from({ length: n }, (_, i) => (this.nextRefresh + i) % this.numExemplars);
    this.nextRefresh = (this.nextRefresh + n) % this.numExemplars;
    const features = tf.tidy(
      () => normalizeLastAxis(encodeImages(this.encoder, tf.gather(this.seedBatch(), tf.tensor1d(ids, 'int32')) as tf.Tensor4D, false)) as tf.Tensor2D,
    );
    this.write(ids, features);
  }

  /**
   * Enqueues the features of exemplars `ids` and records their rows. Exemplars
   * are always written in cyclic order, so a row is only overwritten after its
   * exemplar has been written again.
   */
  private write(ids: Int32Array, features: tf.Tensor2D): void {
    const bank = this.bank!;
    const start = bank.position;
    ids.forEach((id, i) => {
      this.rowOf[id] = (start + i) % this.numExemplars;
    });
    bank.enqueue(features);
    features.dispose();
  }

  private seedBatch(): tf.Tensor4D {
    if (this.seedTensor === null) {
      const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
      this.seedTensor = tf.keep(tf.tensor4d(this.seeds.subarray(0, this.filled * size), [this.filled, ...this.imageShape]));
    }
    return this.seedTensor;
  }
}
