import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertPositiveIntegers } from './mlp-encoder.js';
import { batchNorm as batchNormLayer } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link patchDiscriminator}. */
export interface PatchDiscriminatorOptions {
  /** `[H, W, C]` of the images it judges. Required. */
  inputShape: readonly [number, number, number] | readonly number[];
  /**
   * Channels of the stride-2 convolutions (each halves the grid).
   * @default [32, 64]
   */
  channels?: readonly number[];
  /**
   * Square kernel size of the strided convolutions.
   * @default 4
   */
  kernelSize?: number;
  /**
   * Batch norm after every strided convolution but the first (DCGAN, pix2pix).
   * @default false
   */
  batchNorm?: boolean;
  /**
   * Seed of the weight initialisation.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Name of the returned model.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/**
 * A patch discriminator (PatchGAN; Isola et al., "Image-to-Image Translation
 * with Conditional Adversarial Networks", CVPR 2017): it classifies each
 * overlapping patch of an image as real or generated instead of the whole
 * image, which is what an inpainting adversary needs to judge — whether the
 * filled-in region is locally plausible. The architecture follows DCGAN's
 * discriminator, as Context Encoders' (Pathak et al. 2016): `k×k` stride-2
 * convolutions with LeakyReLU(0.2) for each entry of `channels` (batch norm
 * after all but the first with `batchNorm: true`), then a 3×3 convolution to
 * one logit per position, no sigmoid (the adversarial losses take logits).
 *
 * A 28×28 input gives a 7×7 map of logits with the defaults. Kernels start
 * He-normal (for the leaky slope 0.2 the difference is negligible), biases at
 * zero, from `seed`.
 *
 * @returns a model `[B, H, W, C]` → `[B, H/2ⁿ, W/2ⁿ, 1]` logits (sizes rounded up).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { patchDiscriminator } from 'selfsup';
 *
 * const discriminator = patchDiscriminator({ inputShape: [28, 28, 1], channels: [4, 8], seed: 0 });
 * const logits = discriminator.apply(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
 * console.log(logits.shape); // [2, 7, 7, 1]
 * ```
 */
export function patchDiscriminator(options: PatchDiscriminatorOptions): tfl.Sequential {
  const fn = 'patchDiscriminator';
  assertBackendReady(fn);
  options ??= {} as PatchDiscriminatorOptions;
  assertKnownOptions(options, ['inputShape', 'channels', 'kernelSize', 'batchNorm', 'seed', 'name'], fn);
  const { inputShape, channels = [32, 64], kernelSize = 4, batchNorm = false } = options;
  assertPositiveIntegers(inputShape, fn, 'options.inputShape', 3);
  assertPositiveIntegers(channels, fn, 'options.channels');
  assertInteger(kernelSize, fn, 'options.kernelSize', { min: 1 });
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  channels.forEach((filters, i) => {
    const norm = batchNorm && i > 0;
    const conv = tfl.layers.conv2d({
      filters,
      kernelSize,
      strides: 2,
      padding: 'same',
      useBias: !norm,
      ...(i === 0 ? { inputShape: [...inputShape] } : {}),
    });
    model.add(conv);
    initKernelLayer(conv, rng, 'he');
    if (norm) model.add(batchNormLayer());
    model.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  });
  const out = tfl.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same' });
  model.add(out);
  initKernelLayer(out, rng, 'xavier');
  return model;
}
