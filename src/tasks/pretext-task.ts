import * as tf from '@tensorflow/tfjs-core';
import { assertImages } from '../core/images.js';
import { assertInteger, assertKnownOptions } from '../core/validate.js';
import { trainableVariables, type ModelWeights } from '../train/variables.js';
import { collectTaskState, restoreTaskState, type StateHost, type TaskState } from './task-state.js';

/**
 * An encoder a selfsup method can train: anything that maps an NHWC image
 * batch `[B, H, W, C]` to features `[B, F]` through `apply(images, {training})`
 * and exposes its weights — a tfjs-layers `LayersModel` (`convEncoder`,
 * `mlpEncoder`, your own model) or a selfsup `VisionTransformer` (`tinyVit`).
 */
export type ImageEncoder = ModelWeights & {
  apply(inputs: tf.Tensor4D, kwargs?: { training?: boolean }): unknown;
};

/**
 * Runs `encoder` on `images` and returns its `[B, F]` features (flattening a
 * `[B, ...]` output). No validation: for methods that have checked their input.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { encodeImages, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 1 });
 * console.log(encodeImages(encoder, tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, true).shape); // [2, 16]
 * ```
 */
export function encodeImages(encoder: ImageEncoder, images: tf.Tensor4D, training: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const out = encoder.apply(images, { training }) as tf.Tensor | tf.Tensor[];
    const features = Array.isArray(out) ? (out[0] as tf.Tensor) : out;
    return (features.rank === 2 ? features : tf.reshape(features, [features.shape[0] as number, -1])) as tf.Tensor2D;
  });
}

/** Options of {@link PretextTask.embed}. */
export interface EmbedOptions {
  /**
   * Images encoded per forward pass (bounds memory for large sets).
   * @default 256
   */
  batchSize?: number;
}

/**
 * What every selfsup method (SimCLR, BYOL, …, rotation prediction, MAE, …)
 * provides: `step(images)` runs one optimisation step on an unlabeled batch
 * and returns the loss; `embed(images)` returns the encoder's representation
 * for evaluation and transfer; `dispose()` frees every tensor the method owns
 * (heads, target networks, queues, centres, optimizer state — but not the
 * encoder you passed in).
 */
export interface PretextTask {
  /** The method's name, e.g. `'SimCLR'`. */
  readonly name: string;
  /** The encoder being trained (yours; the method never disposes it). */
  readonly encoder: ImageEncoder;
  /** Steps taken so far. */
  readonly steps: number;
  /** One optimisation step on a batch of unlabeled NHWC images in [0, 1]; returns the loss value. */
  step(images: tf.Tensor4D): number;
  /** Encoder features `[B, F]` in inference mode (no projector, no augmentation). */
  embed(images: tf.Tensor4D, options?: EmbedOptions): tf.Tensor2D;
  /** Frees what the method owns. */
  dispose(): void;
}

/**
 * Encoder features for a (possibly large) image set in inference mode,
 * batched; what {@link PretextTask.embed} does for every method.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { embedImages, mlpEncoder } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 1 });
 * const features = embedImages(encoder, tf.zeros([10, 8, 8, 1]) as tf.Tensor4D, { batchSize: 4 });
 * console.log(features.shape); // [10, 16]
 * ```
 */
export function embedImages(encoder: ImageEncoder, images: tf.Tensor4D, options: EmbedOptions = {}): tf.Tensor2D {
  const fn = 'embedImages';
  assertKnownOptions(options, ['batchSize'], fn);
  const { batchSize = 256 } = options;
  assertImages(images, fn);
  assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
  const n = images.shape[0];
  if (n <= batchSize) return encodeImages(encoder, images, false);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      parts.push(
        tf.tidy(() => encodeImages(encoder, tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D, false)),
      );
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}

/**
 * Shared machinery of the methods: the encoder, the optimizer, the step
 * counter, batched `embed`, and a `minimize` that runs one optimizer step on a
 * loss closure and returns the loss value. Subclasses implement `step`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { BasePretextTask, mlpEncoder, encodeImages } from 'selfsup';
 *
 * // A toy task: pull every feature towards zero.
 * class ShrinkFeatures extends BasePretextTask {
 *   readonly name = 'ShrinkFeatures';
 *   constructor() {
 *     super(mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 0 }), undefined, 0.01);
 *   }
 *   step(images: tf.Tensor4D): number {
 *     return this.minimize(
 *       () => tf.mean(tf.square(encodeImages(this.encoder, images, true))) as tf.Scalar,
 *       this.variablesOf(),
 *     );
 *   }
 * }
 * const task = new ShrinkFeatures();
 * console.log(task.step(tf.ones([2, 4, 4, 1]) as tf.Tensor4D), task.steps); // loss, 1
 * task.dispose();
 * ```
 */
export abstract class BasePretextTask implements PretextTask {
  abstract readonly name: string;
  readonly encoder: ImageEncoder;
  protected readonly optimizer: tf.Optimizer;
  private readonly ownsOptimizer: boolean;
  private stepCount = 0;

  /**
   * @param encoder the encoder to train (not disposed by the task).
   * @param optimizer the optimizer; when omitted, Adam with `learningRate` is
   *   created and owned (disposed) by the task.
   */
  protected constructor(encoder: ImageEncoder, optimizer: tf.Optimizer | undefined, learningRate = 1e-3) {
    this.encoder = encoder;
    this.ownsOptimizer = optimizer === undefined;
    this.optimizer = optimizer ?? tf.train.adam(learningRate);
  }

  get steps(): number {
    return this.stepCount;
  }

  abstract step(images: tf.Tensor4D): number;

  embed(images: tf.Tensor4D, options: EmbedOptions = {}): tf.Tensor2D {
    return embedImages(this.encoder, images, options);
  }

  /** Trainable variables of the encoder followed by those of `extra` models (heads). */
  protected variablesOf(...models: ModelWeights[]): tf.Variable[] {
    return [this.encoder, ...models].flatMap((m) => trainableVariables(m));
  }

  /**
   * One optimizer step: minimises `loss()` over `variables`, advances the step
   * counter and returns the loss value (read back synchronously).
   */
  protected minimize(loss: () => tf.Scalar, variables: tf.Variable[]): number {
    const value = this.optimizer.minimize(loss, true, variables);
    const out = value ? (value.dataSync()[0] as number) : NaN;
    value?.dispose();
    this.stepCount++;
    return out;
  }

  /**
   * Everything needed to continue training exactly, as named tensors and
   * JSON ({@link TaskState}): every variable the task holds (encoder, heads,
   * batch-norm statistics, target networks), its optimizers' state (moments,
   * iteration counts), queues and memory banks, centres, the step count and
   * the position of its random stream. The tensors are new (cheap copies that
   * share storage until the task moves on): dispose them with
   * `disposeTaskState`. `saveCheckpoint` writes this to disk.
   *
   * A subclass gets this for free for state held in fields of the types the
   * protocol recognises (models, `tf.Variable`s, target networks, optimizers,
   * `Rng`s, `MemoryBank`s and other objects with `getState`/`setState`,
   * numeric typed arrays); plain counters and other values a step changes
   * must be named in {@link BasePretextTask.stateFields}.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs-core';
   * import { SimCLR, mlpEncoder, disposeTaskState } from 'selfsup';
   *
   * const make = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
   * const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
   * const a = make();
   * a.step(images);
   * const state = a.getState(); // after 1 step
   * const b = make();
   * b.setState(state); // b continues where a was
   * disposeTaskState(state);
   * console.log(a.step(images) === b.step(images), b.steps); // true 2
   * a.dispose();
   * b.dispose();
   * ```
   */
  getState(): TaskState {
    this.prepareState();
    return collectTaskState(this, this.stateHost(), `${this.name}.getState`);
  }

  /**
   * Restores a state from {@link BasePretextTask.getState} (of a task of the
   * same method, built with the same options and encoder architecture), all
   * or nothing: the method, the options and the kind, dtype and shape of
   * every piece are checked first, and a `CheckpointError` naming the first
   * difference leaves the task as it was. The task keeps its own copies:
   * dispose the state afterwards.
   */
  setState(state: TaskState): void {
    this.prepareState();
    restoreTaskState(this, state, this.stateHost(), `${this.name}.setState`);
  }

  /**
   * Creates the pieces of state a task makes on first use (an optimizer
   * built lazily), so that a fresh task holds every piece a checkpoint of a
   * trained one does. Called by `getState` and `setState`; a subclass with
   * its own lazy pieces extends it.
   */
  protected prepareState(): void {
    void this.optimizer;
  }

  /**
   * Names of the task's own fields that hold state the protocol cannot
   * recognise by type — counters, flags, lists, tensors that are not
   * variables — saved and restored as they are (JSON values, tensors and
   * numeric typed arrays). A subclass that adds such fields extends the
   * list: `return [...super.stateFields(), 'myCounter']`. Every other field
   * holding plain data is read as configuration and must match on load, so a
   * counter left out of this list makes loading fail with an "options
   * differ" error rather than resume wrongly.
   */
  protected stateFields(): string[] {
    return ['stepCount'];
  }

  private stateHost(): StateHost {
    return { name: this.name, steps: this.steps, stateFields: this.stateFields() };
  }

  dispose(): void {
    if (this.ownsOptimizer) this.optimizer.dispose();
  }
}
