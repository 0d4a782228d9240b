import * as tf from '@tensorflow/tfjs-core';
import { assertInteger, assertKnownOptions } from '../core/validate.js';
import { PHOTOS_ASSET } from './assets/photos.js';
import { vendoredBytes } from './vendored.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link loadPhotos}. */
export interface PhotosOptions {
  /**
   * Output side length; the vendored 128×128 photos are resized bilinearly
   * (with tfjs's half-pixel centres) when it differs.
   * @default 128
   */
  size?: number;
}

/**
 * Four colour photographs vendored with selfsup for augmentation examples and
 * the docs gallery: scikit-image's astronaut (NASA, public domain), chelsea the
 * cat (CC0), coffee (CC0) and rocket (SpaceX, public domain), centre-cropped to
 * squares (see `data/NOTICE.md`). In a browser, call {@link fetchVendoredData}
 * once first.
 *
 * @returns `images` `[4, size, size, 3]` float32 RGB in [0, 1] and their `names`.
 *
 * @example
 * ```ts
 * import { loadPhotos } from 'selfsup';
 *
 * const { images, names } = loadPhotos({ size: 64 });
 * console.log(images.shape, names); // [4, 64, 64, 3] ['astronaut', 'chelsea', 'coffee', 'rocket']
 * ```
 */
export function loadPhotos(options: PhotosOptions = {}): { images: tf.Tensor4D; names: string[] } {
  const fn = 'loadPhotos';
  assertBackendReady(fn);
  assertKnownOptions(options, ['size'], fn);
  const { size = PHOTOS_ASSET.height } = options;
  assertInteger(size, fn, 'options.size', { min: 1, max: 4096 });
  const photoBytes = vendoredBytes('photos', fn);
  const n = PHOTOS_ASSET.names.length;
  const images = tf.tidy(() => {
    const raw = tf.tensor4d(Float32Array.from(photoBytes, (v) => v / 255), [
      n,
      PHOTOS_ASSET.height,
      PHOTOS_ASSET.width,
      3,
    ]);
    if (size === PHOTOS_ASSET.height) return raw;
    return tf.clipByValue(tf.image.resizeBilinear(raw, [size, size], false, true), 0, 1) as tf.Tensor4D;
  });
  return { images, names: [...PHOTOS_ASSET.names] };
}
