import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

type Numeric = tf.Tensor | number | ArrayLike<number> | number[][] | number[][][];

function toFlat(x: Numeric): Float64Array {
  if (typeof x === 'number') return Float64Array.of(x);
  if (x instanceof tf.Tensor || (typeof x === 'object' && x !== null && 'dataId' in x)) {
    return Float64Array.from((x as tf.Tensor).dataSync() as ArrayLike<number>);
  }
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'number') out.push(v);
    else for (const e of Array.from(v as ArrayLike<unknown>)) walk(e);
  };
  walk(x);
  return Float64Array.from(out);
}

/**
 * Asserts `|actual − expected| ≤ atol + rtol·|expected|` element-wise, with a
 * message naming the worst element.
 */
export function expectClose(
  actual: Numeric,
  expected: Numeric,
  { rtol = 1e-5, atol = 1e-6, label = '' }: { rtol?: number; atol?: number; label?: string } = {},
): void {
  const a = toFlat(actual);
  const e = toFlat(expected);
  expect(a.length, `${label} length`).toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number;
    const ei = e[i] as number;
    const tol = atol + rtol * Math.abs(ei);
    const diff = Math.abs(ai - ei);
    if (!(diff <= tol) && (Number.isNaN(diff) || diff - tol > worstExcess || worst < 0)) {
      worst = i;
      worstExcess = Number.isNaN(diff) ? Infinity : diff - tol;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label ? `${label}: ` : ''}element ${worst} is ${a[worst]}, expected ${e[worst]} ` +
        `(|diff| ${Math.abs((a[worst] as number) - (e[worst] as number))}, rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Asserts every value of `x` is finite. */
export function expectFinite(x: tf.Tensor | number, label = 'value'): void {
  const data = typeof x === 'number' ? [x] : Array.from(x.dataSync() as ArrayLike<number>);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) expect.fail(`${label}: element ${bad} is ${data[bad]}, expected a finite number`);
}

function countTensors(result: unknown): number {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if ('dataId' in v && 'shape' in v) return;
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
  };
  walk(result);
  return [...seen].filter((v) => typeof v === 'object' && v !== null && 'dataId' in v && 'shape' in v).length;
}

/**
 * Runs `fn` and asserts it left exactly as many new tensors alive as it
 * returned (tensors found anywhere inside the result), then disposes them.
 */
export function expectNoLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const result = fn();
  const returned = countTensors(result);
  const after = tf.memory().numTensors;
  expect(after - before, `tensors left alive beyond the ${returned} returned`).toBe(returned);
  return result;
}

/** Same as {@link expectNoLeak} for async functions. */
export async function expectNoLeakAsync<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = countTensors(result);
  const after = tf.memory().numTensors;
  expect(after - before, `tensors left alive beyond the ${returned} returned`).toBe(returned);
  return result;
}

/** Disposes every tensor inside a (nested) result. */
export function disposeAll(result: unknown): void {
  tf.dispose(result as tf.TensorContainer);
}

/**
 * Central-difference gradient check in float32: compares `tf.grads(f)` with
 * `(f(x + h·e_i) − f(x − h·e_i)) / 2h` on up to `maxCoordinates` coordinates
 * of every input (all of them when the input is small).
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  {
    step = 1e-2,
    rtol = 2e-2,
    atol = 2e-3,
    maxCoordinates = 24,
    seed = 1,
  }: { step?: number; rtol?: number; atol?: number; maxCoordinates?: number; seed?: number } = {},
): void {
  const analytic = tf.tidy(() => tf.grads(f)(inputs).map((g) => g.arraySync()));
  let state = seed;
  const nextInt = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  inputs.forEach((x, k) => {
    const values = Float32Array.from(x.dataSync() as ArrayLike<number>);
    const grad = toFlat(analytic[k] as number[]);
    const coords =
      values.length <= maxCoordinates
        ? Array.from({ length: values.length }, (_, i) => i)
        : Array.from({ length: maxCoordinates }, () => nextInt(values.length));
    for (const i of coords) {
      const evalAt = (delta: number): number =>
        tf.tidy(() => {
          const shifted = values.slice();
          shifted[i] = (shifted[i] as number) + delta;
          const xs = inputs.map((inp, j) => (j === k ? tf.tensor(shifted, x.shape, x.dtype) : inp));
          return f(...xs).dataSync()[0] as number;
        });
      const numeric = (evalAt(step) - evalAt(-step)) / (2 * step);
      const g = grad[i] as number;
      const tol = atol + rtol * Math.max(Math.abs(numeric), Math.abs(g));
      if (!(Math.abs(numeric - g) <= tol)) {
        expect.fail(
          `gradient of input ${k} at element ${i}: analytic ${g}, finite difference ${numeric} (tol ${tol})`,
        );
      }
    }
  });
}
