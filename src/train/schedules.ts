import { assertFiniteNumber, assertKnownOptions, assertNonNegative, assertPositive } from '../core/validate.js';
import { ValueRangeError } from '../core/errors.js';

/** A value per training step: `schedule(step)` with `step` = 0, 1, 2, … */
export type Schedule = (step: number) => number;

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Step K at which the schedule reaches `final` (and stays). Required. */
  totalSteps: number;
  /** The value at the end of the warm-up, where the cosine starts. Required. */
  base: number;
  /**
   * The value at step K and after.
   * @default 0
   */
  final?: number;
  /**
   * Steps W of linear warm-up from `warmupStart` to `base`.
   * @default 0
   */
  warmupSteps?: number;
  /**
   * The value at step 0 when there is a warm-up.
   * @default 0
   */
  warmupStart?: number;
}

function checkStep(step: unknown, fn: string): asserts step is number {
  assertFiniteNumber(step, fn, 'step');
  assertNonNegative(step, fn, 'step');
}

/**
 * Linear warm-up then cosine decay (Loshchilov & Hutter's SGDR without
 * restarts; Goyal et al.'s warm-up), the learning-rate schedule of SimCLR,
 * BYOL, DINO and MAE, returned as a function of the step k:
 *
 * - `k < W`: `warmupStart + (base − warmupStart)·k/W`
 * - `W ≤ k ≤ K`: `final + (base − final)·(1 + cos(π·(k − W)/(K − W)))/2`
 * - `k > K`: `final`
 *
 * It is continuous (k = W gives `base`, k = K gives `final`) and accepts
 * fractional steps (epochs). DINO's `cosine_scheduler` builds the same curve
 * as an array whose warm-up reaches `base` one step earlier (`np.linspace`
 * includes both ends). Apply a learning rate with {@link setLearningRate}.
 *
 * @example
 * ```ts
 * import { cosineSchedule } from 'selfsup';
 *
 * const lr = cosineSchedule({ base: 0.3, totalSteps: 100, warmupSteps: 10 });
 * console.log(lr(0), lr(5), lr(10), lr(55), lr(100)); // 0 0.15 0.3 0.15 0
 * ```
 */
export function cosineSchedule(options: CosineScheduleOptions): Schedule {
  const fn = 'cosineSchedule';
  options ??= {} as CosineScheduleOptions;
  assertKnownOptions(options, ['totalSteps', 'base', 'final', 'warmupSteps', 'warmupStart'], fn);
  const { totalSteps, base, final = 0, warmupSteps = 0, warmupStart = 0 } = options;
  assertPositive(totalSteps, fn, 'options.totalSteps');
  assertFiniteNumber(base, fn, 'options.base');
  assertFiniteNumber(final, fn, 'options.final');
  assertNonNegative(warmupSteps, fn, 'options.warmupSteps');
  assertFiniteNumber(warmupStart, fn, 'options.warmupStart');
  if (warmupSteps > totalSteps) {
    throw new ValueRangeError(fn, 'options.warmupSteps', `be ≤ options.totalSteps (${totalSteps})`, String(warmupSteps));
  }
  return (step: number) => {
    checkStep(step, fn);
    if (step < warmupSteps) return warmupStart + ((base - warmupStart) * step) / warmupSteps;
    if (step >= totalSteps) return final;
    const progress = (step - warmupSteps) / (totalSteps - warmupSteps);
    return final + ((base - final) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}

/** Options of {@link momentumSchedule}. */
export interface MomentumScheduleOptions {
  /** Total training steps K. Required. */
  totalSteps: number;
  /**
   * τ_base, the momentum at step 0.
   * @default 0.996
   */
  base?: number;
  /**
   * The momentum at step K.
   * @default 1
   */
  final?: number;
}

/**
 * BYOL's target-network momentum (Grill et al. 2020, §3.2):
 * `τ = 1 − (1 − τ_base)·(cos(πk/K) + 1)/2`, rising from τ_base = 0.996 to 1
 * over the K training steps (DINO uses the same schedule for its teacher).
 * The value to pass to {@link emaUpdate} after step k.
 *
 * @example
 * ```ts
 * import { momentumSchedule } from 'selfsup';
 *
 * const tau = momentumSchedule({ totalSteps: 1000 });
 * console.log(tau(0), tau(500), tau(1000)); // 0.996 0.998 1
 * ```
 */
export function momentumSchedule(options: MomentumScheduleOptions): Schedule {
  const fn = 'momentumSchedule';
  options ??= {} as MomentumScheduleOptions;
  assertKnownOptions(options, ['totalSteps', 'base', 'final'], fn);
  const { totalSteps, base = 0.996, final = 1 } = options;
  assertPositive(totalSteps, fn, 'options.totalSteps');
  for (const [name, v] of [['base', base], ['final', final]] as const) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new ValueRangeError(fn, `options.${name}`, 'be a momentum in [0, 1]', String(v));
    }
  }
  const schedule = cosineSchedule({ totalSteps, base, final });
  return (step: number) => {
    checkStep(step, fn);
    return schedule(step);
  };
}

/** Options of {@link teacherTemperatureSchedule}. */
export interface TeacherTemperatureScheduleOptions {
  /** Steps (or epochs) of the linear warm-up. Required (0 for a constant temperature). */
  warmupSteps: number;
  /**
   * Temperature at step 0.
   * @default 0.04
   */
  start?: number;
  /**
   * Temperature after the warm-up.
   * @default 0.07
   */
  final?: number;
}

/**
 * DINO's teacher temperature (Caron et al. 2021, §4.1 / appendix: "a linear
 * warm-up from 0.04 to 0.07 during the first 30 epochs"): `start +
 * (final − start)·k/W` for `k < W`, then `final`. A low temperature early keeps
 * the teacher sharp while the student is still poor. DINO's code defines it
 * per epoch with `np.linspace` (reaching `final` at W − 1); call this with the
 * epoch, or with steps and W in steps.
 *
 * @example
 * ```ts
 * import { teacherTemperatureSchedule } from 'selfsup';
 *
 * const temperature = teacherTemperatureSchedule({ warmupSteps: 30 });
 * console.log(temperature(0), temperature(15), temperature(30), temperature(99)); // 0.04 0.055 0.07 0.07
 * ```
 */
export function teacherTemperatureSchedule(options: TeacherTemperatureScheduleOptions): Schedule {
  const fn = 'teacherTemperatureSchedule';
  options ??= {} as TeacherTemperatureScheduleOptions;
  assertKnownOptions(options, ['warmupSteps', 'start', 'final'], fn);
  const { warmupSteps, start = 0.04, final = 0.07 } = options;
  assertNonNegative(warmupSteps, fn, 'options.warmupSteps');
  assertPositive(start, fn, 'options.start');
  assertPositive(final, fn, 'options.final');
  return (step: number) => {
    checkStep(step, fn);
    return step < warmupSteps ? start + ((final - start) * step) / warmupSteps : final;
  };
}
