import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import type { Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertPositive, assertRangePair, describeValue } from '../core/validate.js';
import { ColorJitter } from './color-jitter.js';
import { compose } from './compose.js';
import { RandomHorizontalFlip } from './flip.js';
import { GaussianBlur } from './gaussian-blur.js';
import { RandomGrayscale } from './grayscale.js';
import { Normalize, type NormalizeOptions } from './normalize.js';
import { fromPlanar, isPlanar, PLANAR, toPlanar, type PlanarCapable } from './planar.js';
import { RandomResizedCrop } from './resized-crop.js';
import { RandomSolarize } from './solarize.js';
import { assertSampleArgs } from './sampling.js';
import { BaseTransform, type ImageShape, type Transform } from './transform.js';
import type { MultiCropOptions } from './views.js';

/** Options shared by the two-view presets. */
export interface PresetOptions {
  /**
   * Output side of the crops (or `[height, width]`).
   * @default the input size
   */
  size?: number | readonly [number, number];
  /**
   * Area range of the random resized crop.
   * @default the paper's (SimCLR, BYOL [0.08, 1]; MoCo v2 [0.2, 1])
   */
  cropScale?: readonly [number, number];
  /**
   * Blur kernel side (odd).
   * @default 10 % of the crop side, odd, ≥ 3 (SimCLR's rule: 23 at 224 px)
   */
  blurKernelSize?: number;
  /**
   * End with per-channel normalisation (`true`: ImageNet statistics).
   * @default false (outputs stay in [0, 1])
   */
  normalize?: boolean | NormalizeOptions;
}

/** Options of {@link simclrAugment}. */
export interface SimclrAugmentOptions extends PresetOptions {
  /**
   * Colour-distortion strength `s`: jitter (0.8s, 0.8s, 0.8s, 0.2s). SimCLR
   * uses 1 on ImageNet and 0.5 on CIFAR-10 (appendix B.9).
   * @default 1
   */
  strength?: number;
  /**
   * Gaussian blur with p = 0.5: `'auto'` blurs only crops larger than 32
   * pixels, as SimCLR does on ImageNet but not on CIFAR-10.
   * @default 'auto'
   */
  blur?: boolean | 'auto';
}

const PRESET_KEYS = ['size', 'cropScale', 'blurKernelSize', 'normalize'];

function readPreset(options: PresetOptions, fn: string, defaultScale: readonly [number, number]) {
  const { size, cropScale = defaultScale, blurKernelSize, normalize = false } = options;
  assertRangePair(cropScale, fn, 'options.cropScale', { min: 0, max: 1 });
  if (blurKernelSize !== undefined) assertInteger(blurKernelSize, fn, 'options.blurKernelSize', { min: 1 });
  if (typeof normalize !== 'boolean' && (typeof normalize !== 'object' || normalize === null)) {
    throw new InvalidArgumentError(fn, 'options.normalize', 'be a boolean or { mean, std }', describeValue(normalize));
  }
  return {
    crop: (scale = cropScale) => new RandomResizedCrop({ ...(size !== undefined ? { size } : {}), scale }),
    blur: (p: number) => new GaussianBlur({ sigma: [0.1, 2], p, ...(blurKernelSize !== undefined ? { kernelSize: blurKernelSize } : {}) }),
    tail: (): Transform[] => (normalize === false ? [] : [new Normalize(normalize === true ? {} : normalize)]),
  };
}

/** Applies `inner` only to images whose shorter side exceeds `minSide` (SimCLR's ImageNet-only blur). */
class OnlyAbove<P> extends BaseTransform<P | null> {
  readonly name: string;
  readonly requiresUnitRange: boolean;

  constructor(
    private readonly inner: Transform<P>,
    private readonly minSide: number,
  ) {
    super();
    this.name = inner.name;
    this.requiresUnitRange = inner.requiresUnitRange;
  }

  sample(inputShape: ImageShape, rng: Seed): P | null {
    assertSampleArgs(inputShape, rng, `${this.name}.sample`);
    return Math.min(inputShape[1], inputShape[2]) > this.minSide ? this.inner.sample(inputShape, rng) : null;
  }

  apply(images: tf.Tensor4D, params: P | null): tf.Tensor4D {
    return params === null ? images.clone() : this.inner.apply(images, params);
  }

  /** @internal */
  [PLANAR](x: tf.Tensor4D, params: P | null): tf.Tensor4D {
    if (params === null) return x.clone();
    return isPlanar(this.inner) ? (this.inner as unknown as PlanarCapable<P>)[PLANAR](x, params) : toPlanarApply(this.inner, x, params);
  }
}

function toPlanarApply<P>(t: Transform<P>, x: tf.Tensor4D, params: P): tf.Tensor4D {
  return tf.tidy(() => toPlanar(t.apply(fromPlanar(x), params)));
}

/**
 * SimCLR's augmentation (Chen et al. 2020, appendix A): random resized crop
 * (scale [0.08, 1], ratio [3/4, 4/3]) → horizontal flip (p 0.5) → colour
 * jitter (0.8s, 0.8s, 0.8s, 0.2s) with p 0.8 → grayscale (p 0.2) → Gaussian
 * blur (σ ∈ [0.1, 2], kernel 10 % of the side, p 0.5; ImageNet only). For
 * CIFAR-10 the paper uses `strength: 0.5` and no blur (what `blur: 'auto'`
 * does at 32 px). Use it with {@link twoViews}.
 *
 * @returns one pipeline; each view draws its own parameters.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { simclrAugment, twoViews } from 'selfsup';
 *
 * const cifar = simclrAugment({ strength: 0.5 }); // keeps 32×32, no blur at 32 px
 * const [a, b] = twoViews(tf.randomUniform([4, 32, 32, 3]), cifar, { seed: 0 });
 * console.log(a.shape, b.shape);
 * ```
 */
export function simclrAugment(options: SimclrAugmentOptions = {}): Transform {
  const fn = 'simclrAugment';
  assertKnownOptions(options, [...PRESET_KEYS, 'strength', 'blur'], fn);
  const { strength = 1, blur = 'auto' } = options;
  assertPositive(strength, fn, 'options.strength');
  if (blur !== 'auto' && typeof blur !== 'boolean') throw new InvalidArgumentError(fn, 'options.blur', "be true, false or 'auto'", describeValue(blur));
  const s = strength;
  const preset = readPreset(options, fn, [0.08, 1]);
  const steps: Transform[] = [
    preset.crop(),
    new RandomHorizontalFlip({ p: 0.5 }),
    new ColorJitter({ brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue: Math.min(0.2 * s, 0.5), p: 0.8 }),
    new RandomGrayscale({ p: 0.2 }),
  ];
  if (blur === true) steps.push(preset.blur(0.5));
  if (blur === 'auto') steps.push(new OnlyAbove(preset.blur(0.5), 32));
  return compose([...steps, ...preset.tail()]);
}

/**
 * MoCo v2's augmentation (Chen et al. 2020, "Improved baselines", the
 * `aug_plus` pipeline of the official code): random resized crop (scale
 * [0.2, 1]) → colour jitter (0.4, 0.4, 0.4, 0.1) with p 0.8 → grayscale
 * (p 0.2) → Gaussian blur (σ ∈ [0.1, 2], p 0.5) → horizontal flip. MoCo's
 * blur is PIL's `GaussianBlur(radius=σ)`; selfsup uses torchvision's
 * separable kernel with the 10 % kernel rule.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mocoV2Augment, twoViews } from 'selfsup';
 *
 * const [q, k] = twoViews(tf.randomUniform([2, 64, 64, 3]), mocoV2Augment({ size: 48 }), { seed: 1 });
 * console.log(q.shape); // [2, 48, 48, 3]
 * ```
 */
export function mocoV2Augment(options: PresetOptions = {}): Transform {
  const fn = 'mocoV2Augment';
  assertKnownOptions(options, PRESET_KEYS, fn);
  const preset = readPreset(options, fn, [0.2, 1]);
  return compose([
    preset.crop(),
    new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }),
    new RandomGrayscale({ p: 0.2 }),
    preset.blur(0.5),
    new RandomHorizontalFlip({ p: 0.5 }),
    ...preset.tail(),
  ]);
}

/**
 * BYOL's asymmetric augmentations (Grill et al. 2020, table 6): both views
 * take a random resized crop (scale [0.08, 1]) → horizontal flip → colour
 * jitter (brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1) with p 0.8
 * → grayscale (p 0.2) → Gaussian blur (σ ∈ [0.1, 2]) with p 1.0 for view 1
 * and 0.1 for view 2 → solarization (threshold 0.5) with p 0 for view 1 and
 * 0.2 for view 2.
 *
 * @returns `[view1, view2]` pipelines for {@link twoViews}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { byolAugment, twoViews } from 'selfsup';
 *
 * const [t1, t2] = byolAugment({ size: 32 });
 * const [v1, v2] = twoViews(tf.randomUniform([4, 48, 48, 3]), t1, t2, { seed: 0 });
 * console.log(v1.shape, v2.shape); // [4, 32, 32, 3] twice
 * ```
 */
export function byolAugment(options: PresetOptions = {}): [Transform, Transform] {
  const fn = 'byolAugment';
  assertKnownOptions(options, PRESET_KEYS, fn);
  const preset = readPreset(options, fn, [0.08, 1]);
  const view = (blurP: number, solarizeP: number): Transform =>
    compose([
      preset.crop(),
      new RandomHorizontalFlip({ p: 0.5 }),
      new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 }),
      new RandomGrayscale({ p: 0.2 }),
      preset.blur(blurP),
      new RandomSolarize({ threshold: 0.5, p: solarizeP }),
      ...preset.tail(),
    ]);
  return [view(1, 0), view(0.1, 0.2)];
}

/** Options of {@link dinoMultiCrop}. */
export interface DinoMultiCropOptions {
  /**
   * Side of the global crops (use the image size, e.g. 32, for small images).
   * @default 224
   */
  globalSize?: number;
  /**
   * Side of the local crops (e.g. 16 for 32-pixel images).
   * @default 96
   */
  localSize?: number;
  /**
   * Number of local crops.
   * @default 8
   */
  localCount?: number;
  /**
   * Area range of the global crops.
   * @default [0.4, 1]
   */
  globalScale?: readonly [number, number];
  /**
   * Area range of the local crops.
   * @default [0.05, 0.4]
   */
  localScale?: readonly [number, number];
  /**
   * Blur kernel side (odd), for all crops.
   * @default 10 % of each crop's side, odd, ≥ 3
   */
  blurKernelSize?: number;
  /**
   * End every crop with per-channel normalisation (`true`: ImageNet statistics).
   * @default false
   */
  normalize?: boolean | NormalizeOptions;
}

/**
 * DINO's multi-crop augmentation (Caron et al. 2021, `DataAugmentationDINO`
 * of the official code), as options for {@link multiCrop}: 2 global crops
 * (224 px, scale [0.4, 1]) and 8 local crops (96 px, scale [0.05, 0.4]), each
 * followed by flip (p 0.5) → colour jitter (0.4, 0.4, 0.2, 0.1) with p 0.8 →
 * grayscale (p 0.2) → Gaussian blur (σ ∈ [0.1, 2]) with p 1.0 on the first
 * global crop, 0.1 on the second and 0.5 on the local crops; the second
 * global crop is also solarized with p 0.2. DINO resizes with bicubic
 * interpolation; selfsup's crop is bilinear.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dinoMultiCrop, multiCrop } from 'selfsup';
 *
 * // Sizes for 32×32 images.
 * const views = multiCrop(tf.randomUniform([2, 32, 32, 3]), { ...dinoMultiCrop({ globalSize: 32, localSize: 16, localCount: 4 }), seed: 0 });
 * console.log(views.global.length, views.local.length); // 2 4
 * ```
 */
export function dinoMultiCrop(options: DinoMultiCropOptions = {}): MultiCropOptions {
  const fn = 'dinoMultiCrop';
  assertKnownOptions(options, ['globalSize', 'localSize', 'localCount', 'globalScale', 'localScale', 'blurKernelSize', 'normalize'], fn);
  const { globalSize = 224, localSize = 96, localCount = 8, globalScale = [0.4, 1], localScale = [0.05, 0.4] } = options;
  assertInteger(globalSize, fn, 'options.globalSize', { min: 1 });
  assertInteger(localSize, fn, 'options.localSize', { min: 1 });
  assertInteger(localCount, fn, 'options.localCount', { min: 0, max: 64 });
  assertRangePair(globalScale, fn, 'options.globalScale', { min: 0, max: 1 });
  assertRangePair(localScale, fn, 'options.localScale', { min: 0, max: 1 });
  const preset = readPreset({ ...(options.blurKernelSize !== undefined ? { blurKernelSize: options.blurKernelSize } : {}), normalize: options.normalize ?? false }, fn, [0.4, 1]);
  const colour = (): Transform[] => [
    new RandomHorizontalFlip({ p: 0.5 }),
    new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 }),
    new RandomGrayscale({ p: 0.2 }),
  ];
  return {
    global: {
      count: 2,
      size: globalSize,
      scale: globalScale,
      transforms: [
        compose([...colour(), preset.blur(1), ...preset.tail()]),
        compose([...colour(), preset.blur(0.1), new RandomSolarize({ threshold: 0.5, p: 0.2 }), ...preset.tail()]),
      ],
    },
    local: { count: localCount, size: localSize, scale: localScale, transforms: compose([...colour(), preset.blur(0.5), ...preset.tail()]) },
  };
}
