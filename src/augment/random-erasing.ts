import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertRangePair, describeValue, formatShape } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, perSample, readCommon, roundHalfEven } from './sampling.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Fill of erased pixels: one value, one per channel, or `'random'` (standard normal noise, as torchvision's `value='random'`). */
export type EraseValue = number | readonly number[] | 'random';

/** Options of {@link RandomErasing}, {@link randomErasing} and {@link sampleRandomErasing}. */
export interface RandomErasingOptions {
  /**
   * Range of the erased area as a fraction of the image.
   * @default [0.02, 0.33]
   */
  scale?: readonly [number, number];
  /**
   * Range of the erased box's aspect ratio (height / width), log-uniform.
   * @default [0.3, 3.3]
   */
  ratio?: readonly [number, number];
  /**
   * Fill value.
   * @default 0
   */
  value?: EraseValue;
  /**
   * Probability that a sample is erased.
   * @default 0.5
   */
  p?: number;
  /**
   * One box for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Options of {@link Cutout}, {@link cutout} and {@link sampleCutout}. */
export interface CutoutOptions {
  /**
   * Side of the square holes in pixels (DeVries & Taylor used 16 on CIFAR-10's 32×32).
   * @default half of the shorter image side
   */
  size?: number;
  /**
   * Holes per image.
   * @default 1
   */
  count?: number;
  /**
   * Fill value.
   * @default 0
   */
  value?: EraseValue;
  /**
   * Probability that a sample gets its holes.
   * @default 1
   */
  p?: number;
  /**
   * The same holes for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of random erasing and cutout: boxes per sample and the fill. */
export interface ErasingParams {
  /** Number of samples. */
  batchSize: number;
  /** Boxes per sample (`k`); the box arrays hold `B·k` entries. */
  boxesPerSample: number;
  /** First row of each box. */
  top: Int32Array;
  /** First column of each box. */
  left: Int32Array;
  /** Box height (0: no box). */
  height: Int32Array;
  /** Box width (0: no box). */
  width: Int32Array;
  /** Fill per channel (length 1 or C), or `null` for standard normal noise. */
  value: Float32Array | null;
  /** Seed of each sample's noise fill (used when `value` is `null`). */
  noiseSeed: Uint32Array;
}

function readValue(value: unknown, fn: string): Float32Array | null {
  if (value === 'random') return null;
  if (typeof value === 'number' && Number.isFinite(value)) return Float32Array.of(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return Float32Array.from(value);
  throw new InvalidArgumentError(fn, 'options.value', "be a number, an array of per-channel numbers or 'random'", describeValue(value));
}

interface ResolvedErasing {
  scale: readonly [number, number];
  ratio: readonly [number, number];
  value: Float32Array | null;
  p: number;
  sameOnBatch: boolean;
}

function readErasing(options: RandomErasingOptions, fn: string): ResolvedErasing {
  assertKnownOptions(options, ['scale', 'ratio', 'value', 'p', 'sameOnBatch'], fn);
  const { scale = [0.02, 0.33], ratio = [0.3, 3.3], value = 0 } = options;
  assertRangePair(scale, fn, 'options.scale', { min: 0, max: 1 });
  assertRangePair(ratio, fn, 'options.ratio', { min: Number.MIN_VALUE });
  return { scale, ratio, value: readValue(value, fn), ...readCommon(options, fn, 0.5) };
}

interface ResolvedCutout {
  size: number | undefined;
  count: number;
  value: Float32Array | null;
  p: number;
  sameOnBatch: boolean;
}

function readCutout(options: CutoutOptions, fn: string): ResolvedCutout {
  assertKnownOptions(options, ['size', 'count', 'value', 'p', 'sameOnBatch'], fn);
  const { size, count = 1, value = 0 } = options;
  if (size !== undefined) assertInteger(size, fn, 'options.size', { min: 1 });
  assertInteger(count, fn, 'options.count', { min: 1, max: 1024 });
  return { size, count, value: readValue(value, fn), ...readCommon(options, fn, 1) };
}

function emptyParams(b: number, k: number, value: Float32Array | null): ErasingParams {
  return {
    batchSize: b,
    boxesPerSample: k,
    top: new Int32Array(b * k),
    left: new Int32Array(b * k),
    height: new Int32Array(b * k),
    width: new Int32Array(b * k),
    value,
    noiseSeed: new Uint32Array(b),
  };
}

function copyBoxes(p: ErasingParams, from: number, to: number): void {
  const k = p.boxesPerSample;
  for (const a of [p.top, p.left, p.height, p.width]) a.copyWithin(to * k, from * k, from * k + k);
  p.noiseSeed[to] = p.noiseSeed[from] as number;
}

function sampleErasingWith(shape: ImageShape, seed: Seed, o: ResolvedErasing): ErasingParams {
  const rng = createRng(seed);
  const [b, h, w] = shape;
  const out = emptyParams(b, 1, o.value);
  const area = h * w;
  const logLo = Math.log(o.ratio[0]);
  const logHi = Math.log(o.ratio[1]);
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      out.noiseSeed[i] = rng.nextUint32();
      if (!(o.p >= 1 || rng.bernoulli(o.p))) return;
      // torchvision's RandomErasing.get_params: 10 attempts, else no erasing.
      for (let attempt = 0; attempt < 10; attempt++) {
        const eraseArea = area * rng.uniform(o.scale[0], o.scale[1]);
        const aspect = Math.exp(rng.uniform(logLo, logHi));
        const eh = roundHalfEven(Math.sqrt(eraseArea * aspect));
        const ew = roundHalfEven(Math.sqrt(eraseArea / aspect));
        if (!(eh < h && ew < w)) continue;
        out.top[i] = rng.int(0, h - eh + 1);
        out.left[i] = rng.int(0, w - ew + 1);
        out.height[i] = eh;
        out.width[i] = ew;
        return;
      }
    },
    (from, to) => copyBoxes(out, from, to),
  );
  return out;
}

function sampleCutoutWith(shape: ImageShape, seed: Seed, o: ResolvedCutout, fn: string): ErasingParams {
  const rng = createRng(seed);
  const [b, h, w] = shape;
  const size = o.size ?? Math.max(1, Math.floor(Math.min(h, w) / 2));
  if (size > Math.min(h, w)) {
    throw new ShapeError(fn, 'options.size', `be at most the image side (${Math.min(h, w)} for images ${formatShape(shape)})`, String(size));
  }
  const k = o.count;
  const out = emptyParams(b, k, o.value);
  const half = Math.floor(size / 2);
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      out.noiseSeed[i] = rng.nextUint32();
      if (!(o.p >= 1 || rng.bernoulli(o.p))) return;
      // DeVries & Taylor's Cutout: centre anywhere, box clipped to the image.
      for (let j = 0; j < k; j++) {
        const cy = rng.int(0, h);
        const cx = rng.int(0, w);
        const y1 = Math.max(0, cy - half);
        const y2 = Math.min(h, cy + half);
        const x1 = Math.max(0, cx - half);
        const x2 = Math.min(w, cx + half);
        out.top[i * k + j] = y1;
        out.left[i * k + j] = x1;
        out.height[i * k + j] = y2 - y1;
        out.width[i * k + j] = x2 - x1;
      }
    },
    (from, to) => copyBoxes(out, from, to),
  );
  return out;
}

/**
 * Samples random-erasing boxes by torchvision's `RandomErasing.get_params`:
 * with probability `p`, up to 10 attempts draw an area fraction from `scale`
 * and a log-uniform aspect ratio (height / width) from `ratio`; the first
 * box strictly smaller than the image is placed uniformly; no box otherwise.
 *
 * @example
 * ```ts
 * import { sampleRandomErasing } from 'selfsup';
 *
 * const p = sampleRandomErasing([4, 32, 32, 3], 0, { p: 1 });
 * console.log(p.top, p.left, p.height, p.width);
 * ```
 */
export function sampleRandomErasing(shape: ImageShape, rng: Seed, options: RandomErasingOptions = {}): ErasingParams {
  const fn = 'sampleRandomErasing';
  assertSampleArgs(shape, rng, fn);
  return sampleErasingWith(shape, rng, readErasing(options, fn));
}

/**
 * Samples Cutout holes (DeVries & Taylor 2017): `count` squares of side
 * `size` per image, centred uniformly, clipped at the image border.
 *
 * @example
 * ```ts
 * import { sampleCutout } from 'selfsup';
 *
 * console.log(sampleCutout([2, 32, 32, 3], 0, { size: 16, count: 2 }).height);
 * ```
 */
export function sampleCutout(shape: ImageShape, rng: Seed, options: CutoutOptions = {}): ErasingParams {
  const fn = 'sampleCutout';
  assertSampleArgs(shape, rng, fn);
  return sampleCutoutWith(shape, rng, readCutout(options, fn), fn);
}

/**
 * Fills the boxes of {@link ErasingParams} (from random erasing or cutout)
 * with the fill value, batched: a per-sample box mask is built from row and
 * column indicator vectors, no loop over images.
 *
 * @param images - `[B, H, W, C]` float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyErasing, sampleCutout } from 'selfsup';
 *
 * const x = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
 * const y = applyErasing(x, sampleCutout(x.shape, 1, { size: 4 }));
 * console.log(tf.sum(y).dataSync()[0]); // 2·(64 − holes)·3
 * ```
 */
export function applyErasing(images: tf.Tensor4D, params: ErasingParams): tf.Tensor4D {
  const fn = 'applyErasing';
  assertApplyImages(images, fn);
  const k = params?.boxesPerSample;
  assertInteger(k, fn, 'params.boxesPerSample', { min: 1 });
  assertParamsFor(params, images, fn, {
    top: [params.top, k],
    left: [params.left, k],
    height: [params.height, k],
    width: [params.width, k],
    noiseSeed: [params.noiseSeed, 1],
  });
  const [b, h, w, c] = images.shape;
  if (params.value !== null && params.value.length !== 1 && params.value.length !== c) {
    throw new InvalidArgumentError(fn, 'params.value', `have 1 or ${c} entries (one per channel)`, describeValue(params.value));
  }
  const rows = new Float32Array(b * k * h);
  const cols = new Float32Array(b * k * w);
  let any = false;
  for (let n = 0; n < b * k; n++) {
    const t = params.top[n] as number;
    const l = params.left[n] as number;
    const bh = params.height[n] as number;
    const bw = params.width[n] as number;
    if (bh <= 0 || bw <= 0) continue;
    if (t < 0 || l < 0 || t + bh > h || l + bw > w) {
      throw new InvalidArgumentError(fn, 'params', `hold boxes inside the ${h}×${w} images`, `box ${n} = top ${t}, left ${l}, height ${bh}, width ${bw}`);
    }
    any = true;
    rows.fill(1, n * h + t, n * h + t + bh);
    cols.fill(1, n * w + l, n * w + l + bw);
  }
  if (!any) return tf.clone(images);
  return tf.tidy(() => {
    const perBox = tf.mul(tf.tensor4d(rows, [b, k, h, 1]), tf.tensor4d(cols, [b, k, 1, w]));
    const mask = tf.reshape(k === 1 ? perBox : tf.max(perBox, 1), [b, h, w, 1]);
    let fill: tf.Tensor;
    if (params.value === null) {
      const noise = new Float32Array(b * h * w * c);
      for (let i = 0; i < b; i++) {
        const rng = new Rng(params.noiseSeed[i] as number);
        for (let m = 0; m < h * w * c; m++) noise[i * h * w * c + m] = rng.normal();
      }
      fill = tf.tensor4d(noise, [b, h, w, c]);
    } else {
      fill = params.value.length === 1 ? tf.scalar(params.value[0] as number) : tf.tensor1d(params.value);
    }
    return tf.add(tf.mul(images, tf.sub(1, mask)), tf.mul(mask, fill)) as tf.Tensor4D;
  });
}

/**
 * Random erasing (Zhong et al. 2020; torchvision's `RandomErasing`): with
 * probability `p`, a box of random area and aspect ratio is filled with
 * `value`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomErasing } from 'selfsup';
 *
 * const { images, params } = new RandomErasing({ p: 1, value: 'random' }).run(tf.randomUniform([2, 16, 16, 3]), { seed: 0 });
 * console.log(images.shape, params.height, params.width);
 * ```
 */
export class RandomErasing extends BaseTransform<ErasingParams> {
  readonly name = 'RandomErasing';
  readonly requiresUnitRange = false;
  private readonly options: ResolvedErasing;

  constructor(options: RandomErasingOptions = {}) {
    super();
    this.options = readErasing(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): ErasingParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleErasingWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: ErasingParams): tf.Tensor4D {
    return applyErasing(images, params);
  }
}

/**
 * Cutout (DeVries & Taylor 2017): square holes filled with `value`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Cutout } from 'selfsup';
 *
 * const out = new Cutout({ size: 8 }).run(tf.ones([2, 32, 32, 3]), { seed: 0 }).images;
 * console.log(out.shape); // [2, 32, 32, 3]
 * ```
 */
export class Cutout extends BaseTransform<ErasingParams> {
  readonly name = 'Cutout';
  readonly requiresUnitRange = false;
  private readonly options: ResolvedCutout;

  constructor(options: CutoutOptions = {}) {
    super();
    this.options = readCutout(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): ErasingParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleCutoutWith(inputShape, rng, this.options, `${this.name}.sample`);
  }

  apply(images: tf.Tensor4D, params: ErasingParams): tf.Tensor4D {
    return applyErasing(images, params);
  }
}

/**
 * One-call random erasing. See {@link RandomErasing}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomErasing } from 'selfsup';
 *
 * console.log(randomErasing(tf.randomUniform([2, 16, 16, 3]), { p: 1, seed: 0 }).shape); // [2, 16, 16, 3]
 * ```
 */
export function randomErasing(images: tf.Tensor, options: RandomErasingOptions & RandomCallOptions & { returnParams: true }): TransformResult<ErasingParams>;
export function randomErasing(images: tf.Tensor, options?: RandomErasingOptions & RandomCallOptions): tf.Tensor4D;
export function randomErasing(images: tf.Tensor, options: RandomErasingOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<ErasingParams> {
  return callTransform('randomErasing', images, options, (o: RandomErasingOptions) => {
    readErasing(o, 'randomErasing');
    return new RandomErasing(o);
  });
}

/**
 * One-call Cutout. See {@link Cutout}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { cutout } from 'selfsup';
 *
 * console.log(cutout(tf.ones([2, 32, 32, 3]), { size: 16, seed: 1 }).shape); // [2, 32, 32, 3]
 * ```
 */
export function cutout(images: tf.Tensor, options: CutoutOptions & RandomCallOptions & { returnParams: true }): TransformResult<ErasingParams>;
export function cutout(images: tf.Tensor, options?: CutoutOptions & RandomCallOptions): tf.Tensor4D;
export function cutout(images: tf.Tensor, options: CutoutOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<ErasingParams> {
  return callTransform('cutout', images, options, (o: CutoutOptions) => {
    readCutout(o, 'cutout');
    return new Cutout(o);
  });
}
