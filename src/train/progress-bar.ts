import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { TrainingMonitor, type RecordOptions, type TrainProgress } from './training-monitor.js';

/** Where a {@link ProgressBar} writes: a Node stream (`process.stderr`), or anything with `write`. */
export interface ProgressStream {
  write(text: string): unknown;
  /** A terminal: the bar is redrawn in place. */
  isTTY?: boolean;
  /** The terminal's width, to fit the line. */
  columns?: number;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /**
   * Total steps, for the bar, the percentage and the ETA.
   * @default undefined (a step count without a bar)
   */
  steps?: number;
  /**
   * Text in front of the bar, e.g. the method's name.
   * @default ''
   */
  label?: string;
  /**
   * Images (samples) per step, for images/s.
   * @default undefined (steps/s is shown)
   */
  batchSize?: number;
  /**
   * Where to write.
   * @default process.stderr in Node (the terminal, while stdout stays free for data); a browser has no default
   */
  stream?: ProgressStream;
  /**
   * `'bar'` redraws one line in place (a terminal), `'lines'` prints plain
   * log lines (a pipe, a CI log, a file), `'auto'` picks `'bar'` when the
   * stream is a TTY.
   * @default 'auto'
   */
  mode?: 'auto' | 'bar' | 'lines';
  /**
   * In `'lines'` mode, a line every this many steps.
   * @default a tenth of `steps` (every 50 steps without a total)
   */
  logEvery?: number;
  /**
   * Steps in the running loss mean and throughput window.
   * @default 20
   */
  window?: number;
}

/** Extra values shown after the standard ones, e.g. `{ lr: 0.001 }`. */
export type ProgressExtras = Record<string, string | number>;

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(1) : v.toFixed(4);
}

function formatRate(p: TrainProgress): string {
  if (p.samplesPerSecond !== null && Number.isFinite(p.samplesPerSecond)) return `${p.samplesPerSecond.toFixed(p.samplesPerSecond < 10 ? 1 : 0)} img/s`;
  return Number.isFinite(p.stepsPerSecond) ? `${p.stepsPerSecond.toFixed(2)} steps/s` : '';
}

/**
 * One line of progress: step/total, loss and its running mean, images/s,
 * elapsed time and ETA, live tensors, and any extras. `bar` draws a
 * `[#####.....]` bar of that width (0: none). What {@link ProgressBar}
 * writes; also handy for a browser page's status line.
 *
 * @example
 * ```ts
 * import { formatProgress } from 'selfsup';
 *
 * const line = formatProgress(
 *   { step: 9, steps: 40, loss: 4.1, averageLoss: 4.25, stepsPerSecond: 2, samplesPerSecond: 512, elapsedSeconds: 5, etaSeconds: 15, numTensors: 182, embeddingStd: null, warnings: [] },
 *   { label: 'SimCLR', bar: 20, extras: { lr: 0.001 } },
 * );
 * console.log(line); // SimCLR [#####...............] 10/40 25% loss 4.1000 (avg 4.2500) 512 img/s 5s ETA 15s 182 tensors lr 0.0010
 * ```
 */
export function formatProgress(progress: TrainProgress, options: { label?: string; bar?: number; extras?: ProgressExtras } = {}): string {
  const { label = '', bar = 0, extras = {} } = options;
  const done = progress.step + 1;
  const parts: string[] = [];
  if (label) parts.push(label);
  if (progress.steps !== null) {
    const fraction = Math.min(1, Math.max(0, done / progress.steps));
    if (bar > 0) {
      const filled = Math.round(fraction * bar);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(bar - filled)}]`);
    }
    parts.push(`${done}/${progress.steps}`, `${Math.floor(fraction * 100)}%`);
  } else {
    parts.push(`step ${done}`);
  }
  parts.push(`loss ${formatNumber(progress.loss)}`, `(avg ${formatNumber(progress.averageLoss)})`);
  const rate = formatRate(progress);
  if (rate) parts.push(rate);
  parts.push(formatDuration(progress.elapsedSeconds));
  if (progress.steps !== null) parts.push(`ETA ${formatDuration(progress.etaSeconds)}`);
  parts.push(`${progress.numTensors} tensors`);
  for (const [k, v] of Object.entries(extras)) parts.push(`${k} ${typeof v === 'number' ? formatNumber(v) : v}`);
  return parts.join(' ');
}

function defaultStream(): ProgressStream | undefined {
  const proc = (globalThis as { process?: { stderr?: ProgressStream } }).process;
  return proc?.stderr;
}

/**
 * A training progress display: in a terminal one line redrawn in place —
 * `label [#####.....] step/total pct loss (avg) img/s elapsed ETA tensors` —
 * and, when the output is not a terminal (a pipe, a CI log), plain log lines
 * every `logEvery` steps. Feed it each step's loss with {@link ProgressBar.record}
 * (it keeps a {@link TrainingMonitor} for the running mean, throughput and
 * ETA), or pass it `trainLoop`'s progress with {@link ProgressBar.update}
 * (`onProgress: (p) => bar.update(p)`); finish with {@link ProgressBar.done}.
 *
 * @example
 * ```ts
 * import { ProgressBar } from 'selfsup';
 *
 * const lines: string[] = [];
 * const bar = new ProgressBar({ steps: 4, label: 'demo', batchSize: 32, stream: { write: (t) => lines.push(t) } });
 * for (let step = 0; step < 4; step++) bar.record(2 - step * 0.1);
 * bar.done();
 * console.log(lines.join('')); // "demo 1/4 25% loss 2.0000 (avg 2.0000) … 0 tensors" …: plain lines, the stream is not a terminal
 * ```
 */
export class ProgressBar {
  private readonly label: string;
  private readonly steps: number | null;
  private readonly stream: ProgressStream | undefined;
  private readonly tty: boolean;
  private readonly logEvery: number;
  private readonly monitor: TrainingMonitor;
  private last: TrainProgress | null = null;
  private lastExtras: ProgressExtras = {};
  private lastDraw = 0;
  private lastLogged = -1;
  private finished = false;

  constructor(options: ProgressBarOptions = {}) {
    const fn = 'ProgressBar';
    assertKnownOptions(options, ['steps', 'label', 'batchSize', 'stream', 'mode', 'logEvery', 'window'], fn);
    const { steps, label = '', batchSize, mode = 'auto', window = 20 } = options ?? {};
    if (steps !== undefined) assertInteger(steps, fn, 'options.steps', { min: 1 });
    if (typeof label !== 'string') throw new InvalidArgumentError(fn, 'options.label', 'be a string', describeValue(label));
    if (batchSize !== undefined) assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
    assertOneOf(mode, ['auto', 'bar', 'lines'] as const, fn, 'options.mode');
    const stream = options?.stream ?? defaultStream();
    if (stream !== undefined && (typeof stream !== 'object' || stream === null || typeof stream.write !== 'function')) {
      throw new InvalidArgumentError(fn, 'options.stream', 'have a write(text) method (process.stderr, process.stdout, …)', describeValue(stream));
    }
    const logEvery = options?.logEvery ?? (steps !== undefined ? Math.max(1, Math.round(steps / 10)) : 50);
    assertInteger(logEvery, fn, 'options.logEvery', { min: 1 });
    this.label = label;
    this.steps = steps ?? null;
    this.stream = stream;
    this.tty = mode === 'bar' || (mode === 'auto' && stream?.isTTY === true);
    this.logEvery = logEvery;
    this.monitor = new TrainingMonitor({ ...(steps !== undefined ? { steps } : {}), ...(batchSize !== undefined ? { batchSize } : {}), window, collapse: false });
  }

  /**
   * Records one finished step's loss (a number or a scalar tensor, not
   * disposed) and redraws; returns the monitor's progress.
   */
  record(loss: number | tf.Scalar, options: RecordOptions & { extras?: ProgressExtras } = {}): TrainProgress {
    const { extras, ...rest } = options ?? {};
    const progress = this.monitor.record(loss, rest);
    this.update(progress, extras);
    return progress;
  }

  /** Shows a progress report (e.g. `trainLoop`'s `onProgress` argument), with optional extra values. */
  update(progress: TrainProgress, extras: ProgressExtras = {}): void {
    this.last = progress;
    this.lastExtras = extras;
    if (this.stream === undefined || this.finished) return;
    const done = progress.step + 1;
    const final = this.steps !== null && done >= this.steps;
    if (this.tty) {
      const now = Date.now();
      // Redraws at most ten times a second: a terminal write per step would cost more than a small step.
      if (now - this.lastDraw < 100 && !final) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.fit(formatProgress(progress, { label: this.label, bar: 24, extras }))}\x1b[K`);
    } else if (done % this.logEvery === 0 || done === 1 || (final && this.lastLogged !== done)) {
      if (this.lastLogged === done) return;
      this.lastLogged = done;
      this.stream.write(`${this.plain(progress, extras)}\n`);
    }
  }

  /** Ends the display: the final line in full (a newline after the bar in a terminal) and an optional message. */
  done(message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream === undefined) return;
    if (this.last !== null) {
      if (this.tty) this.stream.write(`\r${this.fit(formatProgress(this.last, { label: this.label, bar: 24, extras: this.lastExtras }))}\x1b[K\n`);
      else if (this.lastLogged !== this.last.step + 1) this.stream.write(`${this.plain(this.last, this.lastExtras)}\n`);
    }
    if (message !== undefined) this.stream.write(`${message}\n`);
  }

  private plain(progress: TrainProgress, extras: ProgressExtras): string {
    return formatProgress(progress, { label: this.label, extras });
  }

  private fit(line: string): string {
    const width = this.stream?.columns;
    return width !== undefined && width > 10 && line.length > width - 1 ? line.slice(0, width - 1) : line;
  }
}
