import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { assertFloat, assertKnownOptions, assertOneOf, assertRank, formatShape } from '../core/validate.js';
import { labToRgb, rgbToLab } from '../augment/color-lab.js';

/** Options of {@link labSplit} and {@link labMerge}. */
export interface LabSplitOptions {
  /**
   * `'zhang'`: L → (L − 50)/100 ∈ [−0.5, 0.5] and ab → ab/110 (roughly
   * [−1, 1]), the normalisation of Zhang et al.'s colorization code
   * (`l_cent = 50`, `l_norm = 100`, `ab_norm = 110`); `'raw'`: L in [0, 100]
   * and a\*, b\* unscaled.
   * @default 'zhang'
   */
  scaling?: 'zhang' | 'raw';
}

/**
 * Splits RGB images into the lightness and colour channels of CIE L\*a\*b\*
 * (D65), the input and target of colorization (Zhang et al. 2016) and the two
 * halves of split-brain autoencoders (Zhang et al. 2017). See
 * {@link rgbToLab} for the conversion.
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1].
 * @returns `l` `[B, H, W, 1]` and `ab` `[B, H, W, 2]`, scaled per `options.scaling`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { labSplit } from 'selfsup';
 *
 * const { l, ab } = labSplit(tf.tensor4d([1, 1, 1], [1, 1, 1, 3]));
 * console.log(l.dataSync(), ab.dataSync()); // [0.5] [0, 0]: white is L = 100
 * ```
 */
export function labSplit(images: tf.Tensor4D, options: LabSplitOptions = {}): { l: tf.Tensor4D; ab: tf.Tensor4D } {
  const fn = 'labSplit';
  assertKnownOptions(options, ['scaling'], fn);
  const { scaling = 'zhang' } = options;
  assertOneOf(scaling, ['zhang', 'raw'], fn, 'options.scaling');
  const zhang = scaling === 'zhang';
  const lab = rgbToLab(images);
  const [b, h, w] = lab.shape;
  const out = tf.tidy(() => {
    const flat = tf.reshape(lab, [b * h * w, 3]);
    // Channel selection and scaling as one matMul each (slicing the last axis is slow on wasm).
    const l = tf.add(tf.matMul(flat, tf.tensor2d([zhang ? 0.01 : 1, 0, 0], [3, 1])), zhang ? -0.5 : 0);
    const ab = tf.matMul(flat, tf.tensor2d([0, 0, zhang ? 1 / 110 : 1, 0, 0, zhang ? 1 / 110 : 1], [3, 2]));
    return { l: tf.reshape(l, [b, h, w, 1]) as tf.Tensor4D, ab: tf.reshape(ab, [b, h, w, 2]) as tf.Tensor4D };
  });
  lab.dispose();
  return out;
}

/**
 * The inverse of {@link labSplit}: lightness and colour channels back to RGB
 * (to show a colorization model's prediction).
 *
 * @param l - `[B, H, W, 1]` float32.
 * @param ab - `[B, H, W, 2]` float32.
 * @returns `[B, H, W, 3]` RGB in [0, 1] (out-of-gamut colours clipped).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { labMerge, labSplit } from 'selfsup';
 *
 * const x = tf.tensor4d([0.2, 0.6, 0.4], [1, 1, 1, 3]);
 * const { l, ab } = labSplit(x);
 * labMerge(l, ab).print(); // ≈ [0.2, 0.6, 0.4]
 * ```
 */
export function labMerge(l: tf.Tensor4D, ab: tf.Tensor4D, options: LabSplitOptions = {}): tf.Tensor4D {
  const fn = 'labMerge';
  assertKnownOptions(options, ['scaling'], fn);
  const { scaling = 'zhang' } = options;
  assertOneOf(scaling, ['zhang', 'raw'], fn, 'options.scaling');
  assertRank(l, 4, fn, 'l', '[B, H, W, 1]');
  assertRank(ab, 4, fn, 'ab', '[B, H, W, 2]');
  assertFloat(l, fn, 'l');
  assertFloat(ab, fn, 'ab');
  const [b, h, w, cl] = l.shape as [number, number, number, number];
  if (cl !== 1) throw new ShapeError(fn, 'l', 'have 1 channel', formatShape(l.shape));
  if (ab.shape[0] !== b || ab.shape[1] !== h || ab.shape[2] !== w || ab.shape[3] !== 2) {
    throw new ShapeError(fn, 'ab', `have shape [${b}, ${h}, ${w}, 2] matching l`, formatShape(ab.shape));
  }
  const zhang = scaling === 'zhang';
  const lab = tf.tidy(() => {
    const lRaw = zhang ? tf.mul(tf.add(l, 0.5), 100) : l;
    const abRaw = zhang ? tf.mul(ab, 110) : ab;
    return tf.concat([lRaw, abRaw], 3) as tf.Tensor4D;
  });
  const rgb = labToRgb(lab);
  lab.dispose();
  return rgb;
}
