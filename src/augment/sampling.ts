/**
 * Helpers shared by the parameter samplers (not exported from the package).
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { assertSeed, createRng, Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertProbability, describeValue, formatShape } from '../core/validate.js';
import type { ImageShape } from './transform.js';

/** Python's `round`: halves go to the even neighbour (torchvision's box sizes use it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One draw per sample from `draw`, or a single draw repeated when
 * `sameOnBatch` (kornia's `same_on_batch`).
 */
export function perSample(batchSize: number, sameOnBatch: boolean, draw: (i: number) => void, copy: (from: number, to: number) => void): void {
  if (batchSize === 0) return;
  if (sameOnBatch) {
    draw(0);
    for (let i = 1; i < batchSize; i++) copy(0, i);
  } else {
    for (let i = 0; i < batchSize; i++) draw(i);
  }
}

/** Bernoulli(p) flags per sample (or one flag for the batch). */
export function sampleApplied(batchSize: number, rng: Rng, p: number, sameOnBatch: boolean): Uint8Array {
  const out = new Uint8Array(batchSize);
  perSample(
    batchSize,
    sameOnBatch,
    (i) => {
      out[i] = p >= 1 ? 1 : p <= 0 ? 0 : rng.bernoulli(p) ? 1 : 0;
    },
    (from, to) => {
      out[to] = out[from] as number;
    },
  );
  return out;
}

/** Validates the `[B, H, W, C]` shape a sampler receives. */
export function assertSampleArgs(shape: unknown, rng: Seed | undefined, fn: string): asserts shape is ImageShape {
  const ok =
    Array.isArray(shape) &&
    shape.length === 4 &&
    shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
  if (!ok) {
    throw new InvalidArgumentError(fn, 'shape', 'be the image batch shape [B, H, W, C] (e.g. images.shape)', describeValue(shape));
  }
  // A sampler's seed is checked here, under the sampler's name; the createRng further in then cannot throw.
  if (rng !== undefined && !(rng instanceof Rng)) assertSeed(rng, fn, 'rng');
}

/** Validates `p` and `sameOnBatch` options. */
export function readCommon(options: { p?: number; sameOnBatch?: boolean }, fn: string, defaultP: number): { p: number; sameOnBatch: boolean } {
  const { p = defaultP, sameOnBatch = false } = options;
  assertProbability(p, fn, 'options.p');
  if (typeof sameOnBatch !== 'boolean') {
    throw new InvalidArgumentError(fn, 'options.sameOnBatch', 'be a boolean', describeValue(sameOnBatch));
  }
  return { p, sameOnBatch };
}

/**
 * Reads the options of a transform that is only applied or not per sample
 * (flips, grayscale): `p` and `sameOnBatch`, nothing else.
 */
export function readAppliedOptions(options: { p?: number; sameOnBatch?: boolean }, fn: string, defaultP: number): { p: number; sameOnBatch: boolean } {
  assertKnownOptions(options, ['p', 'sameOnBatch'], fn);
  return readCommon(options, fn, defaultP);
}

/** The parameters of such a transform: one Bernoulli(`p`) flag per sample (validate `shape` first). */
export function sampleAppliedParams(shape: ImageShape, rng: Seed, o: { p: number; sameOnBatch: boolean }): { batchSize: number; applied: Uint8Array } {
  return { batchSize: shape[0], applied: sampleApplied(shape[0], createRng(rng), o.p, o.sameOnBatch) };
}

/** Throws unless `params.batchSize` matches the images' batch size and `arrays` have `batchSize·per` entries. */
export function assertParamsFor(
  params: { batchSize?: unknown } | undefined,
  images: { shape: readonly number[] },
  fn: string,
  arrays: Record<string, [ArrayLike<number> | undefined, number]> = {},
): void {
  if (typeof params !== 'object' || params === null) {
    throw new InvalidArgumentError(fn, 'params', 'be a parameter record from the matching sampler', describeValue(params));
  }
  const b = images.shape[0] as number;
  if (params.batchSize !== b) {
    throw new InvalidArgumentError(
      fn,
      'params',
      `be sampled for the batch size of images (${b}, shape ${formatShape(images.shape)})`,
      `params for batchSize ${describeValue(params.batchSize)}`,
    );
  }
  for (const [name, [values, per]] of Object.entries(arrays)) {
    if (!values || typeof values.length !== 'number' || values.length !== b * per) {
      throw new InvalidArgumentError(fn, `params.${name}`, `have ${b * per} entries`, describeValue(values));
    }
  }
}

/** Validates an output size option: a positive integer or `[height, width]`. */
export function readSize(size: unknown, fn: string, arg: string): [number, number] {
  if (typeof size === 'number') {
    assertInteger(size, fn, arg, { min: 1 });
    return [size, size];
  }
  if (Array.isArray(size) && size.length === 2) {
    assertInteger(size[0], fn, `${arg}[0]`, { min: 1 });
    assertInteger(size[1], fn, `${arg}[1]`, { min: 1 });
    return [size[0], size[1]];
  }
  throw new InvalidArgumentError(fn, arg, 'be a positive integer or a [height, width] pair', describeValue(size));
}
