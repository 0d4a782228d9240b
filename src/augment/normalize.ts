import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import type { Seed } from '../core/rng.js';
import { assertKnownOptions, describeValue } from '../core/validate.js';
import { assertApplyImages, readImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs } from './sampling.js';
import { PLANAR, planarShape } from './planar.js';
import { column } from './tensor-ops.js';
import { BaseTransform, type ImageShape } from './transform.js';

/**
 * ImageNet channel means (RGB), the statistics torchvision's pretrained models expect.
 *
 * @example
 * ```ts
 * import { IMAGENET_MEAN, IMAGENET_STD } from 'selfsup';
 *
 * console.log(IMAGENET_MEAN, IMAGENET_STD); // [0.485, 0.456, 0.406] [0.229, 0.224, 0.225]
 * ```
 */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/**
 * ImageNet channel standard deviations (RGB).
 *
 * @example
 * ```ts
 * import { IMAGENET_STD, normalize } from 'selfsup';
 * import * as tf from '@tensorflow/tfjs-core';
 *
 * normalize(tf.fill([1, 1, 1, 3], 0.5), { std: [...IMAGENET_STD] }).print();
 * ```
 */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Options of {@link normalize}, {@link denormalize} and {@link Normalize}. */
export interface NormalizeOptions {
  /**
   * Per-channel mean (length C, or 1 for all channels).
   * @default IMAGENET_MEAN
   */
  mean?: readonly number[];
  /**
   * Per-channel standard deviation (> 0).
   * @default IMAGENET_STD
   */
  std?: readonly number[];
}

function readStats(options: NormalizeOptions, channels: number, fn: string): { mean: number[]; std: number[] } {
  assertKnownOptions(options, ['mean', 'std'], fn);
  const { mean = IMAGENET_MEAN, std = IMAGENET_STD } = options;
  const check = (v: unknown, name: string, positive: boolean): number[] => {
    const ok =
      Array.isArray(v) &&
      (v.length === channels || v.length === 1) &&
      v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
    if (!ok) {
      throw new InvalidArgumentError(fn, `options.${name}`, `be ${channels === 1 ? '1' : `1 or ${channels}`} finite number${positive ? 's > 0' : 's'} (one per channel)`, describeValue(v));
    }
    return v.length === 1 ? new Array<number>(channels).fill(v[0] as number) : [...(v as number[])];
  };
  return { mean: check(mean, 'mean', false), std: check(std, 'std', true) };
}

/** `x·scale + shift` per channel, as one matMul with a bias over the channel axis (fast on every backend). */
function channelAffine(images: tf.Tensor4D, scale: number[], shift: number[]): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  return tf.tidy(() => {
    const diag = new Float32Array(c * c);
    scale.forEach((s, i) => {
      diag[i * c + i] = s;
    });
    const out = tf.fused.matMul({ a: tf.reshape(images, [b * h * w, c]), b: tf.tensor2d(diag, [c, c]), bias: tf.tensor1d(shift) });
    return tf.reshape(out, [b, h, w, c]) as tf.Tensor4D;
  });
}

/**
 * Per-channel standardisation `(x − mean) / std` (torchvision's `Normalize`),
 * by default with ImageNet statistics. The output is not in [0, 1]: apply it
 * last, after the colour transforms.
 *
 * @param images - `[B, H, W, C]` float32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { normalize } from 'selfsup';
 *
 * normalize(tf.fill([1, 1, 1, 3], 0.5), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }).print(); // [0, 0, 0]
 * ```
 */
export function normalize(images: tf.Tensor4D, options: NormalizeOptions = {}): tf.Tensor4D {
  const fn = 'normalize';
  const x = readImages(images, fn);
  const { mean, std } = readStats(options, x.shape[3], fn);
  return channelAffine(x, std.map((s) => 1 / s), mean.map((m, i) => -m / (std[i] as number)));
}

/**
 * The inverse of {@link normalize}: `x·std + mean` per channel (to display
 * or re-augment normalised images).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { denormalize, normalize } from 'selfsup';
 *
 * const x = tf.fill([1, 2, 2, 3], 0.3) as tf.Tensor4D;
 * denormalize(normalize(x)).print(); // ≈ 0.3 everywhere
 * ```
 */
export function denormalize(images: tf.Tensor4D, options: NormalizeOptions = {}): tf.Tensor4D {
  const fn = 'denormalize';
  const x = readImages(images, fn);
  const { mean, std } = readStats(options, x.shape[3], fn);
  return channelAffine(x, std, mean);
}

/** Parameters of {@link Normalize} (deterministic: only the batch size). */
export interface NormalizeParams {
  /** Number of samples. */
  batchSize: number;
}

/**
 * {@link normalize} as a pipeline step (no randomness), to end a
 * {@link compose} pipeline the way torchvision pipelines end.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { compose, Normalize, RandomHorizontalFlip } from 'selfsup';
 *
 * const pipeline = compose([new RandomHorizontalFlip(), new Normalize()]);
 * console.log(pipeline.run(tf.randomUniform([2, 8, 8, 3]), { seed: 0 }).images.shape); // [2, 8, 8, 3]
 * ```
 */
export class Normalize extends BaseTransform<NormalizeParams> {
  readonly name = 'Normalize';
  readonly requiresUnitRange = false;
  private readonly options: NormalizeOptions;

  constructor(options: NormalizeOptions = {}) {
    super();
    assertKnownOptions(options, ['mean', 'std'], this.name);
    readStats(options, Math.max(options.mean?.length ?? 3, options.std?.length ?? 3), this.name);
    this.options = options;
  }

  sample(inputShape: ImageShape, rng: Seed): NormalizeParams {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return { batchSize: inputShape[0] };
  }

  apply(images: tf.Tensor4D, params: NormalizeParams): tf.Tensor4D {
    assertApplyImages(images, 'Normalize.apply');
    assertParamsFor(params, images, 'Normalize.apply');
    return normalize(images, this.options);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: NormalizeParams): tf.Tensor4D {
    const [c, b, h, w] = x.shape;
    assertParamsFor(params, { shape: planarShape(x) }, 'Normalize.apply');
    const { mean, std } = readStats(this.options, c, 'Normalize.apply');
    const n = b * h * w;
    return tf.tidy(() => {
      const rows = tf.reshape(x, [c, n]);
      const out = tf.add(tf.mul(rows, column(std.map((s) => 1 / s), n)), column(mean.map((m, i) => -m / (std[i] as number)), n));
      return tf.reshape(out, [c, b, h, w]) as tf.Tensor4D;
    });
  }
}
