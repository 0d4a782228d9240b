import * as tf from '@tensorflow/tfjs-core';
import { hueSextants, planesFromHue } from './color-planes.js';
import { readImages } from './image-input.js';
import { fromPlanes, toPlanes, type Planes } from './tensor-ops.js';

/**
 * RGB → HSV for images in [0, 1], as torchvision's `_rgb2hsv` and
 * scikit-image's `rgb2hsv`: hue in [0, 1) (turns; 0 for grays), saturation
 * `(max − min) / max` (0 for black), value `max`.
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1].
 * @returns `[B, H, W, 3]` float32 (H, S, V).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rgbToHsv } from 'selfsup';
 *
 * rgbToHsv(tf.tensor4d([0, 0.5, 1], [1, 1, 1, 3])).print(); // [0.5833, 1, 1]
 * ```
 */
export function rgbToHsv(images: tf.Tensor4D): tf.Tensor4D {
  const fn = 'rgbToHsv';
  const x = readImages(images, fn, { channels: [3], checkRange: true });
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const { hue6, max, chroma } = hueSextants(toPlanes(x));
    // hue6 ∈ [−1, 5): adding 6 before the wrap keeps it non-negative.
    const shifted = tf.add(hue6, 6);
    // relu: a value just below 6 can wrap to −ε in float32; its true hue is 0.
    const hueWrapped = tf.div(tf.relu(tf.sub(shifted, tf.mul(tf.floor(tf.mul(shifted, 1 / 6)), 6))), 6);
    const sat = tf.div(chroma, tf.add(max, tf.sub(1, tf.step(max))));
    return fromPlanes([hueWrapped, sat, max] as Planes, h, w);
  });
}

/**
 * HSV → RGB, the inverse of {@link rgbToHsv} (torchvision's `_hsv2rgb`):
 * hue in turns (taken modulo 1), saturation and value in [0, 1]; the output
 * is clipped to [0, 1].
 *
 * @param images - `[B, H, W, 3]` float32 (H, S, V).
 * @returns `[B, H, W, 3]` float32 RGB in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { hsvToRgb } from 'selfsup';
 *
 * hsvToRgb(tf.tensor4d([1 / 3, 1, 1], [1, 1, 1, 3])).print(); // [0, 1, 0]
 * ```
 */
export function hsvToRgb(images: tf.Tensor4D): tf.Tensor4D {
  const fn = 'hsvToRgb';
  const x = readImages(images, fn, { channels: [3], checkRange: true });
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const [hue, sat, val] = toPlanes(x);
    const rgb = planesFromHue(tf.mul(hue, 6), val, tf.mul(val, sat));
    return fromPlanes(rgb.map((p) => tf.clipByValue(p, 0, 1)) as Planes, h, w);
  });
}
