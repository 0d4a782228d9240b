import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue, isTensor } from '../core/validate.js';
import {
  TrainingMonitor,
  type CollapseMonitorOptions,
  type DivergenceMonitorOptions,
  type TrainProgress,
  type TrainWarning,
} from './training-monitor.js';

/**
 * What a training step returns: its loss (a scalar tensor or a number), or the
 * loss with this step's embeddings (for the collapse check) and gradient
 * norm (for the explosion check: a method's `lastGradientNorm`). The loop
 * disposes every tensor it receives.
 */
export type StepResult = tf.Scalar | number | { loss: tf.Scalar | number; embeddings?: tf.Tensor2D; gradientNorm?: number };

/** Options of {@link TrainLoopOptions.checkpoint}: when the loop saves a checkpoint, and how. */
export interface TrainLoopCheckpointOptions {
  /**
   * Writes a checkpoint; called with the number of steps completed (the
   * `startStep` of a resumed run) and awaited before the next step. Usually
   * `(step) => saveCheckpoint(task, dir, { extra: { dataset: data.state() } })`.
   * Required.
   */
  save: (stepsDone: number) => void | Promise<void>;
  /**
   * Save after every `every` steps (when the steps completed are a multiple
   * of it, so a resumed run keeps the same schedule); 0 saves only at the end
   * and on a signal.
   * @default 0
   */
  every?: number;
  /**
   * Also save when the loop ends normally (completed, or stopped by
   * `onProgress`), unless that step was just saved. Never after a non-finite
   * loss.
   * @default true
   */
  atEnd?: boolean;
  /**
   * In Node, catch SIGINT (Ctrl-C) and SIGTERM while the loop runs: the step
   * in progress finishes, a checkpoint is saved, and the loop returns with
   * `stopReason: 'signal'` (exit afterwards if you want the process to end).
   * A second signal ends the process at once — the last checkpoint is safe,
   * saves being atomic. The loop yields to the event loop after every step
   * so that signals are seen.
   * @default false
   */
  onSignal?: boolean;
}

/**
 * A batch the loop hands to the step: any object with NHWC `images` (a
 * dataset's `Batch` from `selfsup/data` is one). The loop disposes it after
 * the step.
 */
export interface TrainBatch {
  /** The batch's images. */
  images: tf.Tensor4D;
  /** Its labels, if any. */
  labels?: tf.Tensor1D | null;
  /** Frees the batch's tensors (called by the loop after the step). */
  dispose?(): void;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions {
  /** Index one past the last step (steps run are `startStep … steps − 1`). Required. */
  steps: number;
  /**
   * Runs step i (forward, loss, optimizer update, EMA, queue …) and returns
   * its loss; with `batches`, it receives the step's batch. Required.
   */
  step: (i: number, batch?: TrainBatch) => StepResult | Promise<StepResult>;
  /**
   * Where the batches come from: a dataset's stream (`dataset.batches({ … })`
   * from `selfsup/data`) or any async iterator of `{ images }`. The loop
   * awaits each batch before the step (so the step can stay synchronous and
   * tidy), passes it as `step(i, batch)`, disposes it afterwards, and stops
   * with `stopReason: 'end-of-data'` when the stream ends.
   * @default undefined (the step gets its own data)
   */
  batches?: AsyncIterator<TrainBatch>;
  /**
   * First step index, to resume a run.
   * @default 0
   */
  startStep?: number;
  /**
   * Run each (synchronous) step inside `tf.tidy`, so intermediates cannot
   * leak. Async steps need `tidy: false` and must clean up themselves.
   * @default true
   */
  tidy?: boolean;
  /**
   * Called every `progressEvery` steps and after the last; return `false` to stop.
   * @default undefined
   */
  onProgress?: (progress: TrainProgress) => void | boolean | Promise<void | boolean>;
  /**
   * Steps between `onProgress` calls.
   * @default 1
   */
  progressEvery?: number;
  /**
   * What a NaN or infinite loss does: throw an error naming the step, stop
   * and return with `stopReason: 'non-finite-loss'`, or record it and go on
   * (`'skip'`: for a method built with `onNonFinite: 'skip'`, whose step
   * returns the refused step's loss without applying it). selfsup's methods
   * refuse a non-finite step before its update (see `onNonFinite`); a step
   * of your own should use `minimizeFinite` for the same guarantee.
   * @default 'throw'
   */
  onNonFiniteLoss?: 'throw' | 'stop' | 'skip';
  /**
   * Give the event loop a turn every this many steps (0: never), so a browser
   * page can repaint a progress display.
   * @default 0
   */
  yieldEvery?: number;
  /**
   * Samples per step, for samples/s.
   * @default undefined
   */
  batchSize?: number;
  /**
   * Steps in the running mean and throughput window.
   * @default 20
   */
  window?: number;
  /**
   * Collapse checks (see {@link TrainingMonitor}); `false` turns them off.
   * @default {}
   */
  collapse?: CollapseMonitorOptions | false;
  /**
   * Divergence checks (see {@link TrainingMonitor}); `false` turns them off.
   * @default {}
   */
  divergence?: DivergenceMonitorOptions | false;
  /**
   * Called when a collapse or divergence warning is raised.
   * @default undefined
   */
  onWarning?: (warning: TrainWarning) => void;
  /**
   * Save checkpoints as the loop runs: every N steps, at the end, and on
   * SIGINT/SIGTERM (see {@link TrainLoopCheckpointOptions}). Resume with
   * `startStep` set to the step the checkpoint returns.
   * @default undefined (no checkpoints)
   */
  checkpoint?: TrainLoopCheckpointOptions;
}

/** What {@link trainLoop} returns. */
export interface TrainLoopResult {
  /** The loss of every step run, in order. */
  losses: number[];
  /** Number of steps run. */
  stepsRun: number;
  /**
   * Why the loop ended (`'end-of-data'`: the `batches` stream ended; `'signal'`:
   * SIGINT or SIGTERM with `checkpoint.onSignal`).
   */
  stopReason: 'completed' | 'callback' | 'non-finite-loss' | 'end-of-data' | 'signal';
  /** The signal that stopped the loop, if one did. */
  signal: 'SIGINT' | 'SIGTERM' | null;
  /** The steps completed at each checkpoint the loop saved, in order. */
  checkpoints: number[];
  /** Wall-clock seconds. */
  seconds: number;
  /** Mean steps per second over the run. */
  stepsPerSecond: number;
  /** Mean samples per second, when `batchSize` was given. */
  samplesPerSecond: number | null;
  /** Collapse and divergence warnings raised. */
  warnings: TrainWarning[];
  /** Steps whose loss was not finite and that were skipped (`onNonFiniteLoss: 'skip'`). */
  skippedSteps: number;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

async function readStepResult(result: unknown, i: number): Promise<{ loss: number; embeddings?: tf.Tensor2D; gradientNorm?: number }> {
  const fn = 'trainLoop';
  const bad = () =>
    new InvalidArgumentError(fn, 'step', 'return a scalar tensor, a number or { loss, embeddings? }', `${describeValue(result)} at step ${i}`);
  let lossPart: unknown = result;
  let embeddings: tf.Tensor2D | undefined;
  let gradientNorm: number | undefined;
  if (typeof result === 'object' && result !== null && !isTensor(result)) {
    if (!('loss' in result)) throw bad();
    lossPart = (result as { loss: unknown }).loss;
    const g = (result as { gradientNorm?: unknown }).gradientNorm;
    if (g !== undefined) {
      if (typeof g !== 'number') throw bad();
      gradientNorm = g;
    }
    const e = (result as { embeddings?: unknown }).embeddings;
    if (e !== undefined) {
      if (!isTensor(e)) throw bad();
      embeddings = e as tf.Tensor2D;
    }
  }
  const extra = { ...(embeddings ? { embeddings } : {}), ...(gradientNorm !== undefined ? { gradientNorm } : {}) };
  if (typeof lossPart === 'number') return { loss: lossPart, ...extra };
  if (!isTensor(lossPart) || lossPart.size !== 1) {
    if (embeddings) embeddings.dispose();
    if (isTensor(lossPart)) lossPart.dispose();
    throw bad();
  }
  const value = (await lossPart.data())[0]!;
  lossPart.dispose();
  return { loss: value, ...extra };
}

/**
 * A small training loop you can use or skip: it calls `step(i)` for each step,
 * reads the loss, and reports progress (step, loss, running mean, steps/s and
 * samples/s, ETA, `tf.memory().numTensors`) to `onProgress`, with collapse
 * warnings from a {@link TrainingMonitor}. Each synchronous step runs inside
 * `tf.tidy`, so only variables (weights, optimizer slots, queues) persist
 * between steps; the tensors a step returns are disposed by the loop.
 *
 * The step does all the work (it usually calls `optimizer.minimize`), so the
 * loop fits every method; to write your own loop instead, use a
 * {@link TrainingMonitor} directly. A NaN loss throws by default, naming the
 * step (`onNonFiniteLoss: 'stop'` returns instead). With `checkpoint`, the
 * loop saves every N steps, at the end and on SIGINT/SIGTERM (see
 * {@link TrainLoopCheckpointOptions}); resume with `startStep`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { trainLoop } from 'selfsup';
 *
 * const w = tf.variable(tf.scalar(3));
 * const optimizer = tf.train.sgd(0.1);
 * const result = await trainLoop({
 *   steps: 20,
 *   batchSize: 1,
 *   step: () => optimizer.minimize(() => tf.square(w) as tf.Scalar, true, [w])!,
 *   onProgress: (p) => {
 *     if (p.step % 10 === 9) console.log(`step ${p.step + 1}/${p.steps} loss ${p.loss.toFixed(4)} ${p.numTensors} tensors`);
 *   },
 * });
 * console.log(result.stopReason, result.losses.at(-1)); // completed ≈ 0.0019
 * ```
 *
 * @example
 * ```ts
 * // Batches from a dataset (a folder, files or tensors), a method's step, a progress bar.
 * import * as tf from '@tensorflow/tfjs-core';
 * import { loadDigits, mlpEncoder, ProgressBar, SimCLR, tensorDataset, trainLoop } from 'selfsup';
 *
 * const { images, labels } = loadDigits({ limit: 64 });
 * const simclr = new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { seed: 1 });
 * const bar = new ProgressBar({ steps: 6, label: 'SimCLR', batchSize: 32 });
 * const result = await trainLoop({
 *   steps: 6,
 *   batchSize: 32,
 *   batches: tensorDataset(images).batches({ batchSize: 32, seed: 0, epochs: Infinity }),
 *   step: (_, batch) => simclr.step(batch!.images),
 *   onProgress: (p) => bar.update(p),
 * });
 * bar.done();
 * console.log(result.stepsRun, result.losses.length); // 6 6
 * simclr.encoder.dispose();
 * simclr.dispose();
 * tf.dispose([images, labels]);
 * ```
 */
export async function trainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const fn = 'trainLoop';
  options ??= {} as TrainLoopOptions;
  assertKnownOptions(
    options,
    [
      'steps',
      'step',
      'batches',
      'startStep',
      'tidy',
      'onProgress',
      'progressEvery',
      'onNonFiniteLoss',
      'yieldEvery',
      'batchSize',
      'window',
      'collapse',
      'divergence',
      'onWarning',
      'checkpoint',
    ],
    fn,
  );
  const { steps, step, startStep = 0, tidy = true, onProgress, progressEvery = 1, onNonFiniteLoss = 'throw', yieldEvery = 0 } = options;
  assertInteger(steps, fn, 'options.steps', { min: 0 });
  if (typeof step !== 'function') throw new InvalidArgumentError(fn, 'options.step', 'be a function (i) => loss', describeValue(step));
  assertInteger(startStep, fn, 'options.startStep', { min: 0, max: steps });
  assertOneOf(tidy, [true, false], fn, 'options.tidy');
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError(fn, 'options.onProgress', 'be a function', describeValue(onProgress));
  }
  assertInteger(progressEvery, fn, 'options.progressEvery', { min: 1 });
  assertOneOf(onNonFiniteLoss, ['throw', 'stop', 'skip'] as const, fn, 'options.onNonFiniteLoss');
  assertInteger(yieldEvery, fn, 'options.yieldEvery', { min: 0 });
  const batches = options.batches;
  if (batches !== undefined && (typeof batches !== 'object' || batches === null || typeof batches.next !== 'function')) {
    throw new InvalidArgumentError(fn, 'options.batches', 'be an async iterator of batches (dataset.batches())', describeValue(batches));
  }
  if (options.batchSize !== undefined) assertInteger(options.batchSize, fn, 'options.batchSize', { min: 1 });
  if (options.window !== undefined) assertInteger(options.window, fn, 'options.window', { min: 1 });
  const checkpoint = readCheckpointOptions(options.checkpoint, fn);
  const monitor = new TrainingMonitor({
    steps,
    window: options.window ?? 20,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.collapse !== undefined ? { collapse: options.collapse } : {}),
    ...(options.divergence !== undefined ? { divergence: options.divergence } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });

  /** Step i: inside `tf.tidy` when synchronous (intermediates cannot leak), awaited with `tidy: false`. */
  const runStep = async (i: number, batch: TrainBatch | undefined): Promise<unknown> => {
    if (!tidy) return step(i, batch);
    let pending: PromiseLike<unknown> | undefined;
    const raw = tf.tidy(() => {
      const r = step(i, batch);
      if (isThenable(r)) {
        pending = r;
        return undefined;
      }
      return r as tf.TensorContainer;
    });
    if (pending !== undefined) {
      // Its tensors were freed when tidy ended: the result cannot be trusted.
      Promise.resolve(pending).then(
        (r) => tf.dispose(r as tf.TensorContainer),
        () => undefined,
      );
      throw new InvalidArgumentError(
        fn,
        'options.step',
        'be synchronous when options.tidy is true (pass tidy: false for an async step and dispose its intermediates yourself)',
        `a Promise at step ${i}`,
      );
    }
    return raw;
  };

  const started = performance.now();
  let stopReason: TrainLoopResult['stopReason'] = 'completed';
  let stepsRun = 0;
  let skippedSteps = 0;
  const saved: number[] = [];
  const save = async (stepsDone: number) => {
    if (checkpoint === null || saved.at(-1) === stepsDone) return;
    await checkpoint.save(stepsDone);
    saved.push(stepsDone);
  };
  const signals = checkpoint?.onSignal ? watchSignals() : null;
  try {
    for (let i = startStep; i < steps; i++) {
      let batch: TrainBatch | undefined;
      if (batches !== undefined) {
        const next = await batches.next();
        if (next.done) {
          stopReason = 'end-of-data';
          // A normal end, like the last step: the steps run so far are saved.
          if (checkpoint?.atEnd && stepsRun > 0) await save(i);
          break;
        }
        batch = next.value;
        if (typeof batch !== 'object' || batch === null || !isTensor(batch.images)) {
          throw new InvalidArgumentError(fn, 'options.batches', 'yield batches with an images tensor', `${describeValue(batch)} at step ${i}`);
        }
      }
      let raw: unknown;
      try {
        raw = await runStep(i, batch);
      } finally {
        if (batch !== undefined) {
          if (typeof batch.dispose === 'function') batch.dispose();
          else tf.dispose([batch.images, ...(batch.labels ? [batch.labels] : [])]);
        }
      }
      const { loss, embeddings, gradientNorm } = await readStepResult(raw, i);
      let progress: TrainProgress;
      try {
        progress = monitor.record(loss, {
          step: i,
          ...(embeddings ? { embeddings } : {}),
          ...(gradientNorm !== undefined ? { gradientNorm } : {}),
        });
      } finally {
        embeddings?.dispose();
      }
      stepsRun++;
      if (!Number.isFinite(loss) && onNonFiniteLoss === 'skip') {
        skippedSteps++;
      } else if (!Number.isFinite(loss)) {
        if (onNonFiniteLoss === 'throw') {
          throw new SelfsupError(
            `${fn}: the loss at step ${i} is ${loss}; training diverged (lower the learning rate, check the inputs ` +
              `for NaN, or pass onNonFiniteLoss: 'stop'). selfsup's methods refuse such a step before its update; ` +
              `a step of your own should use minimizeFinite for that`,
          );
        }
        stopReason = 'non-finite-loss';
        if (onProgress) await onProgress(progress);
        break;
      }
      const last = i === steps - 1;
      let stop = false;
      if (onProgress && ((i - startStep + 1) % progressEvery === 0 || last)) {
        if ((await onProgress(progress)) === false) {
          stopReason = last ? 'completed' : 'callback';
          stop = !last;
        }
      }
      if (checkpoint !== null) {
        if (checkpoint.every > 0 && (i + 1) % checkpoint.every === 0) await save(i + 1);
        if (signals !== null) await signals.turn();
        if (signals?.received) {
          await save(i + 1);
          stopReason = 'signal';
          break;
        }
        if ((last || stop) && checkpoint.atEnd) await save(i + 1);
      }
      if (stop) break;
      if (yieldEvery > 0 && (i - startStep + 1) % yieldEvery === 0) await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    signals?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const stepsPerSecond = seconds > 0 ? stepsRun / seconds : 0;
  return {
    losses: monitor.losses,
    stepsRun,
    stopReason,
    seconds,
    stepsPerSecond,
    samplesPerSecond: options.batchSize !== undefined ? stepsPerSecond * options.batchSize : null,
    warnings: monitor.warnings,
    signal: signals?.received ?? null,
    checkpoints: saved,
    skippedSteps,
  };
}

function readCheckpointOptions(options: unknown, fn: string): Required<TrainLoopCheckpointOptions> | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(fn, 'options.checkpoint', 'be { save, every?, atEnd?, onSignal? }', describeValue(options));
  }
  assertKnownOptions(options, ['save', 'every', 'atEnd', 'onSignal'], fn, 'options.checkpoint');
  const { save, every = 0, atEnd = true, onSignal = false } = options as TrainLoopCheckpointOptions;
  if (typeof save !== 'function') {
    throw new InvalidArgumentError(fn, 'options.checkpoint.save', 'be a function (stepsDone) => void | Promise<void>', describeValue(save));
  }
  assertInteger(every, fn, 'options.checkpoint.every', { min: 0 });
  assertOneOf(atEnd, [true, false], fn, 'options.checkpoint.atEnd');
  assertOneOf(onSignal, [true, false], fn, 'options.checkpoint.onSignal');
  return { save, every, atEnd, onSignal };
}

type SignalName = 'SIGINT' | 'SIGTERM';
interface NodeProcess {
  pid: number;
  on(event: SignalName, listener: (signal: SignalName) => void): unknown;
  off(event: SignalName, listener: (signal: SignalName) => void): unknown;
  kill(pid: number, signal: SignalName): unknown;
}

/**
 * Listens for SIGINT and SIGTERM while the loop runs (Node only; elsewhere
 * nothing arrives). The first is recorded for the loop to stop at the next
 * step boundary; a second one removes the listeners and re-raises itself, so
 * the process ends as it would have without them.
 */
function watchSignals(): { readonly received: SignalName | null; turn(): Promise<void>; stop(): void } {
  const proc = (globalThis as { process?: Partial<NodeProcess> }).process;
  let received: SignalName | null = null;
  if (typeof proc?.on !== 'function' || typeof proc.off !== 'function') {
    return { received: null, turn: async () => undefined, stop: () => undefined };
  }
  const node = proc as NodeProcess;
  const stop = () => {
    node.off('SIGINT', listener);
    node.off('SIGTERM', listener);
  };
  const listener = (signal: SignalName) => {
    if (received === null) {
      received = signal;
      return;
    }
    stop();
    node.kill(node.pid, signal);
  };
  node.on('SIGINT', listener);
  node.on('SIGTERM', listener);
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  return {
    get received() {
      return received;
    },
    // A macrotask turn: signals are delivered by the event loop, never between microtasks.
    turn: () => new Promise<void>((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0))),
    stop,
  };
}
