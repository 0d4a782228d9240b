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
import { takeRows, type Planes } from './tensor-ops.js';

/** ITU-R 601-2 luma weights as torchvision's `rgb_to_grayscale` uses them. */
export const GRAY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

type Operand = tf.Tensor | number;

/** `0.2989 R + 0.587 G + 0.114 B`. */
export function grayPlane([r, g, b]: Planes): tf.Tensor2D {
  return tf.tidy(() => {
    const rg = tf.tidy(() => tf.add(tf.mul(r, GRAY_WEIGHTS[0]), tf.mul(g, GRAY_WEIGHTS[1])));
    return tf.tidy(() => tf.add(rg, tf.mul(b, GRAY_WEIGHTS[2]))) as tf.Tensor2D;
  });
}

/** Per-sample mean of the grayscale image, `[B, 1]` (mean of gray = gray of the channel means). */
export function grayMean([r, g, b]: Planes): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(
      tf.add(tf.mul(tf.mean(r, 1, true), GRAY_WEIGHTS[0]), tf.mul(tf.mean(g, 1, true), GRAY_WEIGHTS[1])),
      tf.mul(tf.mean(b, 1, true), GRAY_WEIGHTS[2]),
    ),
  );
}

/**
 * `clip(a·x + offset, 0, 1)` per channel: torchvision's `_blend(img1, img2,
 * ratio)` with `a = ratio` and `offset = (1 − ratio)·img2`. With `a = 1` and
 * `offset = 0` the planes come back bit-identical.
 */
export function affineClip(planes: Planes, a: Operand, offset: Operand | null): Planes {
  return planes.map((x) =>
    tf.tidy(() => {
      const scaled = tf.mul(x, a);
      return tf.clipByValue(offset === null ? scaled : tf.tidy(() => tf.add(scaled, offset)), 0, 1);
    }),
  ) as Planes;
}

/**
 * Hue in sextants, value (max) and chroma (max − min) of RGB planes; hue 0
 * for grays. Two branch-free conditional swaps sort the channels (the
 * formulation common in GPU shaders): `p = g < b ? (b, g, −1, 2/3) :
 * (g, b, 0, −1/3)`, `q = r < p₀ ? (p₀, p₁, p₃, r) : (r, p₁, p₂, p₀)`,
 * hue = |q₂ + (q₃ − q₁) / (6·chroma)|. Hue is continuous across channel
 * ties, so the result equals torchvision's (red-first tie-breaking) up to
 * rounding; hue lies in [0, 6].
 *
 * Intermediates are freed as soon as they are used (nested `tidy`s): the
 * allocator then hands the next op a buffer that is still in cache, which on
 * wasm makes each op several times faster than writing to cold memory.
 */
export function hueSextants([r, g, b]: Planes): { hue6: tf.Tensor2D; max: tf.Tensor2D; chroma: tf.Tensor2D } {
  return tf.tidy(() => {
    // First swap: p0 = max(g, b), p1 = min(g, b); offset pw − pz = 1/3 − … folded below.
    const bMinusG = tf.sub(b, g);
    const bAbove = tf.step(bMinusG);
    const p0 = tf.tidy(() => tf.add(g, tf.mul(bAbove, bMinusG)));
    const p1 = tf.tidy(() => tf.sub(tf.add(g, b), p0));
    bMinusG.dispose();
    // pz = −bAbove, pw = bAbove − 1/3.
    const pz = tf.neg(bAbove);
    const pw = tf.sub(bAbove, 1 / 3);
    bAbove.dispose();
    // Second swap against r.
    const p0MinusR = tf.sub(p0, r);
    const rBelow = tf.step(p0MinusR);
    const max = tf.tidy(() => tf.add(r, tf.mul(rBelow, p0MinusR))) as tf.Tensor2D;
    p0MinusR.dispose();
    const qw = tf.tidy(() => tf.sub(tf.add(r, p0), max)); // the one of r, p0 that is not the max
    p0.dispose();
    const qz = tf.tidy(() => tf.add(pz, tf.mul(rBelow, tf.sub(pw, pz))));
    tf.dispose([pz, pw, rBelow]);
    const chroma = tf.tidy(() => tf.sub(max, tf.sub(qw, tf.relu(tf.sub(qw, p1))))) as tf.Tensor2D;
    // Grays: chroma 0 and qw − p1 = 0; dividing by 1 there gives hue |qz| with qz ∈ {0, −1/3, …}·0 terms → handled by the mask.
    const hue = tf.tidy(() => {
      const safe = tf.add(chroma, tf.sub(1, tf.step(chroma)));
      const ratio = tf.div(tf.sub(qw, p1), tf.mul(safe, 6));
      return tf.mul(tf.abs(tf.add(qz, ratio)), tf.mul(tf.step(chroma), 6));
    }) as tf.Tensor2D;
    tf.dispose([qw, qz, p1]);
    return { hue6: hue, max, chroma };
  });
}

/**
 * RGB planes from hue in sextants (any real; taken modulo 6), value and
 * chroma: channel n = max − chroma·clip(|3 − d| − 1, 0, 1), with d the
 * distance of the hue from the channel's "opposite" hue (3 for red, 5 for
 * green, 1 for blue): the closed form of torchvision's `_hsv2rgb` case table
 * (p, q, t, v), one wrap for the three channels.
 */
export function planesFromHue(hue6: tf.Tensor, max: tf.Tensor, chroma: tf.Tensor): Planes {
  return tf.tidy(() => {
    const h = tf.tidy(() => tf.sub(hue6, tf.mul(tf.floor(tf.mul(hue6, 1 / 6)), 6)));
    const out = [3, 5, 1].map((opposite) =>
      tf.tidy(() => {
        const ramp = tf.tidy(() => tf.clipByValue(tf.sub(tf.abs(tf.sub(3, tf.abs(tf.sub(h, opposite)))), 1), 0, 1));
        return tf.sub(max, tf.tidy(() => tf.mul(chroma, ramp)));
      }),
    ) as Planes;
    h.dispose();
    return out;
  });
}

/** Hue rotation by `shift` turns (per-sample `[B, 1]` or a number), as torchvision's `adjust_hue`. */
export function hueShiftPlanes(planes: Planes, shift: Operand): Planes {
  return tf.tidy(() => {
    const { hue6, max, chroma } = hueSextants(planes);
    const shifted = tf.tidy(() => tf.add(hue6, tf.mul(shift, 6)));
    hue6.dispose();
    return planesFromHue(shifted, max, chroma);
  });
}

/** The gray value of channel-major planes `[3, N]`, replicated `rows` times: `[rows, N]`. */
export function grayRows(channelMajor: tf.Tensor2D, rows: number): tf.Tensor2D {
  // Not a [1, 3] × [3, N] matMul: tfjs-wasm packs a fresh right-hand operand
  // as weights on every call, ≈ 20× the cost of these five plane ops.
  return tf.tidy(() => {
    const planes = [0, 1, 2].map((c) => takeRows(channelMajor, Int32Array.of(c))) as Planes;
    const gray = grayPlane(planes);
    tf.dispose(planes);
    return rows === 1 ? gray : (tf.concat(new Array<tf.Tensor2D>(rows).fill(gray), 0) as tf.Tensor2D);
  });
}

