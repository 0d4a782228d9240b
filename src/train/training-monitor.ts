import * as tf from '@tensorflow/tfjs-core';
import { assertFiniteNumber, assertInteger, assertKnownOptions, assertNonNegative, assertPositive, assertRank, isTensor } from '../core/validate.js';
import { InvalidArgumentError } from '../core/errors.js';
import { detectCollapse, type CollapseWarning } from '../eval/collapse.js';
import { embeddingStd } from '../eval/embedding-std.js';

/** When the collapse checks of a {@link TrainingMonitor} fire. */
export interface CollapseMonitorOptions {
  /**
   * The loss at uniform output, ln K (see `detectCollapse`); without it only
   * the embedding spread is checked.
   * @default undefined
   */
  uniformLoss?: number;
  /**
   * Relative distance to `uniformLoss` that counts as "at" it.
   * @default 0.01
   */
  lossTolerance?: number;
  /**
   * Normalised std below `minStdRatio/√D` counts as collapsed.
   * @default 0.1
   */
  minStdRatio?: number;
  /**
   * Consecutive checked steps a sign must persist before the warning is raised
   * (the first steps of training legitimately sit near ln K).
   * @default 50
   */
  patience?: number;
}

/** When the divergence checks of a {@link TrainingMonitor} fire. */
export interface DivergenceMonitorOptions {
  /**
   * Steps over which growth is measured: the loss (or gradient norm) now is
   * compared with the median of the first half of the last `window` steps
   * (of the steps so far, from the second step on).
   * @default 50
   */
  window?: number;
  /**
   * Factor by which |loss| must exceed that median (or 1, if the median is
   * smaller: a loss rising from near 0 to a few units, as BYOL's does, is
   * not a blow-up): a finite blow-up (VICReg at Adam lr 10 goes 20.9 →
   * 1.2e15).
   * @default 100 (two orders of magnitude)
   */
  lossGrowth?: number;
  /**
   * Factor by which the gradient norm must exceed that median (needs
   * `gradientNorm` in {@link TrainingMonitor.record}; selfsup's methods
   * report theirs as `lastGradientNorm`).
   * @default 1000
   */
  gradientGrowth?: number;
  /**
   * Relative change of the loss from one step to the next below which it
   * counts as pinned (a dead or collapsed network: SimCLR at SGD lr 1e8 sits
   * exactly at ln 127 for its batch of 64).
   * @default 1e-6
   */
  pinnedTolerance?: number;
  /**
   * Consecutive steps the loss must stay pinned before the warning.
   * @default 50
   */
  pinnedPatience?: number;
}

/** A warning raised during training, with the step it was raised at. */
export interface TrainWarning extends Omit<CollapseWarning, 'kind'> {
  /**
   * What was seen: the collapse signs of `detectCollapse` (`'uniform-loss'`,
   * `'collapsed-embeddings'`), a loss growing by orders of magnitude
   * (`'diverging-loss'`), a gradient-norm explosion (`'exploding-gradient'`),
   * or a loss that stopped moving (`'pinned-loss'`).
   */
  kind: CollapseWarning['kind'] | 'diverging-loss' | 'exploding-gradient' | 'pinned-loss';
  /** The step at which the sign was raised. */
  step: number;
}

/** Options of the {@link TrainingMonitor} constructor. */
export interface TrainingMonitorOptions {
  /**
   * Total steps, for the time estimate.
   * @default undefined (no estimate)
   */
  steps?: number;
  /**
   * Samples per step, for samples/s.
   * @default undefined (samples/s is null)
   */
  batchSize?: number;
  /**
   * Steps in the running loss mean and the throughput window.
   * @default 20
   */
  window?: number;
  /**
   * Collapse checks; `false` turns them off.
   * @default {} (embedding-spread check only, patience 50)
   */
  collapse?: CollapseMonitorOptions | false;
  /**
   * Divergence checks (loss growth, gradient explosion, pinned loss); `false`
   * turns them off.
   * @default {}
   */
  divergence?: DivergenceMonitorOptions | false;
  /**
   * Called once when a collapse or divergence sign is raised (again only
   * after it clears and comes back). Library code never logs.
   * @default undefined
   */
  onWarning?: (warning: TrainWarning) => void;
}

/** What a {@link TrainingMonitor} reports after each step (and `trainLoop` passes to `onProgress`). */
export interface TrainProgress {
  /** The step just recorded. */
  step: number;
  /** Total steps, when known. */
  steps: number | null;
  /** This step's loss. */
  loss: number;
  /** Mean loss over the last `window` steps. */
  averageLoss: number;
  /** Steps per second over the last `window` steps. */
  stepsPerSecond: number;
  /** Samples per second (`stepsPerSecond × batchSize`), when the batch size is known. */
  samplesPerSecond: number | null;
  /** Seconds since the monitor was created. */
  elapsedSeconds: number;
  /** Estimated seconds to the last step, when the total is known. */
  etaSeconds: number | null;
  /** `tf.memory().numTensors` after the step: a steady value means no leak. */
  numTensors: number;
  /** The normalised embedding std of this step, when embeddings were given. */
  embeddingStd: number | null;
  /** Warnings raised at this step. */
  warnings: TrainWarning[];
}

/** Extra observations for {@link TrainingMonitor.record}. */
export interface RecordOptions {
  /**
   * The step number.
   * @default the previous step + 1 (0 first)
   */
  step?: number;
  /** This step's embeddings `[N, D]`, for the std collapse check (not disposed). */
  embeddings?: tf.Tensor2D;
  /**
   * This step's global gradient norm, for the explosion check (a method's
   * `lastGradientNorm`).
   * @default undefined (not checked)
   */
  gradientNorm?: number;
}

/**
 * Progress bookkeeping for a training loop you write yourself (`trainLoop`
 * uses it too): call {@link TrainingMonitor.record} once per step with the
 * loss, and it returns the running loss, throughput (steps/s, samples/s),
 * elapsed time and ETA, the live tensor count, and warnings: collapse (the
 * loss sitting at its uniform-output value ln K, or the normalised embedding
 * std falling below `minStdRatio/√D`, each for `patience` consecutive steps;
 * see `detectCollapse` in `selfsup/eval`) and divergence (the loss growing
 * by orders of magnitude over a window, the gradient norm exploding, or the
 * loss pinned at one value), each with the step it was seen at. Create it right before the first step;
 * throughput is measured between calls to `record`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { TrainingMonitor } from 'selfsup';
 *
 * const monitor = new TrainingMonitor({ steps: 3, batchSize: 32, collapse: { uniformLoss: Math.log(63), patience: 2 } });
 * for (let step = 0; step < 3; step++) {
 *   const loss = 4.14; // ln 63 = 4.143: stuck at uniform output
 *   const p = monitor.record(loss);
 *   console.log(p.step, p.averageLoss, p.samplesPerSecond, p.numTensors, p.warnings.map((w) => w.kind));
 * }
 * ```
 */
export class TrainingMonitor {
  private readonly steps: number | null;
  private readonly batchSize: number | null;
  private readonly window: number;
  private readonly collapse: Required<Omit<CollapseMonitorOptions, 'uniformLoss'>> & { uniformLoss?: number } | null;
  private readonly onWarning: ((w: TrainWarning) => void) | undefined;
  private readonly start: number;
  private readonly times: number[] = [];
  private readonly recent: number[] = [];
  private readonly streaks = { 'uniform-loss': 0, 'collapsed-embeddings': 0 };
  private readonly raised: TrainWarning[] = [];
  private readonly divergence: Required<DivergenceMonitorOptions> | null;
  private readonly recentLosses: number[] = [];
  private readonly recentGradients: number[] = [];
  private readonly active = { 'diverging-loss': false, 'exploding-gradient': false, 'pinned-loss': false };
  private pinnedStreak = 0;
  private previousLoss = NaN;
  private nextStep = 0;
  private readonly lossHistory: number[] = [];

  constructor(options: TrainingMonitorOptions = {}) {
    const fn = 'TrainingMonitor';
    assertKnownOptions(options, ['steps', 'batchSize', 'window', 'collapse', 'divergence', 'onWarning'], fn);
    const { steps, batchSize, window = 20, collapse = {}, divergence = {}, onWarning } = options;
    if (steps !== undefined) assertInteger(steps, fn, 'options.steps', { min: 1 });
    if (batchSize !== undefined) assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
    assertInteger(window, fn, 'options.window', { min: 1 });
    if (onWarning !== undefined && typeof onWarning !== 'function') {
      throw new InvalidArgumentError(fn, 'options.onWarning', 'be a function', typeof onWarning);
    }
    if (collapse === false) {
      this.collapse = null;
    } else {
      assertKnownOptions(collapse, ['uniformLoss', 'lossTolerance', 'minStdRatio', 'patience'], fn, 'options.collapse');
      const { uniformLoss, lossTolerance = 0.01, minStdRatio = 0.1, patience = 50 } = collapse;
      if (uniformLoss !== undefined) assertPositive(uniformLoss, fn, 'options.collapse.uniformLoss');
      assertNonNegative(lossTolerance, fn, 'options.collapse.lossTolerance');
      assertPositive(minStdRatio, fn, 'options.collapse.minStdRatio');
      assertInteger(patience, fn, 'options.collapse.patience', { min: 1 });
      this.collapse = { lossTolerance, minStdRatio, patience, ...(uniformLoss !== undefined ? { uniformLoss } : {}) };
    }
    if (divergence === false) {
      this.divergence = null;
    } else {
      assertKnownOptions(divergence, ['window', 'lossGrowth', 'gradientGrowth', 'pinnedTolerance', 'pinnedPatience'], fn, 'options.divergence');
      const { window: w = 50, lossGrowth = 100, gradientGrowth = 1000, pinnedTolerance = 1e-6, pinnedPatience = 50 } = divergence;
      assertInteger(w, fn, 'options.divergence.window', { min: 2 });
      assertPositive(lossGrowth, fn, 'options.divergence.lossGrowth');
      assertPositive(gradientGrowth, fn, 'options.divergence.gradientGrowth');
      assertNonNegative(pinnedTolerance, fn, 'options.divergence.pinnedTolerance');
      assertInteger(pinnedPatience, fn, 'options.divergence.pinnedPatience', { min: 1 });
      this.divergence = { window: w, lossGrowth, gradientGrowth, pinnedTolerance, pinnedPatience };
    }
    this.steps = steps ?? null;
    this.batchSize = batchSize ?? null;
    this.window = window;
    this.onWarning = onWarning;
    this.start = performance.now();
  }

  /** Every warning raised so far. */
  get warnings(): TrainWarning[] {
    return [...this.raised];
  }

  /** The losses recorded so far, in order. */
  get losses(): number[] {
    return [...this.lossHistory];
  }

  /**
   * Records one finished step. `loss` may be a number or a scalar tensor (read
   * synchronously, not disposed); a non-finite loss is recorded as is and
   * skipped by the collapse checks.
   */
  record(loss: number | tf.Scalar, options: RecordOptions = {}): TrainProgress {
    const fn = 'TrainingMonitor.record';
    assertKnownOptions(options, ['step', 'embeddings', 'gradientNorm'], fn);
    if (options.gradientNorm !== undefined && typeof options.gradientNorm !== 'number') {
      throw new InvalidArgumentError(fn, 'options.gradientNorm', 'be a number', String(options.gradientNorm));
    }
    let value: number;
    if (isTensor(loss)) {
      if (loss.size !== 1) throw new InvalidArgumentError(fn, 'loss', 'be a number or a scalar tensor', `a tensor of shape [${loss.shape.join(', ')}]`);
      value = loss.dataSync()[0]!;
    } else {
      if (typeof loss !== 'number') throw new InvalidArgumentError(fn, 'loss', 'be a number or a scalar tensor', String(loss));
      value = loss;
    }
    const step = options.step ?? this.nextStep;
    assertFiniteNumber(step, fn, 'options.step');
    this.nextStep = step + 1;
    const now = performance.now();
    this.times.push(now);
    if (this.times.length > this.window + 1) this.times.shift();
    this.recent.push(value);
    if (this.recent.length > this.window) this.recent.shift();
    this.lossHistory.push(value);

    let std: number | null = null;
    // (A non-finite step's embeddings are not finite either: its loss tells the story.)
    if (options.embeddings !== undefined && Number.isFinite(value)) {
      assertRank(options.embeddings, 2, fn, 'options.embeddings', '[N, D]');
      const s = embeddingStd(options.embeddings);
      std = s.dataSync()[0]!;
      s.dispose();
    }
    const warnings = [...this.checkCollapse(step, value, std, options.embeddings?.shape[1]), ...this.checkDivergence(step, value, options.gradientNorm)];

    // Throughput over the window: intervals between records (the first from construction).
    const first = this.times.length > this.window ? this.times[0]! : this.start;
    const intervals = this.times.length > this.window ? this.times.length - 1 : this.times.length;
    const seconds = (now - first) / 1000;
    const stepsPerSecond = seconds > 0 ? intervals / seconds : Infinity;
    const elapsedSeconds = (now - this.start) / 1000;
    const remaining = this.steps === null ? null : Math.max(0, this.steps - (step + 1));
    return {
      step,
      steps: this.steps,
      loss: value,
      averageLoss: finiteMean(this.recent),
      stepsPerSecond,
      samplesPerSecond: this.batchSize === null ? null : stepsPerSecond * this.batchSize,
      elapsedSeconds,
      etaSeconds: remaining === null ? null : Number.isFinite(stepsPerSecond) ? remaining / stepsPerSecond : 0,
      numTensors: tf.memory().numTensors,
      embeddingStd: std,
      warnings,
    };
  }

  /** Loss growth and gradient explosion against the median of the window's first half; a loss that stopped moving. */
  private checkDivergence(step: number, loss: number, gradientNorm: number | undefined): TrainWarning[] {
    const d = this.divergence;
    if (d === null) return [];
    const out: TrainWarning[] = [];
    const raise = (kind: 'diverging-loss' | 'exploding-gradient' | 'pinned-loss', on: boolean, value: number, reference: number, what: string) => {
      if (!on) {
        this.active[kind] = false;
        return;
      }
      if (this.active[kind]) return;
      this.active[kind] = true;
      const warning: TrainWarning = { kind, step, value, reference, message: `step ${step}: ${what}` };
      this.raised.push(warning);
      out.push(warning);
      this.onWarning?.(warning);
    };
    const growth = (history: number[], now: number, factor: number, floor: number): { on: boolean; base: number } => {
      if (history.length === 0) return { on: false, base: NaN };
      const base = median(history.slice(0, Math.max(1, Math.floor(history.length / 2))).map(Math.abs));
      return { on: Math.abs(now) > factor * Math.max(base, floor), base };
    };
    if (Number.isFinite(loss)) {
      const g = growth(this.recentLosses, loss, d.lossGrowth, 1);
      raise(
        'diverging-loss',
        g.on,
        loss,
        g.base,
        `the loss grew from about ${fmt(g.base)} to ${fmt(loss)} within ${d.window} steps (more than ${d.lossGrowth}×): training is diverging (lower the learning rate)`,
      );
      push(this.recentLosses, loss, d.window);
      const moved = Math.abs(loss - this.previousLoss) > d.pinnedTolerance * Math.max(Math.abs(loss), 1);
      this.pinnedStreak = Number.isNaN(this.previousLoss) || moved ? 0 : this.pinnedStreak + 1;
      this.previousLoss = loss;
      const k = Math.exp(loss);
      const lnK = Number.isFinite(k) && k >= 2 && Math.abs(k - Math.round(k)) < 1e-3 * k ? ` = ln ${Math.round(k)} (uniform output over ${Math.round(k)} choices)` : '';
      raise(
        'pinned-loss',
        this.pinnedStreak >= d.pinnedPatience,
        loss,
        this.previousLoss,
        `the loss has not moved from ${fmt(loss)}${lnK} for ${this.pinnedStreak} steps: the network is dead or collapsed (check the learning rate)`,
      );
    }
    if (gradientNorm !== undefined) {
      const finite = Number.isFinite(gradientNorm);
      const g = finite ? growth(this.recentGradients, gradientNorm, d.gradientGrowth, 1e-12) : { on: true, base: median(this.recentGradients) };
      raise(
        'exploding-gradient',
        g.on,
        gradientNorm,
        g.base,
        `the gradient norm jumped to ${fmt(gradientNorm)} from about ${fmt(g.base)} (more than ${d.gradientGrowth}×): the gradients are exploding (lower the learning rate or clip them)`,
      );
      if (finite) push(this.recentGradients, gradientNorm, d.window);
    }
    return out;
  }

  private checkCollapse(step: number, loss: number, std: number | null, dim: number | undefined): TrainWarning[] {
    const c = this.collapse;
    if (c === null) return [];
    const signs = new Set<CollapseWarning['kind']>();
    const found: CollapseWarning[] = [];
    if (c.uniformLoss !== undefined && Number.isFinite(loss)) {
      found.push(...detectCollapse({ loss, uniformLoss: c.uniformLoss }, { lossTolerance: c.lossTolerance }));
    }
    if (std !== null && dim !== undefined && Number.isFinite(std)) {
      found.push(...detectCollapse({ embeddingStd: std, dim }, { minStdRatio: c.minStdRatio }));
    }
    for (const w of found) signs.add(w.kind);
    const raisedNow: TrainWarning[] = [];
    for (const kind of ['uniform-loss', 'collapsed-embeddings'] as const) {
      // A check that did not run this step (no embeddings) neither extends nor breaks its streak.
      const checked = kind === 'uniform-loss' ? c.uniformLoss !== undefined && Number.isFinite(loss) : std !== null;
      if (!checked) continue;
      if (!signs.has(kind)) {
        this.streaks[kind] = 0;
        continue;
      }
      this.streaks[kind] += 1;
      if (this.streaks[kind] === c.patience) {
        const w = found.find((f) => f.kind === kind)!;
        const warning: TrainWarning = {
          ...w,
          step,
          message: `step ${step}: ${w.message} (for ${c.patience} consecutive steps)`,
        };
        this.raised.push(warning);
        raisedNow.push(warning);
        this.onWarning?.(warning);
      }
    }
    return raisedNow;
  }
}

function push(history: number[], value: number, limit: number): void {
  history.push(value);
  if (history.length > limit) history.shift();
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(v: number): string {
  return Number.isFinite(v) && (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** Mean of the finite values (a skipped NaN step does not poison the running mean); NaN when none is. */
function finiteMean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}
