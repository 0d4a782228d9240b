import * as tf from '@tensorflow/tfjs-core';
import { readImages } from './image-input.js';
import { fromPlanes, toPlanes, type Planes } from './tensor-ops.js';

// sRGB (linear) → CIE XYZ, the matrix scikit-image uses (`xyz_from_rgb`).
const XYZ_FROM_RGB = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
] as const;

// Reference white of illuminant D65, 2° observer.
const D65 = [0.95047, 1, 1.08883] as const;

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [a, b, c] = m[0] as [number, number, number];
  const [d, e, f] = m[1] as [number, number, number];
  const [g, h, i] = m[2] as [number, number, number];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

const RGB_FROM_XYZ = invert3(XYZ_FROM_RGB);

function mix(m: readonly (readonly number[])[], [x, y, z]: readonly tf.Tensor[], scaleRows: readonly number[] = [1, 1, 1]): Planes {
  return m.map((row, k) =>
    tf.add(
      tf.add(tf.mul(x as tf.Tensor, (row[0] as number) * (scaleRows[k] as number)), tf.mul(y as tf.Tensor, (row[1] as number) * (scaleRows[k] as number))),
      tf.mul(z as tf.Tensor, (row[2] as number) * (scaleRows[k] as number)),
    ),
  ) as Planes;
}

/** `t > threshold ? hi(t) : lo(t)` with both branches evaluated on safe inputs. */
function piecewise(t: tf.Tensor, threshold: number, hi: (safe: tf.Tensor) => tf.Tensor, lo: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  const above = tf.step(tf.sub(t, threshold));
  const safe = tf.add(tf.relu(tf.sub(t, threshold)), threshold);
  return tf.add(tf.mul(above, hi(safe)), tf.mul(tf.sub(1, above), lo(t)));
}

/**
 * sRGB → CIE L\*a\*b\* under illuminant D65 (2° observer), as scikit-image's
 * `rgb2lab`: sRGB gamma expansion, the sRGB→XYZ matrix, normalisation by
 * the D65 white (0.95047, 1, 1.08883) and the CIE f(t) with the linear
 * segment below (6/29)³. L\* lies in [0, 100]; a\* and b\* roughly in
 * [−128, 127]. Matches scikit-image within 1e-3 (float32).
 *
 * @param images - `[B, H, W, 3]` float32 RGB in [0, 1].
 * @returns `[B, H, W, 3]` float32 (L\*, a\*, b\*).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { rgbToLab } from 'selfsup';
 *
 * rgbToLab(tf.tensor4d([1, 1, 1, 1, 0, 0], [1, 1, 2, 3])).print(); // [100, 0, 0], [53.24, 80.09, 67.20]
 * ```
 */
export function rgbToLab(images: tf.Tensor4D): tf.Tensor4D {
  const fn = 'rgbToLab';
  const x = readImages(images, fn, { channels: [3], checkRange: true });
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const linear = toPlanes(x).map((c) =>
      piecewise(c, 0.04045, (s) => tf.pow(tf.div(tf.add(s, 0.055), 1.055), 2.4), (t) => tf.div(t, 12.92)),
    );
    const xyz = mix(XYZ_FROM_RGB, linear, D65.map((v) => 1 / v));
    const [fx, fy, fz] = xyz.map((t) =>
      piecewise(t, 0.008856, (s) => tf.pow(s, 1 / 3), (u) => tf.add(tf.mul(u, 7.787), 16 / 116)),
    ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const lab: Planes = [
      tf.sub(tf.mul(fy, 116), 16) as tf.Tensor2D,
      tf.mul(tf.sub(fx, fy), 500) as tf.Tensor2D,
      tf.mul(tf.sub(fy, fz), 200) as tf.Tensor2D,
    ];
    return fromPlanes(lab, h, w);
  });
}

/**
 * CIE L\*a\*b\* (D65, 2° observer) → sRGB, as scikit-image's `lab2rgb`: the
 * inverse CIE f (negative Z clipped to 0, as scikit-image does), the
 * XYZ→sRGB matrix (the inverse of {@link rgbToLab}'s), sRGB gamma
 * compression, and clipping to [0, 1] (colours outside the sRGB gamut are
 * clipped).
 *
 * @param images - `[B, H, W, 3]` float32 (L\* in [0, 100], a\*, b\*).
 * @returns `[B, H, W, 3]` float32 RGB in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { labToRgb, rgbToLab } from 'selfsup';
 *
 * const x = tf.tensor4d([0.2, 0.5, 0.9], [1, 1, 1, 3]);
 * labToRgb(rgbToLab(x)).print(); // ≈ [0.2, 0.5, 0.9]
 * ```
 */
export function labToRgb(images: tf.Tensor4D): tf.Tensor4D {
  const fn = 'labToRgb';
  const x = readImages(images, fn, { channels: [3] });
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const [l, a, b] = toPlanes(x);
    const fy = tf.div(tf.add(l, 16), 116);
    const fx = tf.add(tf.div(a, 500), fy);
    const fz = tf.relu(tf.sub(fy, tf.div(b, 200)));
    const xyz = [fx, fy, fz].map((f, k) =>
      tf.mul(
        piecewise(f, 0.2068966, (s) => tf.pow(s, 3), (t) => tf.div(tf.sub(t, 16 / 116), 7.787)),
        D65[k] as number,
      ),
    );
    const rgb = mix(RGB_FROM_XYZ, xyz).map((c) =>
      tf.clipByValue(
        piecewise(c, 0.0031308, (s) => tf.sub(tf.mul(tf.pow(s, 1 / 2.4), 1.055), 0.055), (t) => tf.mul(t, 12.92)),
        0,
        1,
      ),
    ) as Planes;
    return fromPlanes(rgb, h, w);
  });
}
