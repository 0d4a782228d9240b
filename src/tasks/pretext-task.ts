import * as tf from '@tensorflow/tfjs-core';
import { BackendError, DisposedError, NonFiniteError, SelfsupError, ShapeError, ValueRangeError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { assertInteger, assertKnownOptions, assertMinSize, assertOneOf, formatShape } from '../core/validate.js';
import {
  gradientsWithCheck,
  nonFiniteReason,
  optimizerIterations,
  setOptimizerIterations,
  VariableSnapshot,
  type NonFinitePolicy,
} from '../train/step-guard.js';
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
 * and returns the loss; `stepAsync(images)` does the same without any
 * synchronous read (for GPU backends); `embed(images)` returns the encoder's
 * representation for evaluation and transfer; `dispose()` frees every tensor
 * the method owns (heads, target networks, queues, centres, optimizer state —
 * but not the encoder you passed in).
 */
export interface PretextTask {
  /** The method's name, e.g. `'SimCLR'`. */
  readonly name: string;
  /** The encoder being trained (yours; the method never disposes it). */
  readonly encoder: ImageEncoder;
  /** Steps taken so far (skipped steps not counted). */
  readonly steps: number;
  /** Steps skipped because their loss or gradient was not finite (`onNonFinite: 'skip'`). */
  readonly skippedSteps: number;
  /** One optimisation step on a batch of unlabeled NHWC images in [0, 1]; returns the loss value. */
  step(images: tf.Tensor4D, paired?: tf.Tensor): number;
  /** {@link PretextTask.step} with every check read in one asynchronous read at the end (no synchronous read). */
  stepAsync(images: tf.Tensor4D, paired?: tf.Tensor): Promise<number>;
  /** Encoder features `[B, F]` in inference mode (no projector, no augmentation). */
  embed(images: tf.Tensor4D, options?: EmbedOptions): tf.Tensor2D;
  /** Frees what the method owns. Idempotent. */
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

/** Options of the guarded step every method shares ({@link BasePretextTask}). */
export interface StepGuardOptions {
  /**
   * What a step does when its loss or a gradient is NaN or infinite. Either
   * way the update is not applied: the weights, the optimizer state, the
   * batch-norm statistics and the EMA targets stay exactly as before the
   * step. `'throw'` throws a `NonFiniteError` naming the step, the loss and
   * the cause; `'skip'` returns the loss, counts the batch in `skippedSteps`
   * and goes on.
   * @default 'throw'
   */
  onNonFinite?: NonFinitePolicy;
}

/** The error of a batch outside [0, 1] (min and max as read from the device). */
function pixelRangeError(fn: string, arg: string, min: number, max: number): ValueRangeError {
  return new ValueRangeError(fn, arg, 'have pixel values in [0, 1]', Number.isNaN(min) || Number.isNaN(max) ? 'NaN or infinite values' : `values in [${min}, ${max}]`);
}

/** A refused step's way out of the method's code to {@link BasePretextTask}'s step (`onNonFinite: 'skip'`). */
class SkippedStep extends Error {
  constructor(readonly loss: number) {
    super('skipped step');
  }
}

/** A check read at the end of an asynchronous step: the input's range, or a minimize's `[loss, ‖g‖²]`. */
type PendingCheck =
  | { kind: 'pixels'; summary: tf.Tensor; fn: string; arg: string }
  | { kind: 'update'; check: tf.Tensor; fn: string };

/** JS state a step changes besides variables: put back when the step is refused, finalised when it commits. */
export interface StepState {
  /** Puts the state back as it was before the step. */
  restore(): void;
  /** The step committed (e.g. dispose what the step replaced). */
  commit?(): void;
}

/**
 * Shared machinery of the methods: the encoder, the optimizer (created on
 * first use, so a constructor that throws leaks nothing), the step counter,
 * batched `embed`, the shared input check, and the guarded step:
 *
 * - `step(images)` runs the method's {@link BasePretextTask.runStep} as a
 *   transaction. Every variable (weights, batch-norm statistics, optimizer
 *   slots, EMA targets, queues) is held at the start without copying; if the
 *   step throws — a NaN loss, a refused size, anything — they are all put
 *   back, so a failed step changes nothing.
 * - `minimize(loss, variables)` computes the gradients and one fused check
 *   (the loss and the global squared gradient norm, read together) and
 *   applies the update only when both are finite.
 * - `stepAsync(images)` runs the same code with no synchronous read: the
 *   input range and every update's check are computed on the device and
 *   read with the loss in one asynchronous read at the end; the updates are
 *   applied optimistically and rolled back if a check fails. Use it on GPU
 *   backends (webgpu refuses `step`: its synchronous reads are wrong there).
 *
 * Subclasses implement `runStep` (and, for JS state a step changes,
 * `saveState`).
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
 *   protected runStep(images: tf.Tensor4D): number {
 *     this.checkBatch(images, [4, 4, 1]);
 *     return this.minimize(
 *       () => tf.mean(tf.square(encodeImages(this.encoder, images, true))) as tf.Scalar,
 *       this.variablesOf(),
 *     );
 *   }
 * }
 * const task = new ShrinkFeatures();
 * console.log(task.step(tf.ones([2, 4, 4, 1]) as tf.Tensor4D), task.steps); // loss, 1
 * console.log(await task.stepAsync(tf.ones([2, 4, 4, 1]) as tf.Tensor4D), task.steps); // loss, 2
 * task.dispose();
 * task.dispose(); // idempotent
 * ```
 */
export abstract class BasePretextTask implements PretextTask {
  abstract readonly name: string;
  readonly encoder: ImageEncoder;
  /** What a NaN or infinite loss or gradient does (see {@link StepGuardOptions.onNonFinite}). */
  readonly onNonFinite: NonFinitePolicy;
  private optimizerInstance: tf.Optimizer | null;
  private readonly makeOptimizer: () => tf.Optimizer;
  private readonly ownsOptimizer: boolean;
  private stepCount = 0;
  private skippedCount = 0;
  private gradientNormValue = NaN;
  private disposedFlag = false;
  private guardMode: 'sync' | 'async' | null = null;
  private guardChecks: PendingCheck[] = [];
  private updatesInStep = 0;
  private readonly primedVariables = new WeakSet<tf.Variable>();

  /**
   * @param encoder the encoder to train (not disposed by the task).
   * @param optimizer the optimizer (yours: never disposed by the task); a
   *   function making one, or nothing for Adam with `learningRate`: created
   *   on first use and owned (disposed) by the task.
   * @param learningRate Adam's learning rate when no optimizer is given.
   * @param guard what a non-finite loss or gradient does (validated here).
   */
  protected constructor(
    encoder: ImageEncoder,
    optimizer: tf.Optimizer | (() => tf.Optimizer) | undefined,
    learningRate = 1e-3,
    guard: StepGuardOptions = {},
  ) {
    const { onNonFinite = 'throw' } = guard;
    assertOneOf(onNonFinite, ['throw', 'skip'] as const, new.target.name, 'options.onNonFinite');
    this.encoder = encoder;
    const given = typeof optimizer === 'object' && optimizer !== null;
    this.ownsOptimizer = !given;
    this.optimizerInstance = given ? optimizer : null;
    this.makeOptimizer = typeof optimizer === 'function' ? optimizer : () => tf.train.adam(learningRate);
    this.onNonFinite = onNonFinite;
  }

  /** The optimizer (the task's own Adam is created here, on first use). */
  protected get optimizer(): tf.Optimizer {
    if (this.optimizerInstance === null) {
      this.assertLive(`${this.name}.optimizer`);
      this.optimizerInstance = this.makeOptimizer();
    }
    return this.optimizerInstance;
  }

  get steps(): number {
    return this.stepCount;
  }

  /** Steps skipped because their loss or gradient was not finite (with `onNonFinite: 'skip'`). */
  get skippedSteps(): number {
    return this.skippedCount;
  }

  /** The global L2 norm of the last applied step's gradient (NaN before the first step). */
  get lastGradientNorm(): number {
    return this.gradientNormValue;
  }

  /** Whether {@link BasePretextTask.dispose} ran. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /**
   * One optimisation step on a batch of unlabeled NHWC images in [0, 1]
   * (multimodal tasks take the paired input second); returns the loss. The
   * batch is checked first (shape, dtype, values finite and in [0, 1]); a
   * NaN or infinite loss or gradient is caught before the update (see
   * {@link StepGuardOptions.onNonFinite}); a step that throws leaves every
   * weight, optimizer slot and target as it was.
   */
  step(images: tf.Tensor4D, paired?: tf.Tensor): number {
    const fn = `${this.name}.step`;
    this.assertLive(fn);
    if (tf.getBackend() === 'webgpu') {
      // tfjs-webgpu reads synchronously through a canvas copy that returns 0 for reductions (Chromium's
      // software adapter): the loss and the checks would be garbage, so the guarded step cannot run.
      throw new BackendError(
        `${fn}: the webgpu backend cannot read results synchronously (its synchronous reads return 0 on some adapters and stall the GPU on all): use await ${this.name.replace(/^CLIP$/, 'Clip')}.stepAsync(images) instead`,
      );
    }
    const transaction = this.begin('sync');
    try {
      const loss = this.runStep(images, paired);
      transaction.commit();
      return loss;
    } catch (e) {
      return transaction.rollback(e, fn);
    }
  }

  /**
   * {@link BasePretextTask.step} for GPU backends: nothing is read
   * synchronously. The input's range and the finite checks of the update are
   * computed on the device and read together with the loss in one
   * asynchronous read at the end; if a check fails, the step is rolled back
   * (weights, optimizer state, targets and queues as before) and it rejects
   * with the error `step` would throw (or resolves with the loss when
   * skipping). Same results as `step` on every backend. Do not start another
   * step of the same method before it settles.
   */
  async stepAsync(images: tf.Tensor4D, paired?: tf.Tensor): Promise<number> {
    const fn = `${this.name}.stepAsync`;
    this.assertLive(fn);
    if (this.guardMode !== null) throw new SelfsupError(`${fn}: a step of this ${this.name} is still running; await it first`);
    const transaction = this.begin('async');
    let loss: number;
    let checks: PendingCheck[];
    try {
      loss = this.runStep(images, paired);
      checks = this.guardChecks;
      this.guardChecks = [];
      this.guardMode = null;
    } catch (e) {
      return transaction.rollback(await this.inputErrorFirst(e), fn);
    }
    const all = tf.tidy(() =>
      checks.length === 0 ? tf.zeros([0]) : tf.concat(checks.map((c) => tf.reshape(c.kind === 'pixels' ? c.summary : c.check, [-1])), 0),
    );
    tf.dispose(checks.map((c) => (c.kind === 'pixels' ? c.summary : c.check)));
    let values: Float32Array;
    try {
      values = (await all.data()) as Float32Array;
    } catch (e) {
      all.dispose();
      return transaction.rollback(e, fn);
    }
    all.dispose();
    try {
      let offset = 0;
      let first: number | undefined;
      for (const c of checks) {
        const a = values[offset]!;
        const b = values[offset + 1]!;
        offset += 2;
        if (c.kind === 'pixels') {
          if (!(a >= 0 && b <= 1)) throw pixelRangeError(c.fn, c.arg, a, b);
          continue;
        }
        first ??= a;
        const reason = nonFiniteReason(a, b);
        if (reason !== null) this.refuse(c.fn, a, reason);
        this.gradientNormValue = Math.sqrt(b);
      }
      transaction.commit();
      return first ?? loss;
    } catch (e) {
      return transaction.rollback(e, fn);
    }
  }

  /**
   * The method's step on `images` (and the paired input of a multimodal
   * task): check the batch ({@link BasePretextTask.checkBatch}), compute the
   * loss, call {@link BasePretextTask.minimize}, update the method's state;
   * returns the loss. Runs inside the transaction of `step`/`stepAsync`.
   */
  protected abstract runStep(images: tf.Tensor4D, paired?: tf.Tensor): number;

  embed(images: tf.Tensor4D, options: EmbedOptions = {}): tf.Tensor2D {
    this.assertLive(`${this.name}.embed`);
    return embedImages(this.encoder, images, options);
  }

  /** Trainable variables of the encoder followed by those of `extra` models (heads). */
  protected variablesOf(...models: ModelWeights[]): tf.Variable[] {
    return [this.encoder, ...models].flatMap((m) => trainableVariables(m));
  }

  /**
   * The shared check of a training batch: a float32 NHWC tensor (of
   * `imageShape` `[H, W, C]` when given, with at least `minBatch` images)
   * whose values are finite and in [0, 1]. In `step` the range is read at
   * once (one 2-value read) and a bad batch throws before any work; in
   * `stepAsync` it is read with the loss at the end.
   */
  protected checkBatch(
    images: unknown,
    imageShape: readonly number[] | null,
    minBatch = 1,
    fn = `${this.name}.step`,
    arg = 'images',
  ): asserts images is tf.Tensor4D {
    assertImages(images, fn, arg);
    if (imageShape !== null) {
      const [, h, w, c] = images.shape;
      if (h !== imageShape[0] || w !== imageShape[1] || c !== imageShape[2]) {
        throw new ShapeError(fn, arg, `have shape [B, ${imageShape.join(', ')}] (the encoder's input)`, formatShape(images.shape));
      }
    }
    if (minBatch > 1) assertMinSize(images, 0, minBatch, fn, arg, 'B', 'the loss compares samples within the batch');
    else if (images.shape[0] < 1) assertMinSize(images, 0, 1, fn, arg, 'B');
    if (images.size === 0) return;
    const summary = tf.tidy(() => {
      // sum·0 is 0 for finite input and NaN when any value is NaN or infinite.
      const poison = tf.mul(tf.sum(images), 0);
      return tf.stack([tf.add(tf.min(images), poison), tf.add(tf.max(images), poison)]);
    });
    if (this.guardMode === 'async') {
      this.guardChecks.push({ kind: 'pixels', summary, fn, arg });
      return;
    }
    const [min, max] = summary.dataSync() as Float32Array;
    summary.dispose();
    if (!(min! >= 0 && max! <= 1)) throw pixelRangeError(fn, arg, min!, max!);
  }

  /**
   * One guarded optimizer step: the gradients of `loss()` over `variables`
   * and one fused check (`[loss, ‖g‖²]`); the update is applied only when
   * both are finite (else the step is refused: see
   * {@link StepGuardOptions.onNonFinite}). Advances the step counter and
   * returns the loss value (NaN inside `stepAsync`, which reads it at the end).
   */
  protected minimize(loss: () => tf.Scalar, variables: tf.Variable[], optimizer: tf.Optimizer = this.optimizer): number {
    return this.minimizeGroups(loss, [[optimizer, variables]]);
  }

  /**
   * {@link BasePretextTask.minimize} with one gradient computation and one
   * check for several optimizers, each updating its own variables (e.g. an
   * encoder and a head with separate learning rates).
   */
  protected minimizeGroups(loss: () => tf.Scalar, groups: readonly (readonly [tf.Optimizer, tf.Variable[]])[]): number {
    const fn = `${this.name}.step`;
    const all = groups.flatMap(([, vars]) => vars);
    const { grads, check } = gradientsWithCheck(groups[0]![0], loss, all);
    const apply = () => {
      for (const [optimizer, vars] of groups) {
        const names = new Set(vars.map((v) => v.name));
        const part = grads.filter((g) => names.has(g.name));
        if (part.length > 0) optimizer.applyGradients(part);
      }
    };
    try {
      if (this.guardMode === 'async') {
        // Applied optimistically; the check is read with the loss at the end and the step rolled back if it fails.
        for (const [optimizer, vars] of groups) this.primeOptimizer(optimizer, vars);
        apply();
        this.guardChecks.push({ kind: 'update', check, fn });
        this.countUpdate();
        return NaN;
      }
      const [value, normSq] = check.dataSync() as Float32Array;
      check.dispose();
      const reason = nonFiniteReason(value!, normSq!);
      if (reason !== null) this.refuse(fn, value!, reason);
      apply();
      this.gradientNormValue = Math.sqrt(normSq!);
      this.countUpdate();
      return value!;
    } catch (e) {
      if (!check.isDisposed && this.guardMode !== 'async') check.dispose();
      throw e;
    } finally {
      tf.dispose(grads.map((g) => g.tensor));
    }
  }

  /**
   * JS state the method's step changes besides tf variables (counters,
   * queue positions), captured at the start of each step: `restore()` runs
   * when the step is refused. Override it (calling `super.saveState()`) when
   * a method keeps such state; variables are restored without it.
   */
  protected saveState(): StepState {
    const steps = this.stepCount;
    const optimizer = this.optimizerInstance;
    const iterations = optimizer === null ? undefined : optimizerIterations(optimizer);
    return {
      restore: () => {
        this.stepCount = steps;
        if (optimizer !== null) setOptimizerIterations(optimizer, iterations);
      },
    };
  }

  /** Throws a {@link DisposedError} if the method was disposed. */
  protected assertLive(fn: string): void {
    if (this.disposedFlag) throw new DisposedError(fn, `a ${this.name}`);
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
    // The steps taken and those the guard skipped.
    return ['stepCount', 'skippedCount'];
  }

  private stateHost(): StateHost {
    return { name: this.name, steps: this.steps, stateFields: this.stateFields(), pieceNames: { optimizerInstance: 'optimizer' } };
  }

  /** Frees what the method owns (the owned optimizer here; subclasses add their heads). Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (this.ownsOptimizer) this.optimizerInstance?.dispose();
  }

  /** A step counts once however many updates it applies (a GAN's generator and discriminator). */
  private countUpdate(): void {
    if (this.guardMode === null || this.updatesInStep++ === 0) this.stepCount++;
  }

  /**
   * In `stepAsync`, a step that failed may have failed because of a batch
   * whose range check was deferred (a NaN pixel makes a method's own
   * statistics NaN): the bad batch is the error to report.
   */
  private async inputErrorFirst(e: unknown): Promise<unknown> {
    if (e instanceof ValueRangeError) return e;
    try {
      for (const c of this.guardChecks) {
        if (c.kind !== 'pixels') continue;
        const [a, b] = (await c.summary.data()) as Float32Array;
        if (!(a! >= 0 && b! <= 1)) return pixelRangeError(c.fn, c.arg, a!, b!);
      }
    } catch {
      // The original failure is reported.
    }
    return e;
  }

  /**
   * Refuses the running step for a non-finite value found outside
   * {@link BasePretextTask.minimize} (e.g. a method's own statistics): a
   * `NonFiniteError`, or a skip under `onNonFinite: 'skip'`; the step's
   * transaction then puts everything back.
   */
  protected refuse(fn: string, loss: number, reason: string): never {
    if (this.onNonFinite === 'skip') throw new SkippedStep(loss);
    throw new NonFiniteError(fn, this.stepCount, loss, reason);
  }

  /**
   * Creates the optimizer's slots for `variables` before an optimistic
   * update, so that a rolled-back step leaves no slot holding its update:
   * tfjs optimizers create their slots on first use, and every one of them
   * leaves a fresh slot at its initial value after a zero gradient. The
   * zero step's other effects are undone from a snapshot.
   */
  private primeOptimizer(optimizer: tf.Optimizer, variables: tf.Variable[]): void {
    const fresh = variables.filter((v) => !this.primedVariables.has(v));
    if (fresh.length === 0) return;
    const snapshot = new VariableSnapshot();
    const iterations = optimizerIterations(optimizer);
    tf.tidy(() => optimizer.applyGradients(fresh.map((v) => ({ name: v.name, tensor: tf.zerosLike(v) }))));
    setOptimizerIterations(optimizer, iterations);
    snapshot.restore();
    for (const v of fresh) this.primedVariables.add(v);
  }

  private begin(mode: 'sync' | 'async'): { commit(): void; rollback(e: unknown, fn: string): number } {
    const snapshot = new VariableSnapshot();
    let state: StepState;
    try {
      state = this.saveState();
    } catch (e) {
      snapshot.release();
      throw e;
    }
    this.guardMode = mode;
    this.guardChecks = [];
    this.updatesInStep = 0;
    return {
      commit: () => {
        this.guardMode = null;
        snapshot.release();
        state.commit?.();
      },
      rollback: (e: unknown, fn: string): number => {
        this.guardMode = null;
        tf.dispose(this.guardChecks.map((c) => (c.kind === 'pixels' ? c.summary : c.check)));
        this.guardChecks = [];
        snapshot.restore();
        state.restore();
        if (e instanceof SkippedStep) {
          this.skippedCount++;
          return e.loss;
        }
        if (e instanceof SelfsupError) throw e;
        throw new BackendError(`${fn}: the step failed in tfjs and was rolled back (${(e as Error)?.message ?? String(e)})`);
      },
    };
  }
}
