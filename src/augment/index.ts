// The augment area: batched, seeded, replayable image transforms.
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
