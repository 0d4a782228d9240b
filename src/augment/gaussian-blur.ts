import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertRangePair, describeValue, FLOAT32_MAX, FLOAT32_MIN_NORMAL, formatShape } from '../core/validate.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, perSample, readCommon } from './sampling.js';
import { PLANAR, planarApplyToSubset, planarShape } from './planar.js';
import { applyToSubset } from './tensor-ops.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link GaussianBlur}, {@link gaussianBlur} and {@link sampleGaussianBlur}. */
export interface GaussianBlurOptions {
  /**
   * Odd kernel side in pixels. By default 10 % of the shorter image side,
   * rounded down to an odd number and at least 3, SimCLR's rule (23 for
   * 224-pixel images, 9 for 96, 3 for 32).
   * @default undefined (derived from the image size at apply time)
   */
  kernelSize?: number;
  /**
   * Standard deviation in pixels: a `[min, max]` range sampled uniformly per
   * sample (SimCLR, MoCo v2, BYOL, DINO use [0.1, 2.0]) or one fixed value.
   * @default [0.1, 2]
   */
  sigma?: number | readonly [number, number];
  /**
   * Probability that a sample is blurred.
   * @default 1
   */
  p?: number;
  /**
   * One sigma (and one draw of `p`) for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of a Gaussian blur. */
export interface GaussianBlurParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample is blurred. */
  applied: Uint8Array;
  /** Standard deviation per sample, pixels. */
  sigma: Float32Array;
  /** Kernel side, or `null` for the default derived from the image size. */
  kernelSize: number | null;
}

interface Resolved {
  kernelSize: number | null;
  sigma: readonly [number, number];
  p: number;
  sameOnBatch: boolean;
}

function readKernelSize(k: unknown, fn: string, arg: string): number {
  assertInteger(k, fn, arg, { min: 1 });
  if (k % 2 !== 1) throw new InvalidArgumentError(fn, arg, 'be an odd integer ≥ 1', describeValue(k));
  return k;
}

function readOptions(options: GaussianBlurOptions, fn: string): Resolved {
  assertKnownOptions(options, ['kernelSize', 'sigma', 'p', 'sameOnBatch'], fn);
  const { kernelSize, sigma = [0.1, 2] } = options;
  const range: readonly [number, number] = typeof sigma === 'number' ? [sigma, sigma] : sigma;
  assertRangePair(range, fn, 'options.sigma', { min: FLOAT32_MIN_NORMAL, max: FLOAT32_MAX });
  return {
    kernelSize: kernelSize === undefined ? null : readKernelSize(kernelSize, fn, 'options.kernelSize'),
    sigma: range,
    ...readCommon(options, fn, 1),
  };
}

/** SimCLR's kernel rule: 10 % of the side, odd, ≥ 3. */
export function defaultBlurKernelSize(height: number, width: number): number {
  const tenth = Math.floor(0.1 * Math.min(height, width));
  return Math.max(3, 2 * Math.floor(tenth / 2) + 1);
}

/** torchvision's `_get_gaussian_kernel1d`: samples of exp(−x²/2σ²) at integer offsets, normalised to sum 1. */
function kernel1d(size: number, sigma: number): Float64Array {
  const half = (size - 1) / 2;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = (i - half) / sigma;
    k[i] = Math.exp(-0.5 * x * x);
    sum += k[i] as number;
  }
  for (let i = 0; i < size; i++) k[i] = (k[i] as number) / sum;
  return k;
}

function sampleWith(shape: ImageShape, seed: Seed, o: Resolved): GaussianBlurParams {
  const rng = createRng(seed);
  const b = shape[0];
  const applied = new Uint8Array(b);
  const sigma = new Float32Array(b);
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      applied[i] = o.p >= 1 || rng.bernoulli(o.p) ? 1 : 0;
      sigma[i] = rng.uniform(o.sigma[0], o.sigma[1]);
    },
    (from, to) => {
      applied[to] = applied[from] as number;
      sigma[to] = sigma[from] as number;
    },
  );
  return { batchSize: b, applied, sigma, kernelSize: o.kernelSize };
}

/**
 * Samples which samples a Gaussian blur blurs and their sigma (uniform in the
 * range, as torchvision's `GaussianBlur.get_params`).
 *
 * @example
 * ```ts
 * import { sampleGaussianBlur } from 'selfsup';
 *
 * const params = sampleGaussianBlur([4, 96, 96, 3], 0, { p: 0.5 });
 * console.log(params.applied, params.sigma);
 * ```
 */
export function sampleGaussianBlur(shape: ImageShape, rng: Seed, options: GaussianBlurOptions = {}): GaussianBlurParams {
  const fn = 'sampleGaussianBlur';
  assertSampleArgs(shape, rng, fn);
  return sampleWith(shape, rng, readOptions(options, fn));
}

/** Validates blur parameters for a batch of `shape`; returns the kernel size. */
function blurKernelFor(shape: ImageShape, params: GaussianBlurParams, fn: string): number {
  assertParamsFor(params, { shape }, fn, { applied: [params?.applied, 1], sigma: [params?.sigma, 1] });
  const [, h, w] = shape;
  const k = params.kernelSize === null ? defaultBlurKernelSize(h, w) : readKernelSize(params.kernelSize, fn, 'params.kernelSize');
  if ((k - 1) / 2 >= Math.min(h, w)) {
    throw new ShapeError(
      fn,
      'images',
      `be larger than half the blur kernel (reflect padding of ${(k - 1) / 2} pixels needs H and W > ${(k - 1) / 2})`,
      formatShape(shape),
    );
  }
  params.sigma.forEach((s, i) => {
    if (params.applied[i] && !(s > 0)) throw new InvalidArgumentError(fn, `params.sigma[${i}]`, 'be > 0', describeValue(s));
  });
  return k;
}

/** Depthwise separable blur of `[1, H, W, n·C]` folded samples; channel `m` uses the kernel of sample `sampleOf(m)`. */
function blurFolded(folded: tf.Tensor4D, k: number, sigmas: readonly number[], sampleOf: (m: number) => number): tf.Tensor4D {
  const channels = folded.shape[3];
  const half = (k - 1) / 2;
  return tf.tidy(() => {
    const padded = tf.mirrorPad(folded, [[0, 0], [half, half], [half, half], [0, 0]], 'reflect');
    const kernels = sigmas.map((s) => kernel1d(k, s));
    const taps = new Float32Array(k * channels);
    for (let m = 0; m < channels; m++) {
      const kern = kernels[sampleOf(m)] as Float64Array;
      for (let t = 0; t < k; t++) taps[t * channels + m] = kern[t] as number;
    }
    const vertical = tf.depthwiseConv2d(padded, tf.tensor4d(taps, [k, 1, channels, 1]), 1, 'valid');
    return tf.depthwiseConv2d(vertical, tf.tensor4d(taps, [1, k, channels, 1]), 1, 'valid');
  });
}

/**
 * The planar blur in one selfsup wasm kernel: per selected sample and
 * channel, the same float32 taps along the rows then the columns, reflect
 * padding by index (no padded copy, no fold into channels and back).
 */
function blurFused(x: tf.Tensor4D, params: GaussianBlurParams, k: number): tf.Tensor4D {
  const b = params.batchSize;
  const taps = new Float32Array(b * k);
  const applied = new Float32Array(b);
  for (let s = 0; s < b; s++) {
    if (!params.applied[s]) continue;
    applied[s] = 1;
    taps.set(kernel1d(k, params.sigma[s] as number), s * k);
  }
  return tf.engine().runKernel(FUSED.gaussianBlur, { x }, { taps, applied, kernelSize: k } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * Blurs the selected samples with their own Gaussian kernel, as torchvision's
 * `gaussian_blur`: a separable kernel of `kernelSize` taps at integer offsets,
 * normalised to sum 1, with reflect padding (so the output keeps the size).
 * Batched: the samples are folded into the channel axis and each pass is one
 * depthwise convolution with a per-sample kernel, no loop over images.
 *
 * @param images - `[B, H, W, C]` float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyGaussianBlur } from 'selfsup';
 *
 * const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
 * const y = applyGaussianBlur(x, { batchSize: 2, applied: Uint8Array.of(1, 1), sigma: Float32Array.of(0.5, 2), kernelSize: 5 });
 * console.log(y.shape); // [2, 16, 16, 3]
 * ```
 */
export function applyGaussianBlur(images: tf.Tensor4D, params: GaussianBlurParams): tf.Tensor4D {
  const fn = 'applyGaussianBlur';
  assertApplyImages(images, fn);
  const [, h, w, c] = images.shape;
  const k = blurKernelFor(images.shape, params, fn);
  if (k === 1) return tf.clone(images);
  return applyToSubset(images, params.applied, (subset, indices) =>
    tf.tidy(() => {
      const n = indices.length;
      // Fold samples into channels: [n, H, W, C] → [1, H, W, n·C], channel m = s·C + ch.
      const folded = tf.reshape(tf.transpose(subset, [1, 2, 0, 3]), [1, h, w, n * c]) as tf.Tensor4D;
      const sigmas = Array.from(indices, (i) => params.sigma[i] as number);
      const blurred = blurFolded(folded, k, sigmas, (m) => Math.floor(m / c));
      return tf.transpose(tf.reshape(blurred, [h, w, n, c]), [2, 0, 1, 3]) as tf.Tensor4D;
    }),
  );
}

/**
 * Random Gaussian blur (SimCLR appendix A; torchvision's `GaussianBlur`
 * with probability `p`): per sample, sigma uniform in `sigma`, separable
 * kernel of `kernelSize` taps, reflect padding. See {@link applyGaussianBlur}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { GaussianBlur } from 'selfsup';
 *
 * const blur = new GaussianBlur({ kernelSize: 9, sigma: [0.1, 2], p: 0.5 });
 * const { images, params } = blur.run(tf.randomUniform([4, 32, 32, 3]), { seed: 1 });
 * console.log(images.shape, params.applied, params.sigma);
 * ```
 */
export class GaussianBlur extends BaseTransform<GaussianBlurParams> {
  readonly name = 'GaussianBlur';
  readonly requiresUnitRange = false;
  private readonly options: Resolved;

  constructor(options: GaussianBlurOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): GaussianBlurParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: GaussianBlurParams): tf.Tensor4D {
    return applyGaussianBlur(images, params);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: GaussianBlurParams): tf.Tensor4D {
    const [c, , h, w] = x.shape;
    const k = blurKernelFor(planarShape(x), params, 'GaussianBlur.apply');
    if (k === 1) return tf.clone(x);
    if (hasFusedKernel(FUSED.gaussianBlur) && params.applied.some((v) => v)) return blurFused(x, params, k);
    return planarApplyToSubset(x, params.applied, (subset, indices) =>
      tf.tidy(() => {
        const n = indices.length;
        // Planar [C, n, H, W] folds with a 2-D transpose: channel m = ch·n + s.
        const folded = tf.reshape(tf.transpose(tf.reshape(subset, [c * n, h * w])), [1, h, w, c * n]) as tf.Tensor4D;
        const sigmas = Array.from(indices, (i) => params.sigma[i] as number);
        const blurred = blurFolded(folded, k, sigmas, (m) => m % n);
        return tf.reshape(tf.transpose(tf.reshape(blurred, [h * w, c * n])), [c, n, h, w]) as tf.Tensor4D;
      }),
    );
  }
}

/**
 * One-call random Gaussian blur. See {@link GaussianBlur}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { gaussianBlur } from 'selfsup';
 *
 * const out = gaussianBlur(tf.randomUniform([2, 32, 32, 3]), { sigma: 1.5, seed: 0 });
 * console.log(out.shape); // [2, 32, 32, 3]
 * ```
 */
export function gaussianBlur(images: tf.Tensor, options: GaussianBlurOptions & RandomCallOptions & { returnParams: true }): TransformResult<GaussianBlurParams>;
export function gaussianBlur(images: tf.Tensor, options?: GaussianBlurOptions & RandomCallOptions): tf.Tensor4D;
export function gaussianBlur(images: tf.Tensor, options: GaussianBlurOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<GaussianBlurParams> {
  return callTransform('gaussianBlur', images, options, (o: GaussianBlurOptions) => {
    readOptions(o, 'gaussianBlur');
    return new GaussianBlur(o);
  });
}
