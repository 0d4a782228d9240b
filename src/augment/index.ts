/**
 * Batched, seeded, replayable image augmentations: every random transform is a parameter sampler,
 * a pure apply and a one-call convenience; pipelines (`compose`, `randomApply`, `randomOrder`), views
 * (`twoViews`, `multiCrop`) and the presets of SimCLR, MoCo v2, BYOL and DINO.
 *
 * `import { simclrAugment, twoViews } from 'selfsup/augment'`
 *
 * @module augment
 */
export { BaseTransform } from './transform.js';
export type { Transform, TransformRunOptions, TransformResult, RandomCallOptions, ImageShape } from './transform.js';
export { sampleResizedCrop, applyResizedCrop, randomResizedCrop, RandomResizedCrop } from './resized-crop.js';
export type { ResizedCropOptions, ResizedCropParams } from './resized-crop.js';
export {
  sampleFlip,
  applyHorizontalFlip,
  applyVerticalFlip,
  randomHorizontalFlip,
  randomVerticalFlip,
  RandomHorizontalFlip,
  RandomVerticalFlip,
} from './flip.js';
export type { FlipOptions, FlipParams } from './flip.js';
export { adjustBrightness, adjustContrast, adjustSaturation, adjustHue } from './adjust.js';
export type { AdjustOptions, PerSampleFactor } from './adjust.js';
export { sampleColorJitter, applyColorJitter, colorJitter, ColorJitter } from './color-jitter.js';
export type { ColorJitterOptions, ColorJitterParams, JitterRange } from './color-jitter.js';
export { rgbToHsv, hsvToRgb } from './color-hsv.js';
export { rgbToLab, labToRgb } from './color-lab.js';
export { rgbToGrayscale, sampleGrayscale, applyGrayscale, randomGrayscale, RandomGrayscale } from './grayscale.js';
export type { GrayscaleOptions, RandomGrayscaleOptions, GrayscaleParams } from './grayscale.js';
export { sampleGaussianBlur, applyGaussianBlur, gaussianBlur, GaussianBlur } from './gaussian-blur.js';
export type { GaussianBlurOptions, GaussianBlurParams } from './gaussian-blur.js';
export { sampleSolarize, applySolarize, randomSolarize, RandomSolarize } from './solarize.js';
export type { SolarizeOptions, SolarizeParams } from './solarize.js';
export { samplePosterize, applyPosterize, randomPosterize, RandomPosterize } from './posterize.js';
export type { PosterizeOptions, PosterizeParams } from './posterize.js';
export { sampleGaussianNoise, applyGaussianNoise, gaussianNoise, GaussianNoise } from './gaussian-noise.js';
export type { GaussianNoiseOptions, GaussianNoiseParams } from './gaussian-noise.js';
export {
  sampleRandomErasing,
  sampleCutout,
  applyErasing,
  randomErasing,
  cutout,
  RandomErasing,
  Cutout,
} from './random-erasing.js';
export type { RandomErasingOptions, CutoutOptions, ErasingParams, EraseValue } from './random-erasing.js';
export { rotate90, sampleRotate90, applyRotate90, randomRotate90, RandomRotate90 } from './rotate90.js';
export type { Rotate90Options, Rotate90Params } from './rotate90.js';
export { normalize, denormalize, Normalize, IMAGENET_MEAN, IMAGENET_STD } from './normalize.js';
export type { NormalizeOptions, NormalizeParams } from './normalize.js';
export { compose } from './compose.js';
export type { ComposeParams } from './compose.js';
export { randomApply } from './random-apply.js';
export type { RandomApplyParams } from './random-apply.js';
export { randomOrder } from './random-order.js';
export type { RandomOrderParams } from './random-order.js';
export { twoViews, multiCrop, applyMultiCrop } from './views.js';
export type { TwoViewsResult, CropGroup, MultiCropOptions, MultiCropViews, MultiCropParams } from './views.js';
export { simclrAugment, mocoV2Augment, byolAugment, dinoMultiCrop } from './presets.js';
export type { PresetOptions, SimclrAugmentOptions, DinoMultiCropOptions } from './presets.js';
