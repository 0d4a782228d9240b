import { InvalidArgumentError } from '../core/errors.js';
import { assertInRange, describeValue } from '../core/validate.js';
import { momentumSchedule, type Schedule } from '../train/schedules.js';

/**
 * A method's EMA momentum option as a schedule: a number is constant; a
 * function is used as is (checked when called); absent, `base` — rising to 1
 * on BYOL's cosine schedule over `totalSteps` when `cosineToOne` and the
 * total is known.
 */
export function readMomentum(
  option: unknown,
  base: number,
  fn: string,
  cosine?: { totalSteps: number | undefined },
): Schedule {
  if (option === undefined) {
    if (cosine?.totalSteps !== undefined) return momentumSchedule({ totalSteps: cosine.totalSteps, base });
    return () => base;
  }
  if (typeof option === 'function') {
    const schedule = option as Schedule;
    return (step: number) => {
      const m = schedule(step);
      assertInRange(m, 0, 1, fn, `options.momentum(${step})`);
      return m;
    };
  }
  if (typeof option !== 'number') {
    throw new InvalidArgumentError(fn, 'options.momentum', 'be a number in [0, 1] or a Schedule', describeValue(option));
  }
  assertInRange(option, 0, 1, fn, 'options.momentum');
  return () => option;
}
