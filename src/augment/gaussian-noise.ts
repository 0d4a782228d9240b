import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, Rng, type Seed } from '../core/rng.js';
import { assertFiniteNumber, assertKnownOptions, assertRangePair, describeValue } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, perSample, readCommon } from './sampling.js';
import {
  BaseTransform,
  callTransform,
  type ImageShape,
  type RandomCallOptions,
  type TransformResult,
} from './transform.js';

/** Options of {@link GaussianNoise}, {@link gaussianNoise} and {@link sampleGaussianNoise}. */
export interface GaussianNoiseOptions {
  /**
   * Noise standard deviation: fixed, or a `[min, max]` range sampled per sample.
   * @default 0.1
   */
  std?: number | readonly [number, number];
  /**
   * Noise mean.
   * @default 0
   */
  mean?: number;
  /**
   * Clip the result to [0, 1].
   * @default true
   */
  clip?: boolean;
  /**
   * Probability that a sample gets noise.
   * @default 1
   */
  p?: number;
  /**
   * One standard deviation and one noise pattern for the whole batch.
   * @default false
   */
  sameOnBatch?: boolean;
}

/** Parameters of additive Gaussian noise: per-sample scale and the seed of each sample's noise. */
export interface GaussianNoiseParams {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the sample gets noise. */
  applied: Uint8Array;
  /** Standard deviation per sample. */
  std: Float32Array;
  /** Seed of each sample's noise image (the noise itself is regenerated on apply). */
  noiseSeed: Uint32Array;
  /** Noise mean. */
  mean: number;
  /** Whether the result is clipped to [0, 1]. */
  clip: boolean;
}

interface Resolved {
  std: readonly [number, number];
  mean: number;
  clip: boolean;
  p: number;
  sameOnBatch: boolean;
}

function readOptions(options: GaussianNoiseOptions, fn: string): Resolved {
  assertKnownOptions(options, ['std', 'mean', 'clip', 'p', 'sameOnBatch'], fn);
  const { std = 0.1, mean = 0, clip = true } = options;
  const range: readonly [number, number] = typeof std === 'number' ? [std, std] : std;
  assertRangePair(range, fn, 'options.std', { min: 0 });
  assertFiniteNumber(mean, fn, 'options.mean');
  if (typeof clip !== 'boolean') throw new InvalidArgumentError(fn, 'options.clip', 'be a boolean', describeValue(clip));
  return { std: range, mean, clip, ...readCommon(options, fn, 1) };
}

function sampleWith(shape: ImageShape, seed: Seed, o: Resolved): GaussianNoiseParams {
  const rng = createRng(seed);
  const b = shape[0];
  const applied = new Uint8Array(b);
  const std = new Float32Array(b);
  const noiseSeed = new Uint32Array(b);
  perSample(
    b,
    o.sameOnBatch,
    (i) => {
      applied[i] = o.p >= 1 || rng.bernoulli(o.p) ? 1 : 0;
      std[i] = rng.uniform(o.std[0], o.std[1]);
      noiseSeed[i] = rng.nextUint32();
    },
    (from, to) => {
      applied[to] = applied[from] as number;
      std[to] = std[from] as number;
      noiseSeed[to] = noiseSeed[from] as number;
    },
  );
  return { batchSize: b, applied, std, noiseSeed, mean: o.mean, clip: o.clip };
}

/**
 * Samples additive-noise parameters: per sample a standard deviation and a
 * seed from which its noise image is generated (so params stay small and
 * replay regenerates the identical noise).
 *
 * @example
 * ```ts
 * import { sampleGaussianNoise } from 'selfsup';
 *
 * console.log(sampleGaussianNoise([2, 8, 8, 3], 0, { std: [0.05, 0.2] }).std);
 * ```
 */
export function sampleGaussianNoise(shape: ImageShape, rng: Seed, options: GaussianNoiseOptions = {}): GaussianNoiseParams {
  const fn = 'sampleGaussianNoise';
  assertSampleArgs(shape, rng, fn);
  return sampleWith(shape, rng, readOptions(options, fn));
}

/**
 * Adds `mean + std·N(0, 1)` noise per pixel and channel to the selected
 * samples (then clips to [0, 1] when `params.clip`). The noise comes from
 * selfsup's seeded generator, not from a backend kernel, so it is identical
 * on every backend.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyGaussianNoise, sampleGaussianNoise } from 'selfsup';
 *
 * const x = tf.fill([2, 4, 4, 3], 0.5) as tf.Tensor4D;
 * const y = applyGaussianNoise(x, sampleGaussianNoise(x.shape, 1, { std: 0.1 }));
 * console.log(y.shape); // [2, 4, 4, 3]
 * ```
 */
export function applyGaussianNoise(images: tf.Tensor4D, params: GaussianNoiseParams): tf.Tensor4D {
  const fn = 'applyGaussianNoise';
  assertApplyImages(images, fn);
  assertParamsFor(params, images, fn, { applied: [params?.applied, 1], std: [params?.std, 1], noiseSeed: [params?.noiseSeed, 1] });
  const [b, h, w, c] = images.shape;
  const per = h * w * c;
  const noise = new Float32Array(b * per);
  for (let i = 0; i < b; i++) {
    if (!params.applied[i]) continue;
    const rng = new Rng(params.noiseSeed[i] as number);
    const scale = params.std[i] as number;
    for (let k = 0; k < per; k++) noise[i * per + k] = params.mean + scale * rng.normal();
  }
  return tf.tidy(() => {
    const noisy = tf.add(images, tf.tensor4d(noise, [b, h, w, c]));
    return (params.clip ? tf.clipByValue(noisy, 0, 1) : noisy) as tf.Tensor4D;
  });
}

/**
 * Random additive Gaussian noise (the corruption of denoising autoencoders,
 * Vincent et al. 2008).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { GaussianNoise } from 'selfsup';
 *
 * const { images } = new GaussianNoise({ std: 0.2 }).run(tf.fill([2, 8, 8, 1], 0.5), { seed: 3 });
 * console.log(images.shape); // [2, 8, 8, 1]
 * ```
 */
export class GaussianNoise extends BaseTransform<GaussianNoiseParams> {
  readonly name = 'GaussianNoise';
  readonly requiresUnitRange = false;
  private readonly options: Resolved;

  constructor(options: GaussianNoiseOptions = {}) {
    super();
    this.options = readOptions(options, this.name);
  }

  sample(inputShape: ImageShape, rng: Seed): GaussianNoiseParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return sampleWith(inputShape, rng, this.options);
  }

  apply(images: tf.Tensor4D, params: GaussianNoiseParams): tf.Tensor4D {
    return applyGaussianNoise(images, params);
  }
}

/**
 * One-call additive Gaussian noise. See {@link GaussianNoise}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { gaussianNoise } from 'selfsup';
 *
 * const noisy = gaussianNoise(tf.fill([1, 4, 4, 3], 0.5), { std: 0.1, seed: 0 });
 * console.log(noisy.shape); // [1, 4, 4, 3]
 * ```
 */
export function gaussianNoise(images: tf.Tensor, options: GaussianNoiseOptions & RandomCallOptions & { returnParams: true }): TransformResult<GaussianNoiseParams>;
export function gaussianNoise(images: tf.Tensor, options?: GaussianNoiseOptions & RandomCallOptions): tf.Tensor4D;
export function gaussianNoise(images: tf.Tensor, options: GaussianNoiseOptions & RandomCallOptions = {}): tf.Tensor4D | TransformResult<GaussianNoiseParams> {
  return callTransform('gaussianNoise', images, options, (o: GaussianNoiseOptions) => {
    readOptions(o, 'gaussianNoise');
    return new GaussianNoise(o);
  });
}
