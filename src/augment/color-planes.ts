/**
 * Colour maths on `[B, H·W]` planes (not exported from the package). The ops
 * are chosen for the wasm backend's fast paths: same-shape, scalar and
 * per-sample `[B, 1]` arithmetic, `relu`, `step`, `abs`, `floor`, `clip`;
 * `maximum`, `minimum`, comparisons, `where` and `mod` fall back to slow
 * generic kernels there (5–30× slower), so max/min/selection are written with
 * `relu`/`step` identities: `max(a, b) = a + relu(b − a)`,
 * `[a ≥ b] = 1 − step(b − a)`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Planes } from './tensor-ops.js';

/** ITU-R 601-2 luma weights as torchvision's `rgb_to_grayscale` uses them. */
export const GRAY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

type Operand = tf.Tensor | number;

/** `0.2989 R + 0.587 G + 0.114 B`. */
export function grayPlane([r, g, b]: Planes): tf.Tensor2D {
  return tf.add(tf.add(tf.mul(r, GRAY_WEIGHTS[0]), tf.mul(g, GRAY_WEIGHTS[1])), tf.mul(b, GRAY_WEIGHTS[2]));
}

/** Per-sample mean of the grayscale image, `[B, 1]` (mean of gray = gray of the channel means). */
export function grayMean([r, g, b]: Planes): tf.Tensor2D {
  return tf.add(
    tf.add(tf.mul(tf.mean(r, 1, true), GRAY_WEIGHTS[0]), tf.mul(tf.mean(g, 1, true), GRAY_WEIGHTS[1])),
    tf.mul(tf.mean(b, 1, true), GRAY_WEIGHTS[2]),
  );
}

/**
 * `clip(a·x + offset, 0, 1)` per channel: torchvision's `_blend(img1, img2,
 * ratio)` with `a = ratio` and `offset = (1 − ratio)·img2`. With `a = 1` and
 * `offset = 0` the planes come back bit-identical.
 */
export function affineClip(planes: Planes, a: Operand, offset: Operand | null): Planes {
  return planes.map((x) => {
    const scaled = tf.mul(x, a);
    return tf.clipByValue(offset === null ? scaled : tf.add(scaled, offset), 0, 1);
  }) as Planes;
}

function minOf(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.sub(a, tf.relu(tf.sub(a, b)));
}

/**
 * Hue in sextants, value (max) and chroma (max − min) of RGB planes, with
 * torchvision's tie-breaking (red before green before blue) and hue 0 for
 * grays. Hue lies in [−1, 5). The branch weights come from exact pairwise
 * comparisons (a max computed as `a + relu(b − a)` can differ from the
 * winning channel by one ulp and pick the wrong branch).
 */
export function hueSextants([r, g, b]: Planes): { hue6: tf.Tensor2D; max: tf.Tensor2D; chroma: tf.Tensor2D } {
  const gMinusR = tf.sub(g, r);
  const bMinusR = tf.sub(b, r);
  const bMinusG = tf.sub(b, g);
  const bAboveG = tf.step(bMinusG);
  // isR = [r ≥ g and r ≥ b]; wG = [not R and g ≥ b]; wB = [not R and b > g].
  const isR = tf.mul(tf.sub(1, tf.step(gMinusR)), tf.sub(1, tf.step(bMinusR)));
  const notR = tf.sub(1, isR);
  const wG = tf.mul(notR, tf.sub(1, bAboveG));
  const wB = tf.mul(notR, bAboveG);
  // Selecting with 0/1 weights returns the winning channel bit for bit.
  const max = tf.add(tf.add(tf.mul(isR, r), tf.mul(wG, g)), tf.mul(wB, b)) as tf.Tensor2D;
  const min = minOf(minOf(r, g), b);
  const chroma = tf.sub(max, min) as tf.Tensor2D;
  // chroma·hue6 per branch: (g − b), 2·chroma + (b − r), 4·chroma + (r − g).
  const weighted = tf.add(
    tf.sub(tf.mul(wG, tf.add(tf.mul(chroma, 2), bMinusR)), tf.mul(isR, bMinusG)),
    tf.mul(wB, tf.sub(tf.mul(chroma, 4), gMinusR)),
  );
  // Grays (chroma 0) have weighted = 0; dividing by 1 there gives hue 0.
  const safe = tf.add(chroma, tf.sub(1, tf.step(chroma)));
  return { hue6: tf.div(weighted, safe) as tf.Tensor2D, max, chroma };
}

/**
 * RGB planes from hue in sextants (any real; taken modulo 6), value and
 * chroma: channel n = max − chroma·clip(2 − |k − 2|, 0, 1) with
 * k = (hue6 + {5, 3, 1}) mod 6, the closed form of torchvision's `_hsv2rgb`
 * case table (p, q, t, v).
 */
export function planesFromHue(hue6: tf.Tensor, max: tf.Tensor, chroma: tf.Tensor): Planes {
  return [5, 3, 1].map((n) => {
    const k = tf.add(hue6, n);
    const wrapped = tf.sub(k, tf.mul(tf.floor(tf.mul(k, 1 / 6)), 6));
    const ramp = tf.clipByValue(tf.sub(2, tf.abs(tf.sub(wrapped, 2))), 0, 1);
    return tf.sub(max, tf.mul(chroma, ramp));
  }) as Planes;
}

/** Hue rotation by `shift` turns (per-sample `[B, 1]` or a number), as torchvision's `adjust_hue`. */
export function hueShiftPlanes(planes: Planes, shift: Operand): Planes {
  const { hue6, max, chroma } = hueSextants(planes);
  return planesFromHue(tf.add(hue6, tf.mul(shift, 6)), max, chroma);
}
