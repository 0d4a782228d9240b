/**
 * What the autoencoding tasks share: the encoder's pooled features are the
 * code, a {@link convDecoder} maps the code back to pixels.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../../core/errors.js';
import { convDecoder } from '../../heads/conv-decoder.js';
import type { Rng } from '../../core/rng.js';
import type { ImageEncoder } from '../pretext-task.js';
import { encoderFeatureDim } from './common.js';

/** The decoder given in the options, or a {@link convDecoder} for the encoder's code size and the image shape. */
export function defaultDecoder(
  encoder: ImageEncoder,
  imageShape: [number, number, number],
  given: tfl.LayersModel | undefined,
  rng: Rng,
  fn: string,
): { decoder: tfl.LayersModel; owned: boolean; codeDim: number } {
  const codeDim = encoderFeatureDim(encoder, imageShape);
  if (given !== undefined) return { decoder: given, owned: false, codeDim };
  const [h, w] = imageShape;
  const channels = h % 4 === 0 && w % 4 === 0 ? [64, 32] : h % 2 === 0 && w % 2 === 0 ? [32] : null;
  if (channels === null) {
    throw new InvalidArgumentError(
      fn,
      'options.decoder',
      'be given for images whose height and width are odd (the default convDecoder up-samples by 2)',
      'undefined',
    );
  }
  const decoder = convDecoder({ inputDim: codeDim, outputShape: imageShape, channels, seed: rng.nextUint32() });
  return { decoder, owned: true, codeDim };
}

/** Runs `decoder` on `[B, F]` codes, returning `[B, H, W, C]`. */
export function decode(decoder: tfl.LayersModel, code: tf.Tensor2D, training: boolean): tf.Tensor4D {
  return decoder.apply(code, { training }) as tf.Tensor4D;
}
