import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertKnownOptions, assertRangePair, formatShape } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, perSample, readSize, roundHalfEven } from './sampling.js';
import { PLANAR, planarResample, planarShape, POSITIONS, type Positions } from './planar.js';
import { resampleSeparable } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link RandomResizedCrop}, {@link randomResizedCrop} and {@link sampleResizedCrop}. */
export interface ResizedCropOptions {
  /**
   * Output size: one side for square output, or `[height, width]`.
   * @default the input's height and width
   */
  size?: number | readonly [number, number];
  /**
   * Range of the crop's area as a fraction of the image's area.
   * @default [0.08, 1]
   */
  scale?: readonly [number, number];
  /**
   * Range of the crop's aspect ratio (width / height), sampled log-uniformly.
   * @default [3/4, 4/3]
   */
  ratio?: readonly [number, number];
  /**
   * Use one crop box for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a resized crop: one integer box per sample, in input pixels. */
export interface ResizedCropParams {
  /** Number of samples. */
  batchSize: number;
  /** `[H, W]` of the images the boxes were sampled for. */
  inputSize: [number, number];
  /** `[height, width]` of the output. */
  outputSize: [number, number];
  /** First row of each box. */
  top: Int32Array;
  /** First column of each box. */
  left: Int32Array;
  /** Height of each box in pixels. */
  height: Int32Array;
  /** Width of each box in pixels. */
  width: Int32Array;
}

interface ResolvedOptions {
  size: [number, number] | undefined;
  scale: readonly [number, number];
  ratio: readonly [number, number];
  sameOnBatch: boolean;
}

function readOptions(options: ResizedCropOptions, fn: string): ResolvedOptions {
  assertKnownOptions(options, ['size', 'scale', 'ratio', 'sameOnBatch'], fn);
  const { size, scale = [0.08, 1], ratio = [3 / 4, 4 / 3], sameOnBatch = false } = options;
  assertRangePair(scale, fn, 'options.scale', { min: 0, max: 1 });
  if (scale[1] <= 0) throw new InvalidArgumentError(fn, 'options.scale', 'have a maximum > 0', `[${scale[0]}, ${scale[1]}]`);
  assertRangePair(ratio, fn, 'options.ratio', { min: Number.MIN_VALUE });
  if (typeof sameOnBatch !== 'boolean') throw new InvalidArgumentError(fn, 'options.sameOnBatch', 'be a boolean', String(sameOnBatch));
  return { size: size === undefined ? undefined : readSize(size, fn, 'options.size'), scale, ratio, sameOnBatch };
}

/**
 * Samples one crop box per sample by torchvision's `RandomResizedCrop.get_params`
 * rule: up to 10 attempts draw an area fraction uniformly from `scale` and an
 * aspect ratio log-uniformly from `ratio`, round the box sides (Python's
 * round-half-even) and accept the first box that fits; otherwise fall back to
 * the largest centred crop whose ratio is clamped into `ratio`.
 *
 * @param shape - `[B, H, W, C]` of the batch (e.g. `images.shape`).
 * @param rng - a seed or an {@link core!Rng} stream.
 * @returns integer boxes `top`, `left`, `height`, `width` per sample.
 *
 * @example
 * ```ts
 * import { createRng, sampleResizedCrop } from 'selfsup';
 *
 * const params = sampleResizedCrop([4, 32, 32, 3], createRng(0), { size: 24 });
 * console.log(params.top, params.left, params.height, params.width, params.outputSize);
 * ```
 */
export function sampleResizedCrop(shape: ImageShape, rng: Seed, options: ResizedCropOptions = {}): ResizedCropParams {
  const fn = 'sampleResizedCrop';
  assertSampleArgs(shape, rng, fn);
  return sampleWith(shape, rng, readOptions(options, fn));
}

function sampleWith(shape: ImageShape, seed: Seed, o: ResolvedOptions): ResizedCropParams {
  const rng = createRng(seed);
  const [b, h, w] = shape;
  const top = new Int32Array(b);
  const left = new Int32Array(b);
  const height = new Int32Array(b);
  const width = new Int32Array(b);
  const area = h * w;
  const logLo = Math.log(o.ratio[0]);
  const logHi = Math.log(o.ratio[1]);
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const target = area * rng.uniform(o.scale[0], o.scale[1]);
        const aspect = Math.exp(rng.uniform(logLo, logHi));
        const cw = roundHalfEven(Math.sqrt(target * aspect));
        const ch = roundHalfEven(Math.sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
          top[i] = rng.int(0, h - ch + 1);
          left[i] = rng.int(0, w - cw + 1);
          height[i] = ch;
          width[i] = cw;
          return;
        }
      }
      // Fallback: central crop with the ratio clamped into range.
      const inRatio = w / h;
      let cw = w;
      let ch = h;
      if (inRatio < o.ratio[0]) ch = roundHalfEven(cw / o.ratio[0]);
      else if (inRatio > o.ratio[1]) cw = roundHalfEven(ch * o.ratio[1]);
      top[i] = Math.floor((h - ch) / 2);
      left[i] = Math.floor((w - cw) / 2);
      height[i] = ch;
      width[i] = cw;
    },
    (from, to) => {
      top[to] = top[from] as number;
      left[to] = left[from] as number;
      height[to] = height[from] as number;
      width[to] = width[from] as number;
    },
  );
  return { batchSize: b, inputSize: [h, w], outputSize: o.size ?? [h, w], top, left, height, width };
}

/**
 * Source positions (input pixels) of `out` output pixels along one axis for
 * crops starting at `start` with length `len`: PyTorch's bilinear with
 * `align_corners=False` (half-pixel centres), clamped to the crop, as
 * torchvision's tensor `resized_crop` does (crop first, then resize).
 */
export function cropPositions(start: Int32Array, len: Int32Array, out: number): Float64Array {
  const n = start.length;
  const pos = new Float64Array(n * out);
  for (let s = 0; s < n; s++) {
    const l = len[s] as number;
    const scale = l / out;
    for (let i = 0; i < out; i++) {
      let p = (i + 0.5) * scale - 0.5;
      if (p < 0) p = 0;
      if (p > l - 1) p = l - 1;
      pos[s * out + i] = (start[s] as number) + p;
    }
  }
  return pos;
}

/**
 * Crops each sample to its box and resizes it to `params.outputSize` with
 * bilinear interpolation, batched (two gathers of rows and columns, no
 * per-image loop).
 *
 * Convention: torchvision's tensor path, `resized_crop(img, top, left, h, w,
 * size, antialias=False)`: half-pixel centres (`align_corners=False`) with
 * source positions clamped to the crop, so no pixel outside the box is read.
 * tfjs's `cropAndResize` uses align-corners spacing instead, and torchvision's
 * PIL path (and `antialias=True`) low-pass filters when shrinking; neither is
 * followed. Verified against torchvision in `tests/augment/resized-crop.test.ts`.
 *
 * @param images - `[B, H, W, C]` float32.
 * @returns `[B, outH, outW, C]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyResizedCrop } from 'selfsup';
 *
 * const images = tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D;
 * const params = {
 *   batchSize: 2, inputSize: [8, 8] as [number, number], outputSize: [4, 4] as [number, number],
 *   top: Int32Array.of(0, 2), left: Int32Array.of(0, 1), height: Int32Array.of(8, 4), width: Int32Array.of(8, 6),
 * };
 * console.log(applyResizedCrop(images, params).shape); // [2, 4, 4, 3]
 * ```
 */
export function applyResizedCrop(images: tf.Tensor4D, params: ResizedCropParams): tf.Tensor4D {
  const fn = 'applyResizedCrop';
  assertApplyImages(images, fn);
  const pos = cropPositionsFor(images.shape, params, fn);
  return tf.tidy(() => resampleSeparable(images, pos.rows, pos.cols, pos.outH, pos.outW));
}

/** Validates crop parameters for a batch of `shape` and returns their source positions. */
function cropPositionsFor(shape: ImageShape, params: ResizedCropParams, fn: string): Positions {
  const images = { shape };
  assertParamsFor(params, images, fn, {
    top: [params?.top, 1],
    left: [params?.left, 1],
    height: [params?.height, 1],
    width: [params?.width, 1],
  });
  const [b, h, w, c] = shape;
  const [oh, ow] = readSize(params.outputSize, fn, 'params.outputSize');
  // The output, the row-resampled intermediate and the planar copy.
  assertMemoryFits(fn, 'params.outputSize', [{ shape: [b, oh, ow, c], count: 2 }, [b, oh, w, c]]);
  for (let i = 0; i < b; i++) {
    const t = params.top[i] as number;
    const l = params.left[i] as number;
    const ch = params.height[i] as number;
    const cw = params.width[i] as number;
    if (!(ch >= 1 && cw >= 1 && t >= 0 && l >= 0 && t + ch <= h && l + cw <= w)) {
      throw new InvalidArgumentError(
        fn,
        'params',
        `hold boxes inside the ${h}×${w} images (shape ${formatShape(shape)})`,
        `box ${i} = top ${t}, left ${l}, height ${ch}, width ${cw}`,
      );
    }
  }
  return { rows: cropPositions(params.top, params.height, oh), cols: cropPositions(params.left, params.width, ow), outH: oh, outW: ow };
}

/**
 * Random resized crop (Szegedy et al. 2015's "Inception crop", the first
 * augmentation of SimCLR, MoCo, BYOL, DINO): a box of random area and aspect
 * ratio is cut out and resized to `size`. Sampling by
 * {@link sampleResizedCrop}, resampling by {@link applyResizedCrop}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { RandomResizedCrop } from 'selfsup';
 *
 * const crop = new RandomResizedCrop({ size: 16, scale: [0.2, 1] });
 * const { images, params } = crop.run(tf.randomUniform([4, 32, 32, 3]), { seed: 3 });
 * console.log(images.shape, params.height); // [4, 16, 16, 3]
 * const again = crop.apply(tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D, params); // same boxes
 * ```
 */
export class RandomResizedCrop extends BaseTransform<ResizedCropParams> {
  readonly name = 'RandomResizedCrop';
  readonly requiresUnitRange = false;
  private readonly options: ResolvedOptions;

  constructor(options: ResizedCropOptions = {}) {
    super();
    this.options = readOptions(options, 'RandomResizedCrop');
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    const [b, h, w, c] = inputShape;
    const [oh, ow] = this.options.size ?? [h, w];
    return [b, oh, ow, c];
  }

  sample(inputShape: ImageShape, rng: Seed): ResizedCropParams {
    assertSampleArgs(inputShape, rng, 'RandomResizedCrop.sample');
    return sampleWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: ResizedCropParams): tf.Tensor4D {
    return applyResizedCrop(images, params);
  }

  /** @internal */
  [POSITIONS](shape: ImageShape, params: ResizedCropParams): Positions {
    return cropPositionsFor(shape, params, 'RandomResizedCrop.apply');
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: ResizedCropParams): tf.Tensor4D {
    return planarResample(x, this[POSITIONS](planarShape(x), params));
  }
}

/**
 * One-call random resized crop: samples boxes with `seed` and applies them.
 * See {@link RandomResizedCrop}.
 *
 * @returns the cropped images `[B, size, size, C]`, or `{ images, params }`
 * with `returnParams: true`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomResizedCrop, applyResizedCrop } from 'selfsup';
 *
 * const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
 * const { images, params } = randomResizedCrop(x, { size: 24, seed: 0, returnParams: true });
 * const replay = applyResizedCrop(x, params); // identical to images
 * console.log(images.shape, tf.max(tf.abs(tf.sub(images, replay))).dataSync()[0]); // [2, 24, 24, 3] 0
 * ```
 */
export function randomResizedCrop(
  images: tf.Tensor,
  options: ResizedCropOptions & RandomCallOptions & { returnParams: true },
): TransformResult<ResizedCropParams>;
export function randomResizedCrop(images: tf.Tensor, options?: ResizedCropOptions & RandomCallOptions): tf.Tensor4D;
export function randomResizedCrop(
  images: tf.Tensor,
  options: ResizedCropOptions & RandomCallOptions = {},
): tf.Tensor4D | TransformResult<ResizedCropParams> {
  return callTransform('randomResizedCrop', images, options, (o: ResizedCropOptions) => {
    readOptions(o, 'randomResizedCrop');
    return new RandomResizedCrop(o);
  });
}
