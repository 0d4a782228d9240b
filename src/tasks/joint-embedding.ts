import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { assertOutputsFit, type Transform } from '../augment/transform.js';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  describeValue,
  formatShape,
} from '../core/validate.js';
import { projectionMlp, type ProjectionMlpOptions } from '../heads/projection-mlp.js';
import type { Schedule } from '../train/schedules.js';
import { setLearningRate } from '../train/set-learning-rate.js';
import { checkTaskOptions } from './internal/common.js';
import { augmentViews } from './internal/multi-view.js';
import { BasePretextTask, encodeImages, type ImageEncoder, type StepGuardOptions } from './pretext-task.js';
import { TargetNetwork } from './target-network.js';

/** Options every joint-embedding method accepts (each method adds its own). */
export interface JointEmbeddingOptions extends StepGuardOptions {
  /**
   * The augmentation: one pipeline for both views, or one per view
   * (`[view1, view2]`, BYOL's asymmetric blur and solarization). Anything
   * implementing selfsup's `Transform` works; the output must keep the
   * encoder's input shape.
   * @default the method's paper preset for 3-channel images (sized to the input), {@link grayscaleAugment} for 1-channel images
   */
  augment?: Transform | readonly [Transform, Transform];
  /**
   * The optimizer that trains the encoder and the heads. It is yours: the
   * method never disposes it.
   * @default Adam with `learningRate`, owned (disposed) by the method
   */
  optimizer?: tf.Optimizer;
  /**
   * Learning rate: a number, or a {@link Schedule} of the step (e.g.
   * `cosineSchedule`) applied before every step with `setLearningRate` —
   * to your optimizer too, when you pass one with a schedule.
   * @default the method's (1e-3 for Adam unless stated)
   */
  learningRate?: number | Schedule;
  /**
   * Total steps of the run, for the schedules that end at the last step
   * (BYOL's and DINO's target momentum, DINO's teacher-temperature warm-up).
   * @default undefined (those schedules stay at their start value)
   */
  totalSteps?: number;
  /**
   * `[H, W, C]` of the images, for encoders that do not declare their input
   * shape (tfjs-layers models and selfsup's ViT do).
   * @default read from the encoder
   */
  imageShape?: readonly [number, number, number];
  /**
   * Seed of the heads' initial weights and of the augmentation stream: the
   * same seed, encoder and data give the same run on a given backend.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** Option keys of {@link JointEmbeddingOptions}, for `assertKnownOptions`. */
export const JOINT_EMBEDDING_KEYS = ['augment', 'optimizer', 'learningRate', 'totalSteps', 'imageShape', 'seed', 'onNonFinite'] as const;

/** What a method tells the shared constructor. */
export interface MethodDefaults {
  /** The method's default learning rate. */
  learningRate: number;
  /** The default augmentation for images of `shape` `[H, W, C]`. */
  augment(shape: readonly [number, number, number]): Transform | readonly [Transform, Transform];
}

function isTransform(x: unknown): x is Transform {
  return typeof x === 'object' && x !== null && typeof (x as Transform).sample === 'function' && typeof (x as Transform).apply === 'function';
}

function isSchedule(x: unknown): x is Schedule {
  return typeof x === 'function';
}

/** `[H, W, C]` of an encoder's input: given, declared by a LayersModel, or a ViT's. */
export function encoderImageShape(encoder: ImageEncoder, given: unknown, fn: string): [number, number, number] {
  if (given !== undefined) {
    const ok = Array.isArray(given) && given.length === 3 && given.every((d) => Number.isInteger(d) && d >= 1);
    if (!ok) throw new InvalidArgumentError(fn, 'options.imageShape', 'be [H, W, C] with integers ≥ 1', describeValue(given));
    return [given[0], given[1], given[2]];
  }
  const declared = (encoder as { inputs?: { shape: (number | null)[] }[] }).inputs?.[0]?.shape;
  if (Array.isArray(declared) && declared.length === 4 && declared.slice(1).every((d) => typeof d === 'number' && d >= 1)) {
    return [declared[1]!, declared[2]!, declared[3]!];
  }
  const vit = encoder as { imageSize?: [number, number]; channels?: number };
  if (Array.isArray(vit.imageSize) && typeof vit.channels === 'number') return [vit.imageSize[0], vit.imageSize[1], vit.channels];
  throw new InvalidArgumentError(
    fn,
    'options.imageShape',
    'be given as [H, W, C]: the encoder does not declare a fully defined input shape',
    describeValue(declared),
  );
}

/** Throws unless `encoder` looks like an {@link ImageEncoder}. */
export function assertEncoder(encoder: unknown, fn: string): asserts encoder is ImageEncoder {
  const e = encoder as ImageEncoder;
  const hasWeights = typeof e === 'object' && e !== null && ('trainableWeights' in e || 'trainableVariables' in e);
  if (!hasWeights || typeof e.apply !== 'function') {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      'be a tfjs-layers model or a selfsup VisionTransformer (apply(images) → [B, F], with trainable weights)',
      describeValue(encoder),
    );
  }
}

/**
 * The machinery the joint-embedding methods share: the encoder's input shape
 * and feature size, the augmentation and its seeded stream (one seed per
 * step, so a run is reproducible), the learning-rate schedule, input checks,
 * and `step` = two views → {@link JointEmbeddingTask.trainStep}. SimCLR,
 * MoCo v2, BYOL, SimSiam, Barlow Twins, VICReg, SwAV and NNCLR extend it;
 * extend it yourself for a new two-view method.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { JointEmbeddingTask, grayscaleAugment, mlpEncoder, encodeImages, type ImageEncoder } from 'selfsup';
 *
 * // A toy two-view method: make the two views' features equal (it collapses; do not use it).
 * class MatchViews extends JointEmbeddingTask {
 *   readonly name = 'MatchViews';
 *   constructor(encoder: ImageEncoder) {
 *     super('MatchViews', encoder, { seed: 0 }, { learningRate: 1e-3, augment: () => grayscaleAugment() });
 *   }
 *   get trainableVariables() { return this.variablesOf(); }
 *   computeLoss(v1: tf.Tensor4D, v2: tf.Tensor4D): tf.Scalar {
 *     return tf.tidy(() => tf.mean(tf.squaredDifference(encodeImages(this.encoder, v1, true), encodeImages(this.encoder, v2, true))) as tf.Scalar);
 *   }
 *   protected trainStep(v1: tf.Tensor4D, v2: tf.Tensor4D): number {
 *     return this.minimize(() => this.computeLoss(v1, v2), this.trainableVariables);
 *   }
 * }
 * const task = new MatchViews(mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 1 }));
 * console.log(task.featureDim, task.step(tf.randomUniform([4, 4, 4, 1], 0, 1, 'float32', 2) as tf.Tensor4D) >= 0); // 8 true
 * task.dispose();
 * ```
 */
export abstract class JointEmbeddingTask extends BasePretextTask {
  /** `[H, W, C]` of the images the encoder takes. */
  readonly imageShape: [number, number, number];
  /** Size F of the encoder's representation `[B, F]` (what the heads read and `embed` returns). */
  readonly featureDim: number;
  /** The augmentation of view 1 and view 2 (the same pipeline twice unless given per view). */
  readonly augmentations: [Transform, Transform];
  /** Total steps (for schedules), if given. */
  readonly totalSteps: number | undefined;
  /** The method's random stream: heads' initialisation, then one augmentation seed per step. */
  protected readonly rng: Rng;
  private readonly learningRateSchedule: Schedule | null;

  /**
   * @param fn the method's name for error messages.
   * @param encoder the encoder to train (not disposed by the method).
   * @param options the shared options (validated here; the subclass checks its own keys).
   * @param defaults the method's default learning rate and augmentation.
   */
  protected constructor(fn: string, encoder: ImageEncoder, options: JointEmbeddingOptions, defaults: MethodDefaults) {
    assertEncoder(encoder, fn);
    const { optimizer, learningRate = defaults.learningRate, totalSteps } = options;
    // (tfjs's Optimizer[Symbol.hasInstance] reads `.minimize`, so null must be caught first.)
    if (optimizer !== undefined && (typeof optimizer !== 'object' || optimizer === null || !(optimizer instanceof tf.Optimizer))) {
      throw new InvalidArgumentError(fn, 'options.optimizer', 'be a tfjs optimizer (tf.train.adam(…), tf.train.sgd(…), …)', describeValue(optimizer));
    }
    if (!isSchedule(learningRate)) {
      assertFiniteNumber(learningRate, fn, 'options.learningRate');
      assertPositive(learningRate, fn, 'options.learningRate');
      if (optimizer !== undefined && options.learningRate !== undefined) {
        throw new InvalidArgumentError(
          fn,
          'options.learningRate',
          'be omitted when options.optimizer is given (set the rate on your optimizer), or be a Schedule',
          String(learningRate),
        );
      }
    }
    if (totalSteps !== undefined) assertInteger(totalSteps, fn, 'options.totalSteps', { min: 1 });
    const initialRate = isSchedule(learningRate) ? learningRate(0) : learningRate;
    if (isSchedule(learningRate)) {
      assertFiniteNumber(initialRate, fn, 'options.learningRate(0)');
    }
    const imageShape = encoderImageShape(encoder, options.imageShape, fn);
    const featureDim = tf.tidy(() => {
      let out: tf.Tensor2D;
      try {
        out = encodeImages(encoder, tf.zeros([2, ...imageShape]) as tf.Tensor4D, false);
      } catch (e) {
        throw new InvalidArgumentError(
          fn,
          'encoder',
          `accept images of shape [B, ${imageShape.join(', ')}] (options.imageShape)`,
          `an encoder that failed: ${(e as Error).message}`,
        );
      }
      return out.shape[1];
    });
    super(encoder, optimizer, initialRate, { onNonFinite: options.onNonFinite });
    this.imageShape = imageShape;
    this.featureDim = featureDim;
    this.totalSteps = totalSteps;
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.learningRateSchedule = isSchedule(learningRate) ? learningRate : null;
    const augment = options.augment ?? defaults.augment(imageShape);
    this.augmentations = readAugment(augment, fn);
  }

  /** The variables the optimizer updates: the encoder's and the trained heads'. */
  abstract get trainableVariables(): tf.Variable[];

  /**
   * Two augmented views of `images` (`[B, H, W, C]` in [0, 1]), drawn from
   * `seed` (by default the next seed of the method's stream, which is what
   * `step` uses). Dispose them when done.
   */
  views(images: tf.Tensor4D, seed?: Seed): [tf.Tensor4D, tf.Tensor4D] {
    const fn = `${this.name}.views`;
    this.assertLive(fn);
    this.checkBatch(images, this.imageShape, 1, fn);
    return this.drawViews(images, seed);
  }

  /**
   * One training step: two views of `images` from the method's seeded
   * stream, the method's loss, one optimizer update, then the method's state
   * updates (target network, queue, …). Returns the loss value.
   */
  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape, 2);
    this.applyLearningRate();
    const [v1, v2] = this.drawViews(images);
    try {
      return this.trainStep(v1, v2);
    } finally {
      tf.dispose([v1, v2]);
    }
  }

  /** The method's update on a pair of views (loss, optimizer step, state updates); returns the loss value. */
  protected abstract trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number;

  /** Sets the scheduled learning rate for the coming step (no-op for a constant rate). */
  protected applyLearningRate(): void {
    if (this.learningRateSchedule !== null) setLearningRate(this.optimizer, this.learningRateSchedule(this.steps));
  }

  /** Throws unless `images` is a float32 `[B, H, W, C]` batch of the encoder's shape in [0, 1] with B ≥ `minBatch`. */
  protected checkImages(images: unknown, fn: string, minBatch: number): asserts images is tf.Tensor4D {
    this.checkBatch(images, this.imageShape, minBatch, fn);
  }

  /** The two views of a checked batch (sampled, then applied: no second range check, no read). */
  private drawViews(images: tf.Tensor4D, seed?: Seed): [tf.Tensor4D, tf.Tensor4D] {
    const [a, b] = this.augmentations;
    assertOutputsFit(`${this.name}.step`, images.shape, [a.outputShape(images.shape), b.outputShape(images.shape)]);
    const rng = createRng(seed ?? this.rng.nextUint32(), `${this.name}.views`, 'seed');
    const pa = a.sample(images.shape, rng);
    const pb = b.sample(images.shape, rng);
    // In one scope: a pipeline that throws halfway leaves none of its intermediates behind.
    const views = tf.tidy(() => [a.apply(images, pa), b.apply(images, pb)]) as [tf.Tensor4D, tf.Tensor4D];
    for (const v of views) {
      if (v.shape[1] !== this.imageShape[0] || v.shape[2] !== this.imageShape[1] || v.shape[3] !== this.imageShape[2]) {
        tf.dispose(views);
        throw new ShapeError(
          `${this.name}.views`,
          'options.augment',
          `produce views of the encoder's input size [B, ${this.imageShape.join(', ')}]`,
          formatShape(v.shape),
        );
      }
    }
    return views;
  }

  /**
   * `count` views of a checked batch for the multi-view methods (MMCR,
   * FastSiam), from `seed` or else the method's stream; the caller disposes them.
   */
  protected drawManyViews(images: tf.Tensor4D, count: number, seed: number | undefined, fn: string): tf.Tensor4D[] {
    return augmentViews(images, this.augmentations, count, seed ?? this.rng.nextUint32(), fn, this.imageShape);
  }

  /**
   * `runStep` of the multi-view methods: `count` fresh views of `images`,
   * then one update on `loss` of them; returns the loss value.
   */
  protected runManyViewStep(images: tf.Tensor4D, count: number, loss: (views: readonly tf.Tensor4D[]) => tf.Scalar): number {
    this.checkBatch(images, this.imageShape, 2);
    this.applyLearningRate();
    // Views drawn without a second check of the batch (checked above, read once).
    const views = this.drawManyViews(images, count, undefined, `${this.name}.step`);
    try {
      return this.minimize(() => loss(views), this.trainableVariables);
    } finally {
      tf.dispose(views);
    }
  }

  // The helpers below are the steps the methods have in common, kept in one
  // place so that the methods cannot drift apart in how they seed their heads,
  // batch their two views or clean up a failed constructor.

  /**
   * A `projectionMlp` on the encoder's features (`inputDim` = featureDim),
   * seeded with the next draw of the method's stream — at the point of the
   * call, so the constructors' order of draws (and hence a seeded run) is
   * what each method's code reads.
   */
  protected projectionHead(options: Omit<ProjectionMlpOptions, 'inputDim' | 'seed'>): tfl.Sequential {
    return projectionMlp({ inputDim: this.featureDim, ...options, seed: this.rng.nextUint32() });
  }

  /**
   * `head(encoder(images))` `[B, D]`, both in training mode by default (batch
   * norm on the batch's statistics). The momentum branches (target encoder
   * and head) run in training mode too, as in MoCo's, BYOL's and DINO's code.
   */
  protected forward(head: tfl.LayersModel, images: tf.Tensor4D, encoder: ImageEncoder = this.encoder, training = true): tf.Tensor2D {
    return head.apply(encodeImages(encoder, images, training), { training }) as tf.Tensor2D;
  }

  /**
   * {@link JointEmbeddingTask.forward} of both views as one batch `[2B, D]`
   * (view 1's rows first), so batch norm sees all 2B images, as in the
   * official code of every method; split it with
   * {@link JointEmbeddingTask.splitPair}.
   */
  protected forwardPair(head: tfl.LayersModel, view1: tf.Tensor4D, view2: tf.Tensor4D, encoder: ImageEncoder = this.encoder): tf.Tensor2D {
    return this.forward(head, tf.concat([view1, view2], 0) as tf.Tensor4D, encoder);
  }

  /** View 1's and view 2's rows `[B, D]` of a `[2B, D]` batch from {@link JointEmbeddingTask.forwardPair}. */
  protected splitPair(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    return tf.split(x, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
  }

  /**
   * The momentum copy of the encoder and `head` (MoCo's key encoder, BYOL's
   * target, DINO's teacher), from `targetEncoder` when given. If copying
   * fails, `built` (what the constructor made so far) is disposed before the
   * error propagates, so a failed constructor leaks no variables.
   */
  protected createTarget(head: tfl.LayersModel, targetEncoder: ImageEncoder | undefined, built: readonly { dispose(): void }[]): TargetNetwork {
    try {
      return new TargetNetwork({ encoder: this.encoder, heads: [head] }, targetEncoder !== undefined ? { targetEncoder } : {});
    } catch (e) {
      for (const b of built) b.dispose();
      throw e;
    }
  }

  /** Options object check shared by the subclasses. */
  protected static checkOptions(options: unknown, keys: readonly string[], fn: string): void {
    assertKnownOptions(options ?? {}, [...JOINT_EMBEDDING_KEYS, ...keys], fn);
    checkTaskOptions(options ?? {}, fn, ['targetEncoder']);
  }
}

function readAugment(augment: unknown, fn: string): [Transform, Transform] {
  if (isTransform(augment)) return [augment, augment];
  if (Array.isArray(augment) && augment.length === 2 && isTransform(augment[0]) && isTransform(augment[1])) {
    return [augment[0], augment[1]];
  }
  throw new InvalidArgumentError(fn, 'options.augment', 'be a Transform or a [Transform, Transform] pair (one per view)', describeValue(augment));
}
