/**
 * The patch grid a convolutional encoder's last feature map defines, for the
 * masked-image-modelling tasks (SimMIM, MaskedAutoencoder) on conv encoders:
 * each of the map's h×w positions stands for the s×s pixels it covers,
 * s = H / h, like a ViT's patches.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../../core/errors.js';
import { featureMapModel } from '../../heads/feature-map.js';
import type { ImageEncoder } from '../pretext-task.js';

/** What {@link convPatchGrid} finds. */
export interface ConvPatchGrid {
  /** The encoder up to its last map (shares its weights). */
  featureMap: tfl.LayersModel;
  /** `[h, w]` of the map. */
  grid: [number, number];
  /** Pixels per map position along each side. */
  stride: number;
  /** Channels F of the map. */
  channels: number;
}

/**
 * `featureMapModel(encoder)`, with the error a method's user can act on:
 * `expected` says which encoders the method takes, the cause's first line
 * what this one lacks.
 */
export function readFeatureMap(encoder: ImageEncoder, fn: string, expected: string): tfl.LayersModel {
  try {
    return featureMapModel(encoder);
  } catch (e) {
    throw new InvalidArgumentError(fn, 'encoder', expected, `an encoder without one (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * Reads the feature map of `encoder` for `[H, W, C]` images and checks that
 * it tiles the image with one integer stride; allocates nothing that
 * outlives the call (a probe through `tf.tidy`).
 */
export function convPatchGrid(encoder: ImageEncoder, imageShape: readonly [number, number, number], fn: string): ConvPatchGrid {
  const featureMap = readFeatureMap(encoder, fn, 'be a tinyVit or a conv encoder whose feature map can be read before its pooling head (e.g. convEncoder)');
  const [h, w, c] = imageShape;
  const shape = tf.tidy(() => (featureMap.apply(tf.zeros([1, h, w, c]), { training: false }) as tf.Tensor).shape);
  const [, mh, mw, channels] = shape as [number, number, number, number];
  if (h % mh !== 0 || w % mw !== 0 || h / mh !== w / mw) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      `have a feature map whose size divides the ${h}×${w} image with one stride (each position stands for s×s pixels)`,
      `a ${mh}×${mw} feature map`,
    );
  }
  return { featureMap, grid: [mh, mw], stride: h / mh, channels };
}
