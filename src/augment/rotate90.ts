import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertKnownOptions, describeValue, formatShape } from '../core/validate.js';
import { assertApplyImages, readImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, perSample, readCommon } from './sampling.js';
import { takeSamples } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Counter-clockwise rotation by 90° (`np.rot90(x, 1)`), via an exact flip and transpose. */
function rot90Once(x: tf.Tensor4D): tf.Tensor4D {
  // rot90(x)[i][j] = x[j][W−1−i]: mirror left–right, then swap H and W.
  return tf.transpose(tf.image.flipLeftRight(x), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** Rotation of a whole batch by `k` quarter turns (no validation). */
export function rotateBatch(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const turns = ((k % 4) + 4) % 4;
    let y = x;
    for (let t = 0; t < turns; t++) y = rot90Once(y);
    return turns === 0 ? tf.clone(x) : y;
  });
}

function readTurns(k: unknown, batchSize: number, fn: string, arg: string): Uint8Array {
  const values = typeof k === 'number' ? new Array<number>(batchSize).fill(k) : k;
  if (values === null || typeof values !== 'object' || (values as ArrayLike<number>).length !== batchSize) {
    throw new InvalidArgumentError(fn, arg, `be an integer or ${batchSize} per-sample integers`, describeValue(k));
  }
  return Uint8Array.from(Array.from(values as ArrayLike<number>), (v, i) => {
    if (!Number.isInteger(v)) throw new InvalidArgumentError(fn, typeof k === 'number' ? arg : `${arg}[${i}]`, 'be an integer', describeValue(v));
    return ((v % 4) + 4) % 4;
  });
}

/** Rotation with a quarter-turn count per sample, grouped by count. */
function rotatePerSample(images: tf.Tensor4D, turns: Uint8Array, fn: string): tf.Tensor4D {
  const [b, h, w] = images.shape;
  const groups = [0, 1, 2, 3].map((k) => [...turns.keys()].filter((i) => turns[i] === k));
  const used = groups.filter((g) => g.length > 0);
  if (h !== w && groups[0]!.length + groups[2]!.length > 0 && groups[1]!.length + groups[3]!.length > 0) {
    throw new ShapeError(
      fn,
      'images',
      'be square when samples are rotated by both even and odd quarter turns (the output shapes would differ)',
      formatShape(images.shape),
    );
  }
  return tf.tidy(() => {
    if (used.length === 1) return rotateBatch(images, turns[0] ?? 0);
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    groups.forEach((g, k) => {
      if (g.length === 0) return;
      parts.push(rotateBatch(takeSamples(images, Int32Array.from(g)), k));
      order.push(...g);
    });
    // Sample order[j] sits at row j of the concatenation: invert the map.
    const inverse = new Int32Array(b);
    order.forEach((orig, j) => {
      inverse[orig] = j;
    });
    return takeSamples(tf.concat(parts, 0) as tf.Tensor4D, inverse);
  });
}

/**
 * Rotates images counter-clockwise by `k` quarter turns (`k` for the batch
 * or one per sample), as `torch.rot90(x, k, dims=[-2, -1])` on CHW and
 * `np.rot90`; values are copied exactly. With odd `k` the output is
 * `[B, W, H, C]`; mixing odd and even `k` needs square images.
 *
 * @param images - `[B, H, W, C]` float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rotate90 } from 'selfsup';
 *
 * rotate90(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), 1).print(); // [[2, 4], [1, 3]]
 * ```
 */
export function rotate90(images: tf.Tensor4D, k: number | ArrayLike<number>): tf.Tensor4D {
  const fn = 'rotate90';
  const x = readImages(images, fn);
  return rotatePerSample(x, readTurns(k, x.shape[0], fn, 'k'), fn);
}

/** Options of {@link RandomRotate90}, {@link randomRotate90} and {@link sampleRotate90}. */
export interface Rotate90Options {
  /**
   * The quarter-turn counts to choose from, uniformly.
   * @default [0, 1, 2, 3]
   */
  turns?: readonly number[];
  /**
   * One rotation for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a random quarter-turn rotation. */
export interface Rotate90Params {
  /** Number of samples. */
  batchSize: number;
  /** Counter-clockwise quarter turns per sample, 0–3. */
  k: Uint8Array;
}

function readOptions(options: Rotate90Options, fn: string): { turns: number[]; sameOnBatch: boolean } {
  assertKnownOptions(options, ['turns', 'sameOnBatch'], fn);
  const { turns = [0, 1, 2, 3] } = options;
  if (!Array.isArray(turns) || turns.length === 0 || !turns.every((t) => Number.isInteger(t))) {
    throw new InvalidArgumentError(fn, 'options.turns', 'be a non-empty array of integers', describeValue(turns));
  }
  return { turns: turns.map((t) => ((t % 4) + 4) % 4), sameOnBatch: readCommon(options, fn, 1).sameOnBatch };
}

function sampleWith(shape: ImageShape, seed: Seed, o: { turns: number[]; sameOnBatch: boolean }): Rotate90Params {
  const rng = createRng(seed);
  const k = new Uint8Array(shape[0]);
  perSample(
    shape[0],
    o.sameOnBatch,
    (i) => {
      k[i] = o.turns[rng.int(0, o.turns.length)] as number;
    },
    (from, to) => {
      k[to] = k[from] as number;
    },
  );
  return { batchSize: shape[0], k };
}

/**
 * Samples a quarter-turn count per sample, uniformly from `turns`.
 *
 * @example
 * ```ts
 * import { sampleRotate90 } from 'selfsup';
 *
 * console.log(sampleRotate90([6, 8, 8, 3], 0).k); // e.g. Uint8Array [2, 0, 3, …]
 * ```
 */
export function sampleRotate90(shape: ImageShape, rng: Seed, options: Rotate90Options = {}): Rotate90Params {
  const fn = 'sampleRotate90';
  assertSampleArgs(shape, rng, fn);
  return sampleWith(shape, rng, readOptions(options, fn));
}

/**
 * Applies per-sample quarter turns (see {@link rotate90}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyRotate90 } from 'selfsup';
 *
 * const y = applyRotate90(tf.randomUniform([2, 4, 4, 3]) as tf.Tensor4D, { batchSize: 2, k: Uint8Array.of(1, 2) });
 * console.log(y.shape); // [2, 4, 4, 3]
 * ```
 */
export function applyRotate90(images: tf.Tensor4D, params: Rotate90Params): tf.Tensor4D {
  const fn = 'applyRotate90';
  assertApplyImages(images, fn);
  assertParamsFor(params, images, fn, { k: [params?.k, 1] });
  return rotatePerSample(images, readTurns(params.k, images.shape[0], fn, 'params.k'), fn);
}

/**
 * Random rotation by a multiple of 90° per sample (exact; no interpolation).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomRotate90 } from 'selfsup';
 *
 * const { images, params } = new RandomRotate90().run(tf.randomUniform([4, 8, 8, 3]), { seed: 0 });
 * console.log(images.shape, params.k);
 * ```
 */
export class RandomRotate90 extends BaseTransform<Rotate90Params> {
  readonly name = 'RandomRotate90';
  readonly requiresUnitRange = false;
  private readonly options: { turns: number[]; sameOnBatch: boolean };

  constructor(options: Rotate90Options = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    const [b, h, w, c] = inputShape;
    if (h === w) return inputShape;
    const odd = this.options.turns.filter((t) => t % 2 === 1).length;
    if (odd === 0) return inputShape;
    if (odd === this.options.turns.length) return [b, w, h, c];
    throw new ShapeError(this.name, 'images', 'be square when both even and odd quarter turns are possible', formatShape(inputShape));
  }

  sample(inputShape: ImageShape, rng: Seed): Rotate90Params {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: Rotate90Params): tf.Tensor4D {
    return applyRotate90(images, params);
  }
}

/**
 * One-call random quarter-turn rotation. See {@link RandomRotate90}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomRotate90 } from 'selfsup';
 *
 * console.log(randomRotate90(tf.randomUniform([2, 8, 8, 3]), { seed: 1 }).shape); // [2, 8, 8, 3]
 * ```
 */
export function randomRotate90(images: tf.Tensor, options: Rotate90Options & RandomCallOptions & { returnParams: true }): TransformResult<Rotate90Params>;
export function randomRotate90(images: tf.Tensor, options?: Rotate90Options & RandomCallOptions): tf.Tensor4D;
export function randomRotate90(images: tf.Tensor, options: Rotate90Options & RandomCallOptions = {}): tf.Tensor4D | TransformResult<Rotate90Params> {
  return callTransform('randomRotate90', images, options, (o: Rotate90Options) => {
    readOptions(o, 'randomRotate90');
    return new RandomRotate90(o);
  });
}
