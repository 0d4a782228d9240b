/**
 * The planar fast path of {@link compose} (not exported from the package).
 *
 * Inside a pipeline, images travel as `[C, B, H, W]` ("planar": each
 * channel of the whole batch is one contiguous block) instead of NHWC:
 * colour maths then works on whole `[B, H·W]` channel planes, resampling
 * transposes scalars instead of 3-float pixels (≈ 3× cheaper on wasm), the
 * blur folds samples into channels with a 2-D transpose, and NHWC↔planar
 * conversion happens once per pipeline instead of once per colour transform.
 * Consecutive geometric steps (a resized crop and flips) are fused into one
 * resampling pass by composing their per-sample source positions.
 *
 * Transforms opt in with two symbol-keyed methods, so the public
 * {@link Transform} interface stays as documented.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { resampleSeparable, takeRows, type Planes } from './tensor-ops.js';
import type { ImageShape } from './transform.js';

/** `transform[PLANAR](x, params)`: the transform on `[C, B, H, W]` images. */
export const PLANAR = Symbol('selfsup.planar');

/** `transform[POSITIONS](shape, params)`: the transform as separable source positions (geometric steps). */
export const POSITIONS = Symbol('selfsup.positions');

/** Per-sample source positions of a separable resampling (see `resampleSeparable`). */
export interface Positions {
  rows: Float64Array;
  cols: Float64Array;
  outH: number;
  outW: number;
}

export interface PlanarCapable<P> {
  [PLANAR](x: tf.Tensor4D, params: P): tf.Tensor4D;
}

export interface PositionsCapable<P> {
  [POSITIONS](shape: ImageShape, params: P): Positions;
}

export function isPlanar(t: unknown): t is PlanarCapable<unknown> {
  return typeof (t as Partial<PlanarCapable<unknown>>)[PLANAR] === 'function';
}

export function hasPositions(t: unknown): t is PositionsCapable<unknown> {
  return typeof (t as Partial<PositionsCapable<unknown>>)[POSITIONS] === 'function';
}

/** NHWC `[B, H, W, C]` → planar `[C, B, H, W]` (one 2-D transpose). */
export function toPlanar(images: tf.Tensor4D): tf.Tensor4D {
  // On wasm one selfsup kernel de-interleaves the pixels (tfjs's Transpose of an [N, 3] matrix moves ~0.4 G elements/s).
  if (images.dtype === 'float32' && hasFusedKernel(FUSED.toPlanar)) return tf.engine().runKernel(FUSED.toPlanar, { x: images }) as tf.Tensor4D;
  const [b, h, w, c] = images.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(images, [b * h * w, c])), [c, b, h, w]) as tf.Tensor4D);
}

/** Planar `[C, B, H, W]` → NHWC `[B, H, W, C]`. */
export function fromPlanar(x: tf.Tensor4D): tf.Tensor4D {
  if (x.dtype === 'float32' && hasFusedKernel(FUSED.fromPlanar)) return tf.engine().runKernel(FUSED.fromPlanar, { x }) as tf.Tensor4D;
  const [c, b, h, w] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [c, b * h * w])), [b, h, w, c]) as tf.Tensor4D);
}

/** The batch's shape `[B, H, W, C]` of planar images. */
export function planarShape(x: tf.Tensor4D): ImageShape {
  const [c, b, h, w] = x.shape;
  return [b, h, w, c];
}

/** The channel planes `[B, H·W]` of 3-channel planar images. */
export function planarChannels(x: tf.Tensor4D): Planes {
  const [c, b, h, w] = x.shape;
  const flat = tf.reshape(x, [c, b * h * w]) as tf.Tensor2D;
  const planes = [0, 1, 2].map((k) => tf.tidy(() => tf.reshape(takeRows(flat, Int32Array.of(k)), [b, h * w]))) as Planes;
  flat.dispose();
  return planes;
}

/** Channel planes back to planar `[C, B, H, W]`. */
export function planarFromChannels(planes: readonly tf.Tensor2D[], h: number, w: number): tf.Tensor4D {
  const b = (planes[0] as tf.Tensor2D).shape[0];
  return tf.tidy(() => tf.reshape(tf.concat(planes as tf.Tensor2D[], 0), [planes.length, b, h, w]) as tf.Tensor4D);
}

/** Rows `c·B + b` of the `[C·B, H·W]` view for the samples `indices`, all channels. */
function sampleRows(c: number, b: number, indices: ArrayLike<number>): Int32Array {
  const k = indices.length;
  const rows = new Int32Array(c * k);
  for (let ch = 0; ch < c; ch++) for (let j = 0; j < k; j++) rows[ch * k + j] = ch * b + (indices[j] as number);
  return rows;
}

/**
 * Runs `fn` on the planar sub-batch of samples with `mask[i] = 1` and puts
 * the results back in place; other samples pass through bit-identical.
 */
export function planarApplyToSubset(
  x: tf.Tensor4D,
  mask: ArrayLike<number>,
  fn: (subset: tf.Tensor4D, indices: Int32Array) => tf.Tensor4D,
): tf.Tensor4D {
  const [c, b, h, w] = x.shape;
  const picked: number[] = [];
  for (let i = 0; i < b; i++) if (mask[i]) picked.push(i);
  if (picked.length === 0) return tf.clone(x);
  const indices = Int32Array.from(picked);
  return tf.tidy(() => {
    if (picked.length === b) return fn(x, indices);
    const flat = tf.reshape(x, [c * b, h * w]) as tf.Tensor2D;
    const subset = tf.reshape(takeRows(flat, sampleRows(c, b, indices)), [c, picked.length, h, w]) as tf.Tensor4D;
    const out = fn(subset, indices);
    // Gather from [x rows; out rows]: channel ch of sample i comes from out when picked.
    const k = picked.length;
    const idx = new Int32Array(c * b);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < b; i++) idx[ch * b + i] = ch * b + i;
    for (let ch = 0; ch < c; ch++) picked.forEach((orig, j) => {
      idx[ch * b + orig] = c * b + ch * k + j;
    });
    const both = tf.concat([flat, tf.reshape(out, [c * k, h * w])], 0) as tf.Tensor2D;
    return tf.reshape(takeRows(both, idx), [c, b, h, w]) as tf.Tensor4D;
  });
}

/** Separable resampling of planar images (positions per sample, shared by the channels). */
export function planarResample(x: tf.Tensor4D, pos: Positions): tf.Tensor4D {
  const [c, b, h, w] = x.shape;
  if (x.dtype === 'float32' && hasFusedKernel(FUSED.resample)) return resampleFused(x, pos);
  const repeat = (p: Float64Array): Float64Array => {
    const out = new Float64Array(p.length * c);
    for (let ch = 0; ch < c; ch++) out.set(p, ch * p.length);
    return out;
  };
  return tf.tidy(() => {
    const y = resampleSeparable(tf.reshape(x, [c * b, h, w, 1]) as tf.Tensor4D, repeat(pos.rows), repeat(pos.cols), pos.outH, pos.outW);
    return tf.reshape(y, [c, b, pos.outH, pos.outW]) as tf.Tensor4D;
  });
}

/**
 * {@link planarResample} in one selfsup wasm kernel: the same bilinear
 * arithmetic as `resampleSeparable` (rows, then columns, each
 * `a + (b − a)·frac` between the pixels around a position), one pass per
 * plane instead of two gathers and three ops per axis.
 */
function resampleFused(x: tf.Tensor4D, pos: Positions): tf.Tensor4D {
  const [, b, h, w] = x.shape;
  const { outH, outW } = pos;
  if (outH === h && outW === w && isIdentityMap(pos.rows, b, h) && isIdentityMap(pos.cols, b, w)) return tf.clone(x);
  const per = outH + outW;
  const index = new Int32Array(2 * b * per);
  const fraction = new Float32Array(b * per);
  const fill = (p: Float64Array, s: number, n: number, size: number, at: number) => {
    for (let k = 0; k < n; k++) {
      const v = p[s * n + k] as number;
      const f = Math.floor(v);
      index[2 * (s * per + at + k)] = f;
      index[2 * (s * per + at + k) + 1] = Math.min(f + 1, size - 1);
      fraction[s * per + at + k] = v - f;
    }
  };
  for (let s = 0; s < b; s++) {
    fill(pos.rows, s, outH, h, 0);
    fill(pos.cols, s, outW, w, outH);
  }
  return tf.engine().runKernel(FUSED.resample, { x }, { index, fraction, outHeight: outH, outWidth: outW } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

function isIdentityMap(pos: Float64Array, b: number, size: number): boolean {
  for (let s = 0; s < b; s++) for (let i = 0; i < size; i++) if (pos[s * size + i] !== i) return false;
  return true;
}

/** Identity positions for a batch of shape `[B, H, W, ·]`. */
export function identityPositions(b: number, h: number, w: number): Positions {
  const rows = new Float64Array(b * h);
  const cols = new Float64Array(b * w);
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < h; i++) rows[s * h + i] = i;
    for (let j = 0; j < w; j++) cols[s * w + j] = j;
  }
  return { rows, cols, outH: h, outW: w };
}

/** Per sample: `pos[s·n + j] = a + sign·j` with integer a and sign ±1 (identity or a reversal). */
function affineIntegerMap(pos: Float64Array, b: number, n: number): { a: Float64Array; sign: Float64Array } | null {
  const a = new Float64Array(b);
  const sign = new Float64Array(b);
  for (let s = 0; s < b; s++) {
    const first = pos[s * n] as number;
    const step = n > 1 ? (pos[s * n + 1] as number) - first : 1;
    if (!Number.isInteger(first) || (step !== 1 && step !== -1)) return null;
    for (let j = 0; j < n; j++) if (pos[s * n + j] !== first + step * j) return null;
    a[s] = first;
    sign[s] = step;
  }
  return { a, sign };
}

function composeAxis(outer: Float64Array, inner: Float64Array, b: number, innerSize: number, outSize: number): Float64Array | null {
  const out = new Float64Array(b * outSize);
  let integer = true;
  for (let k = 0; k < inner.length; k++) if (!Number.isInteger(inner[k])) integer = false;
  if (integer) {
    // The later step only picks pixels: look its picks up in the earlier map.
    for (let s = 0; s < b; s++) for (let j = 0; j < outSize; j++) out[s * outSize + j] = outer[s * innerSize + (inner[s * outSize + j] as number)] as number;
    return out;
  }
  // A fractional later step composes exactly only with an identity or a reversal.
  const affine = affineIntegerMap(outer, b, innerSize);
  if (!affine) return null;
  for (let s = 0; s < b; s++) {
    for (let j = 0; j < outSize; j++) out[s * outSize + j] = (affine.a[s] as number) + (affine.sign[s] as number) * (inner[s * outSize + j] as number);
  }
  return out;
}

/**
 * Positions of "apply `first`, then `second`" as one resampling, or `null`
 * when the pair does not compose exactly (two fractional resamplings).
 */
export function composePositions(first: Positions, second: Positions, b: number): Positions | null {
  const rows = composeAxis(first.rows, second.rows, b, first.outH, second.outH);
  const cols = composeAxis(first.cols, second.cols, b, first.outW, second.outW);
  if (!rows || !cols) return null;
  return { rows, cols, outH: second.outH, outW: second.outW };
}
