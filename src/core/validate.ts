/**
 * Input validation shared by every public function.
 *
 * Each helper takes the value, what it must satisfy, then the public function's
 * name and the argument's name, and throws an {@link InvalidArgumentError}
 * subclass whose message reads `fn: arg must <expected>, got <actual>`. They are
 * TypeScript assertion functions, so a caller's types narrow after the check.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, Tensor } from '@tensorflow/tfjs-core';
import { DTypeError, InvalidArgumentError, ShapeError, ValueRangeError } from './errors.js';

/** `[2, 3]` → `"[2, 3]"`. */
export function formatShape(shape: readonly (number | null | string)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * True for a tfjs tensor from any copy of tfjs-core. `instanceof` is avoided on
 * purpose: an app that mixes `@tensorflow/tfjs` with `@tensorflow/tfjs-core`
 * can hold tensors whose class comes from another copy of the package.
 */
export function isTensor(x: unknown): x is Tensor {
  return (
    typeof x === 'object' &&
    x !== null &&
    'dataId' in x &&
    'shape' in x &&
    'dtype' in x &&
    Array.isArray((x as { shape: unknown }).shape)
  );
}

/** A short human description of any value, for the "got …" part of a message. */
export function describeValue(x: unknown): string {
  if (isTensor(x)) return `a ${x.dtype} tensor of shape ${formatShape(x.shape)}`;
  if (x === undefined) return 'undefined';
  if (x === null) return 'null';
  if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : String(x);
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'boolean' || typeof x === 'bigint') return String(x);
  if (typeof x === 'function') return 'a function';
  if (Array.isArray(x)) {
    return x.length <= 6 && x.every((v) => typeof v === 'number' || typeof v === 'string')
      ? `[${x.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ')}]`
      : `an array of length ${x.length}`;
  }
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${(x as unknown as ArrayLike<unknown>).length}`;
  return `an object (${Object.prototype.toString.call(x).slice(8, -1)})`;
}

/** Throws unless `x` is a live (not disposed) tfjs tensor. */
export function assertTensor(x: unknown, fn: string, arg: string): asserts x is Tensor {
  if (!isTensor(x)) {
    throw new InvalidArgumentError(fn, arg, 'be a tf.Tensor', describeValue(x));
  }
  if (x.isDisposed) {
    throw new InvalidArgumentError(fn, arg, 'be a live tensor', `a tensor that was already disposed`);
  }
}

function rankText(rank: number | readonly number[]): string {
  if (typeof rank === 'number') return `a rank-${rank} tensor`;
  if (rank.length === 1) return `a rank-${rank[0]} tensor`;
  return `a tensor of rank ${rank.slice(0, -1).join(', ')} or ${rank[rank.length - 1]}`;
}

/**
 * Throws unless `x` is a tensor of the given rank (or one of the given ranks).
 * `dims` names the axes for the message, e.g. `'[N, D]'`.
 */
export function assertRank(
  x: unknown,
  rank: number | readonly number[],
  fn: string,
  arg: string,
  dims?: string,
): asserts x is Tensor {
  assertTensor(x, fn, arg);
  const ok = typeof rank === 'number' ? x.rank === rank : rank.includes(x.rank);
  if (!ok) {
    throw new ShapeError(
      fn,
      arg,
      `be ${rankText(rank)}${dims ? ` ${dims}` : ''}`,
      `rank ${x.rank} with shape ${formatShape(x.shape)}`,
    );
  }
}

/** Throws unless `x` is a tensor of rank ≥ `minRank`. */
export function assertMinRank(
  x: unknown,
  minRank: number,
  fn: string,
  arg: string,
  dims?: string,
): asserts x is Tensor {
  assertTensor(x, fn, arg);
  if (x.rank < minRank) {
    throw new ShapeError(
      fn,
      arg,
      `be a tensor of rank ≥ ${minRank}${dims ? ` ${dims}` : ''}`,
      `rank ${x.rank} with shape ${formatShape(x.shape)}`,
    );
  }
}

/**
 * Throws unless `x` has exactly `shape`; `null` entries accept any size.
 * `dims` names the axes for the message, e.g. `'[B, H, W, 3]'`.
 */
export function assertShape(
  x: unknown,
  shape: readonly (number | null)[],
  fn: string,
  arg: string,
  dims?: string,
): asserts x is Tensor {
  assertTensor(x, fn, arg);
  const ok = x.rank === shape.length && shape.every((d, i) => d === null || d === x.shape[i]);
  if (!ok) {
    const want = dims ? `${dims} = ${formatShape(shape)}` : formatShape(shape);
    throw new ShapeError(fn, arg, `have shape ${want}`, formatShape(x.shape));
  }
}

/**
 * Throws unless `x` has the same shape as `reference`, e.g.
 * `ntXentLoss: z2 must have shape [N, D] matching z1 [256, 128], got [256, 64]`.
 */
export function assertSameShape(
  x: unknown,
  reference: Tensor,
  fn: string,
  arg: string,
  referenceArg: string,
  dims?: string,
): asserts x is Tensor {
  assertTensor(x, fn, arg);
  const same = x.rank === reference.rank && x.shape.every((d, i) => d === reference.shape[i]);
  if (!same) {
    throw new ShapeError(
      fn,
      arg,
      `have shape ${dims ? `${dims} ` : ''}matching ${referenceArg} ${formatShape(reference.shape)}`,
      formatShape(x.shape),
    );
  }
}

/**
 * Throws unless axis `axis` of `x` has size `size`. `what` describes the axis
 * (e.g. `'D (the embedding size of query)'`).
 */
export function assertDimSize(
  x: Tensor,
  axis: number,
  size: number,
  fn: string,
  arg: string,
  what: string,
): void {
  const a = axis < 0 ? x.rank + axis : axis;
  if (x.shape[a] !== size) {
    throw new ShapeError(fn, arg, `have ${what} = ${size} on axis ${a}`, `shape ${formatShape(x.shape)}`);
  }
}

/**
 * Throws unless axis `axis` of `x` has at least `min` entries: batch statistics
 * (variance, covariance, standardisation) are undefined below two samples.
 */
export function assertMinSize(
  x: Tensor,
  axis: number,
  min: number,
  fn: string,
  arg: string,
  what = 'N',
  why?: string,
): void {
  const a = axis < 0 ? x.rank + axis : axis;
  const n = x.shape[a] ?? 0;
  if (n < min) {
    throw new ShapeError(
      fn,
      arg,
      `have ${what} ≥ ${min} on axis ${a}${why ? ` (${why})` : ''}`,
      `${what} = ${n} in shape ${formatShape(x.shape)}`,
    );
  }
}

/** Throws unless `x` has one of the allowed dtypes. */
export function assertDtype(
  x: Tensor,
  allowed: DataType | readonly DataType[],
  fn: string,
  arg: string,
): void {
  const list = typeof allowed === 'string' ? [allowed] : allowed;
  if (!list.includes(x.dtype)) {
    throw new DTypeError(fn, arg, `have dtype ${list.join(' or ')}`, x.dtype);
  }
}

/** Throws unless `x` is a float32 tensor (everything differentiable is). */
export function assertFloat(x: Tensor, fn: string, arg: string): void {
  assertDtype(x, 'float32', fn, arg);
}

/** Throws unless `v` is a finite number. */
export function assertFiniteNumber(v: unknown, fn: string, arg: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueRangeError(fn, arg, 'be a finite number', describeValue(v));
  }
}

/** The smallest normal float32 (2⁻¹²⁶): positive numbers below it lose precision and round to 0 in tensors. */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/** The largest finite float32: larger numbers become ∞ in tensors. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Throws unless `v` is a finite number > 0 (temperatures, sizes, scales)
 * that float32 holds: in [2⁻¹²⁶, 3.4e38], since a smaller one becomes 0 in
 * a tensor (a temperature of 1e-45 divides by zero) and a larger one ∞.
 */
export function assertPositive(v: unknown, fn: string, arg: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ValueRangeError(fn, arg, 'be a finite number > 0', describeValue(v));
  }
  if (v < FLOAT32_MIN_NORMAL || v > FLOAT32_MAX) {
    throw new ValueRangeError(fn, arg, 'be a number float32 holds, in [1.18e-38, 3.4e38] (beyond, a tensor rounds it to 0 or ∞)', describeValue(v));
  }
}

/** Throws unless `v` is a finite number ≥ 0 (weights, penalties). */
export function assertNonNegative(v: unknown, fn: string, arg: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ValueRangeError(fn, arg, 'be a finite number ≥ 0', describeValue(v));
  }
}

/** Throws unless `v` is an integer, optionally within `[min, max]`. */
export function assertInteger(
  v: unknown,
  fn: string,
  arg: string,
  bounds: { min?: number; max?: number } = {},
): asserts v is number {
  const { min = -Infinity, max = Infinity } = bounds;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range =
      min > -Infinity && max < Infinity
        ? ` in [${min}, ${max}]`
        : min > -Infinity
          ? ` ≥ ${min}`
          : max < Infinity
            ? ` ≤ ${max}`
            : '';
    throw new ValueRangeError(fn, arg, `be an integer${range}`, describeValue(v));
  }
}

/**
 * Throws unless `lo ≤ v ≤ hi` (or strict, per `open`). `open: [true, false]`
 * means `lo < v ≤ hi`.
 */
export function assertInRange(
  v: unknown,
  lo: number,
  hi: number,
  fn: string,
  arg: string,
  open: readonly [boolean, boolean] = [false, false],
): asserts v is number {
  const ok =
    typeof v === 'number' &&
    !Number.isNaN(v) &&
    (open[0] ? v > lo : v >= lo) &&
    (open[1] ? v < hi : v <= hi);
  if (!ok) {
    const interval = `${open[0] ? '(' : '['}${lo}, ${hi}${open[1] ? ')' : ']'}`;
    throw new ValueRangeError(fn, arg, `be a number in ${interval}`, describeValue(v));
  }
}

/** Throws unless `p` is a probability in [0, 1]. */
export function assertProbability(p: unknown, fn: string, arg: string): asserts p is number {
  assertInRange(p, 0, 1, fn, arg);
}

/**
 * Throws unless `v` is a `[lo, hi]` pair of finite numbers with `lo ≤ hi`,
 * each within `[min, max]` when given (crop scales, jitter ranges).
 */
export function assertRangePair(
  v: unknown,
  fn: string,
  arg: string,
  bounds: { min?: number; max?: number } = {},
): asserts v is readonly [number, number] {
  const { min = -Infinity, max = Infinity } = bounds;
  const ok =
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max) &&
    (v[0] as number) <= (v[1] as number);
  if (!ok) {
    const within =
      min > -Infinity || max < Infinity ? ` within [${min}, ${max}]` : '';
    throw new ValueRangeError(fn, arg, `be a [min, max] pair with min ≤ max${within}`, describeValue(v));
  }
}

/** Throws unless `v` is one of `allowed`. */
export function assertOneOf<T extends string | number | boolean>(
  v: unknown,
  allowed: readonly T[],
  fn: string,
  arg: string,
): asserts v is T {
  if (!allowed.includes(v as T)) {
    throw new InvalidArgumentError(
      fn,
      arg,
      `be one of ${allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ')}`,
      describeValue(v),
    );
  }
}

/**
 * Throws when an options object carries a key the function does not know, so
 * a typo (`temprature`) is an error instead of a silently ignored default.
 */
export function assertKnownOptions(
  options: unknown,
  known: readonly string[],
  fn: string,
  arg = 'options',
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(fn, arg, 'be an options object', describeValue(options));
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        fn,
        `${arg}.${key}`,
        `be one of the known options (${known.join(', ')})`,
        'an unknown option',
      );
    }
  }
}

/**
 * Throws unless every value of `x` lies in `[lo, hi]` (NaN fails). Reads the
 * tensor's min and max back synchronously, so use it where a wrong range would
 * silently corrupt results (image pixel ranges, labels), not in inner loops.
 */
export function assertValuesInRange(
  x: Tensor,
  lo: number,
  hi: number,
  fn: string,
  arg: string,
  what = 'values',
): void {
  if (x.size === 0) return;
  const [min, max] = minMax(x);
  if (!(min >= lo && max <= hi)) {
    throw new ValueRangeError(
      fn,
      arg,
      `have ${what} in [${lo}, ${hi}]`,
      Number.isNaN(min) || Number.isNaN(max) ? 'NaN values' : `values in [${min}, ${max}]`,
    );
  }
}

/**
 * Throws unless every value of `x` is finite (no NaN, no ±∞), where a
 * non-finite value would make the result undefined (features for k-means,
 * kNN, a linear probe, the collapse metrics). One fused reduction read back
 * as one number (`sum(x·0)` is 0 exactly when every value is finite); the
 * whole tensor is read only to name the first bad value.
 */
export function assertFiniteValues(x: Tensor, fn: string, arg: string, what = 'values'): void {
  if (x.size === 0 || (x.dtype !== 'float32' && x.dtype !== 'complex64')) return;
  const probe = tf.tidy(() => tf.sum(tf.mul(x, 0)));
  const flag = probe.dataSync()[0]!;
  probe.dispose();
  if (flag === 0) return;
  const data = x.dataSync();
  let index = 0;
  while (index < data.length && Number.isFinite(data[index] as number)) index++;
  const row = x.rank >= 2 ? ` (row ${Math.floor(index / (x.size / (x.shape[0] as number)))})` : '';
  throw new ValueRangeError(fn, arg, `hold finite ${what} (no NaN or infinity)`, `${describeValue(data[index])} at flat index ${index}${row}`);
}

/** Min and max of a tensor's values, NaN if any value is NaN, without tfjs ops (no tensors are created). */
function minMax(x: Tensor): [number, number] {
  const data = x.dataSync();
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v !== v) return [NaN, NaN];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/**
 * Runs `work` on behalf of the public function `fn`: an argument error raised
 * inside it under another function's name (an inner `X.sample`, `applyX`) is
 * raised again under `fn`, so the message names the function the user
 * called. When the inner function belongs to another object than `own` (a
 * step of a pipeline), its name prefixes the argument:
 * `twoViews: Cutout options.size must …`. Other errors pass through.
 */
export function onBehalfOf<T>(fn: string, work: () => T, own?: string): T {
  try {
    return work();
  } catch (e) {
    if (!(e instanceof InvalidArgumentError) || e.functionName === fn || e.functionName.startsWith(`${fn}.`)) throw e;
    const inner = e.functionName.replace(/\.(sample|apply|run)$/, '');
    const argument = own !== undefined && inner !== own && inner !== e.functionName ? `${inner} ${e.argument}` : e.argument;
    const Kind = e.constructor as new (fn: string, argument: string, expected: string, actual: string) => InvalidArgumentError;
    const raised = new Kind(fn, argument, e.expected, e.actual);
    (raised as { cause?: unknown }).cause = e;
    throw raised;
  }
}
