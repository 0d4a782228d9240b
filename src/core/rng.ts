/**
 * The seeded random generator every random function in selfsup draws from.
 *
 * Random numbers are produced in JavaScript, never by a backend kernel, so the
 * same seed gives bit-identical parameters, masks and augmentations on the cpu,
 * wasm and any other backend.
 *
 * @module
 */
import { InvalidArgumentError, ValueRangeError } from './errors.js';
import { describeValue } from './validate.js';

/** A seed: an integer in [0, 2³²), or an existing {@link Rng} whose stream is continued. */
export type Seed = number | Rng;

/**
 * The position of an {@link Rng} in its stream, as plain JSON: what
 * {@link Rng.getState} returns and {@link Rng.setState} takes (checkpoints
 * store it, so a resumed run draws what the uninterrupted run would have).
 */
export interface RngState {
  /** The integer seed the generator was created from. */
  seed: number;
  /** xoshiro128**'s four 32-bit state words, as unsigned integers. */
  words: [number, number, number, number];
  /** The second Box–Muller draw kept for the next `normal()`, or null. */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** splitmix32: spreads one 32-bit seed over the four words of xoshiro's state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small, fast, seedable pseudo-random generator (xoshiro128**, seeded by
 * splitmix32). Not cryptographic. Use {@link createRng} to make one.
 *
 * @example
 * ```ts
 * import { Rng } from 'selfsup';
 *
 * const rng = new Rng(42);
 * console.log(rng.uniform(0, 1), rng.int(0, 10), rng.normal());
 * const child = rng.fork(); // an independent stream, e.g. one per transform
 * console.log(child.permutation(5));
 * ```
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;
  /** The integer seed this generator was created from. */
  readonly seed: number;

  /**
   * @param seed an integer in [0, 2³²) (the seeds of `fork` streams are
   *   made internally); anything else throws, naming `seed`.
   */
  constructor(seed: number) {
    assertSeed(seed, 'Rng', 'seed');
    this.seed = seed;
    [this.a, this.b, this.c, this.d] = seedState(seed);
  }

  /** A generator for an internal 64-bit seed (used by `fork`), which the public constructor does not accept. */
  private static fromWideSeed(seed: number): Rng {
    const rng = Object.create(Rng.prototype) as Rng;
    (rng as { seed: number }).seed = seed;
    rng.spareNormal = null;
    [rng.a, rng.b, rng.c, rng.d] = seedState(seed);
    return rng;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform double in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi) (hi exclusive), without modulo bias. */
  int(lo: number, hi: number): number {
    const span = hi - lo;
    if (!(span >= 1) || !Number.isInteger(lo) || !Number.isInteger(hi)) {
      throw new InvalidArgumentError('Rng.int', '[lo, hi)', 'be a non-empty integer interval', `[${lo}, ${hi})`);
    }
    if (span > TWO_POW_32) return lo + Math.floor(this.next() * span);
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % span);
  }

  /** Standard normal draw (Box–Muller), scaled to `mean` and `std`. */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** `n` uniform draws in [lo, hi) as a Float32Array. */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** `n` normal draws as a Float32Array. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A new generator with an independent stream, seeded from this one. */
  fork(): Rng {
    return Rng.fromWideSeed(this.nextUint32() * TWO_POW_32 + this.nextUint32());
  }

  /**
   * The generator's position in its stream (JSON-serialisable): restore it
   * with {@link Rng.setState} to continue the stream exactly.
   *
   * @example
   * ```ts
   * import { Rng } from 'selfsup';
   *
   * const rng = new Rng(7);
   * rng.next();
   * const saved = JSON.stringify(rng.getState());
   * const expected = rng.next();
   * const resumed = new Rng(0);
   * resumed.setState(JSON.parse(saved));
   * console.log(resumed.next() === expected); // true
   * ```
   */
  getState(): RngState {
    return { seed: this.seed, words: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0], spareNormal: this.spareNormal };
  }

  /**
   * Moves the generator to a position saved by {@link Rng.getState}. The
   * state is checked first (four unsigned 32-bit words, not all zero; a
   * finite spare normal or null); a bad state throws and changes nothing.
   */
  setState(state: RngState): void {
    checkRngState(state, 'Rng.setState', 'state');
    (this as { seed: number }).seed = state.seed;
    [this.a, this.b, this.c, this.d] = state.words.map((w) => w | 0) as [number, number, number, number];
    this.spareNormal = state.spareNormal;
  }
}

/**
 * xoshiro's four state words for a seed: splitmix32 from the seed's low 32
 * bits folded with its high bits (for the wide seeds of `fork`). Seeds in
 * [0, 2³²) map one-to-one to distinct streams.
 */
function seedState(seed: number): [number, number, number, number] {
  const st = { s: (seed >>> 0) ^ (Math.floor(seed / TWO_POW_32) >>> 0) ^ 0x5eed5eed };
  const a = splitmix32(st);
  const b = splitmix32(st);
  const c = splitmix32(st);
  const d = splitmix32(st);
  return (a | b | c | d) === 0 ? [1, b, c, d] : [a, b, c, d];
}

/**
 * Throws unless `seed` is an integer in [0, 2³²): the seeds selfsup accepts.
 * Every such seed gives its own stream; negative, fractional or larger
 * numbers would alias another seed's stream (`-1`, `2³² − 1`), so they are
 * refused rather than folded.
 */
export function assertSeed(seed: unknown, fn: string, arg: string): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
    throw new ValueRangeError(fn, arg, 'be an integer in [0, 2^32) or an Rng', describeValue(seed));
  }
}

/** Throws an {@link InvalidArgumentError} unless `state` is a valid {@link RngState}. */
export function checkRngState(state: unknown, fn: string, arg: string): asserts state is RngState {
  const s = state as RngState;
  const isWord = (w: unknown) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < TWO_POW_32;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.seed === 'number' &&
    Number.isFinite(s.seed) &&
    Array.isArray(s.words) &&
    s.words.length === 4 &&
    s.words.every(isWord) &&
    s.words.some((w) => w !== 0) &&
    (s.spareNormal === null || (typeof s.spareNormal === 'number' && Number.isFinite(s.spareNormal)));
  if (!ok) {
    throw new InvalidArgumentError(
      fn,
      arg,
      'be an Rng state { seed, words: four unsigned 32-bit integers (not all 0), spareNormal: number | null }',
      describeValue(state),
    );
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Returns a generator for `seed`: an integer in [0, 2³²) starts a new stream
 * (each seed its own: no two valid seeds share a stream); an existing
 * {@link Rng} is returned as is, so a pipeline can thread one stream through
 * many random functions; `undefined` draws a fresh seed from `Math.random`
 * (not reproducible, as with an unseeded PyTorch generator). Anything else
 * (negative, fractional, ≥ 2³², NaN) throws a `ValueRangeError` naming `arg`
 * of `fn` (the public function and option the seed came from).
 *
 * @example
 * ```ts
 * import { createRng } from 'selfsup';
 *
 * const a = createRng(7);
 * const b = createRng(7);
 * console.log(a.next() === b.next()); // true
 * ```
 */
export function createRng(seed?: Seed, fn = 'createRng', arg = 'seed'): Rng {
  if (seed instanceof Rng) return seed;
  if (seed === undefined) return new Rng(Math.floor(Math.random() * TWO_POW_32));
  assertSeed(seed, fn, arg);
  return new Rng(seed);
}
