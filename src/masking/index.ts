/**
 * Masks and pretext-task batches: MAE random patch masks, BEiT block masks, iBOT / DINOv2 masks and
 * I-JEPA's multi-block context and target masks, inpainting holes,
 * denoising corruptions, rotation batches, jigsaw puzzles, relative-position pairs and Lab splits.
 *
 * `import { randomPatchMask, patchify } from 'selfsup/masking'`
 *
 * @module masking
 */
export { patchify, unpatchify } from './patchify.js';
export { randomPatchMask } from './random-patch-mask.js';
export type { RandomPatchMaskOptions, PatchMask } from './random-patch-mask.js';
export { gatherVisible, restoreOrder, gatherMaskedTokens } from './gather-visible.js';
export type { RestoreOrderOptions } from './gather-visible.js';
export { blockMask } from './block-mask.js';
export type { BlockMaskOptions } from './block-mask.js';
export { ibotMask } from './ibot-mask.js';
export type { IbotMaskOptions } from './ibot-mask.js';
export { multiBlockMask } from './multi-block-mask.js';
export type { MultiBlockMaskOptions, MultiBlockMask } from './multi-block-mask.js';
export { centerMask, randomRectangleMask, irregularMask } from './inpainting-masks.js';
export type { CenterMaskOptions, RandomRectangleMaskOptions, IrregularMaskOptions } from './inpainting-masks.js';
export { patchMaskToPixels } from './patch-mask-to-pixels.js';
export { applyMask } from './apply-mask.js';
export type { ApplyMaskOptions } from './apply-mask.js';
export { pixelDropout, saltAndPepper } from './denoising.js';
export type { PixelDropoutOptions, SaltAndPepperOptions } from './denoising.js';
// Additive Gaussian noise lives with the augmentations; denoising users find it here too.
export { gaussianNoise } from '../augment/gaussian-noise.js';
export type { GaussianNoiseOptions } from '../augment/gaussian-noise.js';
export { rotationBatch } from './rotation-batch.js';
export { jigsawPermutations, jigsawBatch } from './jigsaw.js';
export type { JigsawPermutationsOptions, JigsawBatchOptions } from './jigsaw.js';
export { relativePositionPairs } from './relative-position.js';
export type { RelativePositionOptions } from './relative-position.js';
export { labSplit, labMerge } from './lab-split.js';
export type { LabSplitOptions } from './lab-split.js';
