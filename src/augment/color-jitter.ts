import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertKnownOptions, describeValue, formatShape } from '../core/validate.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { affineClip, grayMean, grayPlane, hueShiftPlanes } from './color-planes.js';
import { assertApplyImages } from './image-input.js';
import { fromPlanar, PLANAR, planarChannels, planarFromChannels, planarShape, toPlanar } from './planar.js';
import { assertParamsFor, assertSampleArgs, perSample, readCommon } from './sampling.js';
import { applyToPlaneSubset, column, expandColumn, type Planes } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** A jitter strength `s` (factor range `[max(0, 1 − s), 1 + s]`, or `[−s, s]` for hue) or an explicit `[min, max]` range. */
export type JitterRange = number | readonly [number, number];

/** Options of {@link ColorJitter}, {@link colorJitter} and {@link sampleColorJitter}. */
export interface ColorJitterOptions {
  /**
   * Brightness factor range (≥ 0); 0 disables.
   * @default 0
   */
  brightness?: JitterRange;
  /**
   * Contrast factor range (≥ 0); 0 disables.
   * @default 0
   */
  contrast?: JitterRange;
  /**
   * Saturation factor range (≥ 0); 0 disables.
   * @default 0
   */
  saturation?: JitterRange;
  /**
   * Hue shift range in turns, within [−0.5, 0.5]; a number `h` in [0, 0.5]
   * means `[−h, h]`; 0 disables.
   * @default 0
   */
  hue?: JitterRange;
  /**
   * Probability that a sample is jittered at all (SimCLR, MoCo v2, BYOL and
   * DINO wrap the jitter in `RandomApply(p = 0.8)`).
   * @default 1
   */
  p?: number;
  /**
   * One set of factors and one order for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a colour jitter: per-sample factors and order of the four adjustments. */
export interface ColorJitterParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is jittered (the factors of the others are neutral). */
  applied: Uint8Array;
  /**
   * `4·B` entries: sample `i` applies adjustment `order[4i]` first, …,
   * `order[4i + 3]` last (0 brightness, 1 contrast, 2 saturation, 3 hue).
   */
  order: Uint8Array;
  /** Brightness factor per sample (1 = unchanged). */
  brightness: Float32Array;
  /** Contrast factor per sample (1 = unchanged). */
  contrast: Float32Array;
  /** Saturation factor per sample (1 = unchanged). */
  saturation: Float32Array;
  /** Hue shift per sample in turns (0 = unchanged). */
  hue: Float32Array;
}

interface ResolvedJitter {
  ranges: [[number, number] | null, [number, number] | null, [number, number] | null, [number, number] | null];
  p: number;
  sameOnBatch: boolean;
}

// torchvision's ColorJitter._check_input: a number s is the range [1 − s, 1 + s]
// (clipped at 0) around the neutral factor, or [−s, s] for hue; a range equal
// to the neutral value disables the adjustment.
function readRange(value: unknown, fn: string, name: string, isHue: boolean): [number, number] | null {
  const arg = `options.${name}`;
  const center = isHue ? 0 : 1;
  let range: [number, number];
  if (typeof value === 'number') {
    const max = isHue ? 0.5 : Infinity;
    if (!(Number.isFinite(value) && value >= 0 && value <= max)) {
      throw new InvalidArgumentError(fn, arg, isHue ? 'be a number in [0, 0.5] or a [min, max] pair' : 'be a number ≥ 0 or a [min, max] pair', describeValue(value));
    }
    range = [center - value, center + value];
    if (!isHue) range[0] = Math.max(range[0], 0);
  } else if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    range = [value[0] as number, value[1] as number];
    const [lo, hi] = isHue ? [-0.5, 0.5] : [0, Infinity];
    if (!(range[0] <= range[1] && range[0] >= lo && range[1] <= hi)) {
      throw new InvalidArgumentError(fn, arg, `be a [min, max] pair with min ≤ max within [${lo}, ${hi}]`, describeValue(value));
    }
  } else {
    throw new InvalidArgumentError(fn, arg, 'be a number or a [min, max] pair', describeValue(value));
  }
  return range[0] === center && range[1] === center ? null : range;
}

function readOptions(options: ColorJitterOptions, fn: string): ResolvedJitter {
  assertKnownOptions(options, ['brightness', 'contrast', 'saturation', 'hue', 'p', 'sameOnBatch'], fn);
  const { brightness = 0, contrast = 0, saturation = 0, hue = 0 } = options;
  return {
    ranges: [
      readRange(brightness, fn, 'brightness', false),
      readRange(contrast, fn, 'contrast', false),
      readRange(saturation, fn, 'saturation', false),
      readRange(hue, fn, 'hue', true),
    ],
    ...readCommon(options, fn, 1),
  };
}

function sampleWith(shape: ImageShape, seed: Seed, o: ResolvedJitter): ColorJitterParams {
  const rng = createRng(seed);
  const b = shape[0];
  const applied = new Uint8Array(b);
  const order = new Uint8Array(4 * b);
  const factors = [new Float32Array(b).fill(1), new Float32Array(b).fill(1), new Float32Array(b).fill(1), new Float32Array(b)];
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      applied[i] = o.p >= 1 || rng.bernoulli(o.p) ? 1 : 0;
      // torchvision draws a random order (randperm(4)) and then each enabled factor.
      order.set(rng.permutation(4), 4 * i);
      if (!applied[i]) return;
      o.ranges.forEach((range, k) => {
        if (range) (factors[k] as Float32Array)[i] = rng.uniform(range[0], range[1]);
      });
    },
    (from, to) => {
      applied[to] = applied[from] as number;
      order.copyWithin(4 * to, 4 * from, 4 * from + 4);
      for (const f of factors) f[to] = f[from] as number;
    },
  );
  const [brightness, contrast, saturation, hue] = factors as [Float32Array, Float32Array, Float32Array, Float32Array];
  return { batchSize: b, applied, order, brightness, contrast, saturation, hue };
}

/**
 * Samples colour-jitter parameters as torchvision's `ColorJitter.get_params`,
 * once per sample: a random order of the four adjustments (`randperm(4)`),
 * then a factor drawn uniformly from each enabled range.
 *
 * @example
 * ```ts
 * import { sampleColorJitter } from 'selfsup';
 *
 * const params = sampleColorJitter([2, 32, 32, 3], 0, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 });
 * console.log(params.order, params.brightness, params.hue);
 * ```
 */
export function sampleColorJitter(shape: ImageShape, rng: Seed, options: ColorJitterOptions = {}): ColorJitterParams {
  const fn = 'sampleColorJitter';
  assertSampleArgs(shape, rng, fn);
  return sampleWith(shape, rng, readOptions(options, fn));
}

const OP_BRIGHTNESS = 0;
const OP_CONTRAST = 1;
const OP_SATURATION = 2;
const OP_HUE = 3;

/**
 * The per-sample maps of order slot `slot` (0–3). The blends of the slot
 * become one affine map clip(a·x + g·gray + c·mean): brightness (a = f),
 * contrast (a = f, c = 1 − f), saturation (a = f, g = 1 − f); a = 1, g = c = 0
 * is the identity, bit for bit, for the samples doing something else here.
 * `hueHere` marks the samples rotating hue in this slot. With `colour` false (gray
 * images) saturation and hue are skipped: they leave a gray image unchanged.
 * One function for both paths, so colour and gray images read the sampled
 * order identically.
 */
function slotMaps(params: ColorJitterParams, slot: number, colour: boolean) {
  const b = params.batchSize;
  const a = new Float32Array(b).fill(1);
  const g = new Float32Array(b);
  const c = new Float32Array(b);
  const hueHere = new Uint8Array(b);
  let affine = false;
  let needGray = false;
  let needMean = false;
  for (let i = 0; i < b; i++) {
    if (!params.applied[i]) continue;
    const op = params.order[4 * i + slot];
    if (op === OP_BRIGHTNESS && params.brightness[i] !== 1) {
      a[i] = params.brightness[i] as number;
      affine = true;
    } else if (op === OP_CONTRAST && params.contrast[i] !== 1) {
      a[i] = params.contrast[i] as number;
      c[i] = 1 - (params.contrast[i] as number);
      affine = needMean = true;
    } else if (colour && op === OP_SATURATION && params.saturation[i] !== 1) {
      a[i] = params.saturation[i] as number;
      g[i] = 1 - (params.saturation[i] as number);
      affine = needGray = true;
    } else if (colour && op === OP_HUE && params.hue[i] !== 0) {
      hueHere[i] = 1;
    }
  }
  return { a, g, c, hueHere, affine, needGray, needMean };
}

/** Planes in, planes out: the jitter body shared by {@link applyColorJitter} and fused pipelines. */
export function jitterPlanes(input: Planes, params: ColorJitterParams): Planes {
  const b = params.batchSize;
  const width = input[0].shape[1];
  let planes = input;
  for (let slot = 0; slot < 4; slot++) {
    const { a, g, c, hueHere, affine, needGray, needMean } = slotMaps(params, slot, true);
    if (affine) {
      const current = planes;
      planes = tf.tidy(() => {
        let offset: tf.Tensor | null = null;
        if (needMean) offset = expandColumn(tf.mul(grayMean(current), tf.tensor2d(c, [b, 1])), width);
        if (needGray) {
          const sat = tf.mul(grayPlane(current), column(g, width));
          offset = offset ? tf.add(sat, offset) : sat;
        }
        return affineClip(current, column(a, width), offset);
      });
      if (current !== input) tf.dispose(current);
    }
    if (hueHere.some((v) => v)) {
      const current = planes;
      planes = applyToPlaneSubset(current, hueHere, (sub, idx) =>
        tf.tidy(() => hueShiftPlanes(sub, column(Array.from(idx, (k) => params.hue[k] as number), width))),
      );
      if (current !== input) tf.dispose(current);
    }
  }
  if (planes === input) return input.map((p) => tf.clone(p)) as Planes;
  // Hue rotation is exact only up to float rounding: keep the documented range.
  const last = planes;
  const out = tf.tidy(() => last.map((p) => tf.clipByValue(p, 0, 1)) as Planes);
  tf.dispose(last);
  return out;
}

/**
 * Jitter of planar `[1, B, H, W]` grayscale images, as torchvision treats a
 * 1-channel tensor: brightness and contrast (around the image's own mean)
 * apply in the sample's order; saturation and hue leave a gray image
 * unchanged, so they are skipped exactly rather than computed as x·f + x·(1 − f).
 */
function jitterGrayPlanar(x: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
  const [, b, h, w] = x.shape;
  const width = h * w;
  const input = tf.reshape(x, [b, width]) as tf.Tensor2D;
  let plane = input;
  for (let slot = 0; slot < 4; slot++) {
    const { a, c, affine, needMean } = slotMaps(params, slot, false);
    if (!affine) continue;
    const current = plane;
    plane = tf.tidy(() => {
      const offset = needMean ? expandColumn(tf.mul(tf.mean(current, 1, true), tf.tensor2d(c, [b, 1])), width) : null;
      return (affineClip([current] as unknown as Planes, column(a, width), offset)[0] as tf.Tensor2D);
    });
    if (current !== input) current.dispose();
  }
  const out = tf.reshape(plane, [1, b, h, w]) as tf.Tensor4D;
  const result = plane === input ? tf.clone(out) : out;
  if (plane !== input) plane.dispose();
  input.dispose();
  if (result !== out) out.dispose();
  return result;
}

/** Jitter of planar `[3, B, H, W]` (or `[1, B, H, W]` grayscale) images (validated by the caller). */
function jitterPlanar(x: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
  if (x.shape[0] === 1) return jitterGrayPlanar(x, params);
  if (hasFusedKernel(FUSED.colorJitter)) return jitterFused(x, params);
  // Separate [B, H·W] planes beat one stacked [3·B, H·W] tensor here: each op's
  // working set stays a third as large (measured ≈ 1.5× faster on wasm).
  const [, , h, w] = x.shape;
  const planes = planarChannels(x);
  const out = jitterPlanes(planes, params);
  const result = planarFromChannels(out, h, w);
  tf.dispose([...planes, ...out]);
  return result;
}

/**
 * {@link jitterPlanar} in one selfsup wasm kernel (src/kernels/c/augment.c):
 * per sample, its four adjustments in its order on its planes while they are
 * in cache, with the arithmetic of {@link jitterPlanes} (about 60 batch-wide
 * tfjs ops there).
 */
function jitterFused(x: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
  const b = params.batchSize;
  const packed = new Float32Array(9 * b);
  for (let i = 0; i < b; i++) {
    packed[9 * i] = params.applied[i] as number;
    for (let slot = 0; slot < 4; slot++) packed[9 * i + 1 + slot] = params.order[4 * i + slot] as number;
    packed[9 * i + 5] = params.brightness[i] as number;
    packed[9 * i + 6] = params.contrast[i] as number;
    packed[9 * i + 7] = params.saturation[i] as number;
    packed[9 * i + 8] = params.hue[i] as number;
  }
  return tf.engine().runKernel(FUSED.colorJitter, { x }, { params: packed } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

function assertJitterParams(params: ColorJitterParams, shape: ImageShape, fn: string): void {
  assertParamsFor(params, { shape }, fn, {
    applied: [params?.applied, 1],
    order: [params?.order, 4],
    brightness: [params?.brightness, 1],
    contrast: [params?.contrast, 1],
    saturation: [params?.saturation, 1],
    hue: [params?.hue, 1],
  });
}

/**
 * Applies colour-jitter parameters: for each sample, brightness, contrast,
 * saturation and hue adjustments (torchvision's `adjust_*`, see
 * {@link adjustBrightness} …) in the sample's own order. Batched: in each of
 * the four order slots the three blend adjustments run as one per-sample
 * affine map over the batch, and the hue rotation runs on the sub-batch that
 * has it in that slot.
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1], or `[B, H, W, 1]`
 *   grayscale, where (as in torchvision) only brightness and contrast change
 *   the image and saturation and hue leave it as it is.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyColorJitter, sampleColorJitter } from 'selfsup';
 *
 * const x = tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D;
 * const params = sampleColorJitter(x.shape, 5, { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 });
 * console.log(applyColorJitter(x, params).shape); // [2, 8, 8, 3]
 * ```
 */
export function applyColorJitter(images: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
  const fn = 'applyColorJitter';
  assertApplyImages(images, fn, [1, 3]);
  assertJitterParams(params, images.shape, fn);
  const planar = toPlanar(images);
  const result = jitterPlanar(planar, params);
  planar.dispose();
  const out = fromPlanar(result);
  result.dispose();
  return out;
}

/**
 * Random colour jitter (torchvision's `ColorJitter`, applied with
 * probability `p`): per sample, random brightness, contrast, saturation and
 * hue factors, applied in a random order. SimCLR uses strength `s = 1`:
 * `(0.8s, 0.8s, 0.8s, 0.2s)` with p = 0.8.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ColorJitter } from 'selfsup';
 *
 * const jitter = new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 });
 * const { images, params } = jitter.run(tf.randomUniform([4, 8, 8, 3]), { seed: 0 });
 * console.log(images.shape, params.applied);
 * ```
 */
export class ColorJitter extends BaseTransform<ColorJitterParams> {
  readonly name = 'ColorJitter';
  readonly requiresUnitRange = true;
  readonly channels = [1, 3];
  private readonly options: ResolvedJitter;

  constructor(options: ColorJitterOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): ColorJitterParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
    return applyColorJitter(images, params);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: ColorJitterParams): tf.Tensor4D {
    if (x.shape[0] !== 3 && x.shape[0] !== 1) {
      throw new ShapeError('ColorJitter.apply', 'images', 'have 1 or 3 channels (last axis of NHWC)', formatShape(planarShape(x)));
    }
    assertJitterParams(params, planarShape(x), 'ColorJitter.apply');
    return jitterPlanar(x, params);
  }
}

/**
 * One-call random colour jitter. See {@link ColorJitter}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { colorJitter } from 'selfsup';
 *
 * const out = colorJitter(tf.randomUniform([4, 8, 8, 3]), { brightness: 0.8, hue: 0.2, seed: 7 });
 * console.log(out.shape); // [4, 8, 8, 3]
 * ```
 */
export function colorJitter(images: tf.Tensor, options: ColorJitterOptions & RandomCallOptions & { returnParams: true }): TransformResult<ColorJitterParams>;
export function colorJitter(images: tf.Tensor, options?: ColorJitterOptions & RandomCallOptions): tf.Tensor4D;
export function colorJitter(images: tf.Tensor, options: ColorJitterOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<ColorJitterParams> {
  return callTransform('colorJitter', images, options, (o: ColorJitterOptions) => {
    readOptions(o, 'colorJitter');
    return new ColorJitter(o);
  });
}
