import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { assertBackendReady } from '../core/backend-ready.js';

function readGridSize(size: unknown, fn: string): [number, number] {
  if (!Array.isArray(size) || size.length !== 2) throw new InvalidArgumentError(fn, 'size', 'be [H, W]', describeValue(size));
  assertInteger(size[0], fn, 'size[0]', { min: 1 });
  assertInteger(size[1], fn, 'size[1]', { min: 1 });
  return [size[0], size[1]];
}

/** Throws a `ResourceError` unless a `[B, H, W, 1]` mask (made in JS, then copied) fits. */
function assertMaskFits(batchSize: number, size: readonly [number, number], fn: string): void {
  assertMemoryFits(fn, 'size', [{ shape: [batchSize, size[0], size[1], 1], count: 2 }]);
}

function readIntRange(v: unknown, fn: string, arg: string, min: number, max: number, what: string): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  const ok = Array.isArray(pair) && pair.length === 2 && pair.every((x) => Number.isInteger(x)) && (pair[0] as number) <= (pair[1] as number);
  if (!ok) throw new InvalidArgumentError(fn, arg, 'be an integer or an integer [min, max] pair with min ≤ max', describeValue(v));
  const [lo, hi] = pair as [number, number];
  if (lo < min || hi > max) {
    throw new ShapeError(fn, arg, `lie within [${min}, ${max}] (${what})`, describeValue(v));
  }
  return [lo, hi];
}

function toMaskTensor(data: Float32Array, b: number, h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(data, [b, h, w, 1]);
}

/** Options of {@link centerMask}. */
export interface CenterMaskOptions {
  /**
   * Hole size in pixels: one side or `[height, width]`.
   * @default half of each side (Pathak et al.'s 64×64 hole in 128×128 images)
   */
  holeSize?: number | readonly [number, number];
}

/**
 * The central square hole of context encoders (Pathak et al. 2016).
 *
 * @param batchSize - `B`.
 * @param size - `[H, W]` of the images.
 * @returns `[B, H, W, 1]` float32, 1 = hole.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { centerMask } from 'selfsup';
 *
 * const mask = centerMask(1, [8, 8]);
 * console.log(tf.sum(mask).dataSync()[0]); // 16
 * ```
 */
export function centerMask(batchSize: number, size: readonly [number, number], options: CenterMaskOptions = {}): tf.Tensor4D {
  const fn = 'centerMask';
  assertBackendReady(fn);
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  const [h, w] = readGridSize(size, fn);
  assertMaskFits(batchSize, [size[0], size[1]], fn);
  assertKnownOptions(options, ['holeSize'], fn);
  const hole = options.holeSize ?? [Math.floor(h / 2), Math.floor(w / 2)];
  if (typeof hole !== 'number' && !(Array.isArray(hole) && hole.length === 2)) {
    throw new InvalidArgumentError(fn, 'options.holeSize', 'be an integer or an [h, w] pair', describeValue(hole));
  }
  const [hh, hw] = typeof hole === 'number' ? [hole, hole] : hole;
  assertInteger(hh, fn, 'options.holeSize', { min: 0 });
  assertInteger(hw, fn, 'options.holeSize', { min: 0 });
  if (hh > h || hw > w) throw new ShapeError(fn, 'options.holeSize', `fit in the ${h}×${w} image`, `${hh}×${hw}`);
  const top = Math.floor((h - hh) / 2);
  const left = Math.floor((w - hw) / 2);
  const one = new Float32Array(h * w);
  for (let i = top; i < top + hh; i++) one.fill(1, i * w + left, i * w + left + hw);
  const data = new Float32Array(batchSize * h * w);
  for (let b = 0; b < batchSize; b++) data.set(one, b * h * w);
  return toMaskTensor(data, batchSize, h, w);
}

/** Options of {@link randomRectangleMask}. */
export interface RandomRectangleMaskOptions {
  /**
   * Number of rectangles per image (a number or an inclusive `[min, max]` range).
   * @default [1, 3]
   */
  count?: number | readonly [number, number];
  /**
   * Rectangle height range in pixels (inclusive).
   * @default [⌈H/8⌉, ⌊H/2⌋]
   */
  height?: number | readonly [number, number];
  /**
   * Rectangle width range in pixels (inclusive).
   * @default [⌈W/8⌉, ⌊W/2⌋]
   */
  width?: number | readonly [number, number];
  /**
   * Seed of the placement.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/**
 * Random rectangular holes (the random-block masks of context encoders):
 * per image a uniform number of rectangles with uniform sizes and positions
 * (fully inside the image; overlaps allowed).
 *
 * @returns `[B, H, W, 1]` float32, 1 = hole.
 *
 * @example
 * ```ts
 * import { randomRectangleMask } from 'selfsup';
 *
 * const mask = randomRectangleMask(4, [32, 32], { count: [1, 2], seed: 0 });
 * console.log(mask.shape); // [4, 32, 32, 1]
 * ```
 */
export function randomRectangleMask(batchSize: number, size: readonly [number, number], options: RandomRectangleMaskOptions = {}): tf.Tensor4D {
  const fn = 'randomRectangleMask';
  assertBackendReady(fn);
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  const [h, w] = readGridSize(size, fn);
  assertMaskFits(batchSize, [size[0], size[1]], fn);
  assertKnownOptions(options, ['count', 'height', 'width', 'seed'], fn);
  const count = readIntRange(options.count ?? [1, 3], fn, 'options.count', 0, 1024, 'rectangles per image');
  const hr = readIntRange(options.height ?? [Math.max(1, Math.ceil(h / 8)), Math.max(1, Math.floor(h / 2))], fn, 'options.height', 1, h, 'the image height');
  const wr = readIntRange(options.width ?? [Math.max(1, Math.ceil(w / 8)), Math.max(1, Math.floor(w / 2))], fn, 'options.width', 1, w, 'the image width');
  const rng = createRng(options.seed, fn, 'options.seed');
  const data = new Float32Array(batchSize * h * w);
  for (let b = 0; b < batchSize; b++) {
    const n = rng.int(count[0], count[1] + 1);
    for (let r = 0; r < n; r++) {
      const rh = rng.int(hr[0], hr[1] + 1);
      const rw = rng.int(wr[0], wr[1] + 1);
      const top = rng.int(0, h - rh + 1);
      const left = rng.int(0, w - rw + 1);
      for (let i = top; i < top + rh; i++) data.fill(1, b * h * w + i * w + left, b * h * w + i * w + left + rw);
    }
  }
  return toMaskTensor(data, batchSize, h, w);
}

/** Options of {@link irregularMask}. */
export interface IrregularMaskOptions {
  /**
   * Strokes per image (inclusive range).
   * @default [1, 3]
   */
  strokes?: number | readonly [number, number];
  /**
   * Vertices per stroke (inclusive range).
   * @default [4, 11]
   */
  vertices?: number | readonly [number, number];
  /**
   * Brush width range in pixels.
   * @default [⌈0.047·S⌉, ⌈0.156·S⌉] with S the longer side (12–40 px at 256, as DeepFill v2)
   */
  brushWidth?: number | readonly [number, number];
  /**
   * Seed of the strokes.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** Marks every pixel within `radius` of the segment (x0, y0)–(x1, y1). */
function drawSegment(mask: Float32Array, offset: number, h: number, w: number, x0: number, y0: number, x1: number, y1: number, radius: number): void {
  const r2 = radius * radius;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - radius));
  const maxX = Math.min(w - 1, Math.ceil(Math.max(x0, x1) + radius));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - radius));
  const maxY = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + radius));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      // Distance from the pixel centre to the segment (a capsule: round caps and joins).
      let t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = x - (x0 + t * dx);
      const ey = y - (y0 + t * dy);
      if (ex * ex + ey * ey <= r2) mask[offset + y * w + x] = 1;
    }
  }
}

function strokeImage(rng: Rng, mask: Float32Array, offset: number, h: number, w: number, o: { strokes: readonly [number, number]; vertices: readonly [number, number]; brush: readonly [number, number] }): void {
  const meanAngle = (2 * Math.PI) / 5;
  const angleRange = (2 * Math.PI) / 15;
  const averageRadius = Math.sqrt(h * h + w * w) / 8;
  const n = rng.int(o.strokes[0], o.strokes[1] + 1);
  for (let s = 0; s < n; s++) {
    const numVertex = rng.int(o.vertices[0], o.vertices[1] + 1);
    const angleMin = meanAngle - rng.uniform(0, angleRange);
    const angleMax = meanAngle + rng.uniform(0, angleRange);
    const width = rng.uniform(o.brush[0], o.brush[1]);
    let x = rng.uniform(0, w);
    let y = rng.uniform(0, h);
    for (let v = 0; v < numVertex; v++) {
      // Alternate turning direction, as DeepFill v2's brush strokes do.
      const angle = v % 2 === 0 ? 2 * Math.PI - rng.uniform(angleMin, angleMax) : rng.uniform(angleMin, angleMax);
      const r = Math.min(Math.max(rng.normal(averageRadius, averageRadius / 2), 0), 2 * averageRadius);
      const nx = Math.min(Math.max(x + r * Math.cos(angle), 0), w - 1);
      const ny = Math.min(Math.max(y + r * Math.sin(angle), 0), h - 1);
      drawSegment(mask, offset, h, w, x, y, nx, ny, width / 2);
      x = nx;
      y = ny;
    }
  }
}

/**
 * Free-form brush-stroke holes (Yu et al. 2019, "Free-form image inpainting
 * with gated convolution", the DeepFill v2 mask generator): per image 1–3
 * strokes, each a random walk of 4–11 segments with alternating turning
 * angles around 2π/5, segment lengths ~ N(r, r/2) clipped to [0, 2r] with
 * r = diagonal/8, drawn with a round brush of random width. The walk runs on
 * selfsup's seeded generator; the strokes are rasterised in JavaScript (a
 * mask is drawn once per image, not an image transform).
 *
 * @returns `[B, H, W, 1]` float32, 1 = hole.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { irregularMask } from 'selfsup';
 *
 * const mask = irregularMask(2, [64, 64], { seed: 0 });
 * console.log(mask.shape, tf.mean(mask).dataSync()[0]); // [2, 64, 64, 1], the hole fraction
 * ```
 */
export function irregularMask(batchSize: number, size: readonly [number, number], options: IrregularMaskOptions = {}): tf.Tensor4D {
  const fn = 'irregularMask';
  assertBackendReady(fn);
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  const [h, w] = readGridSize(size, fn);
  assertMaskFits(batchSize, [size[0], size[1]], fn);
  assertKnownOptions(options, ['strokes', 'vertices', 'brushWidth', 'seed'], fn);
  const longer = Math.max(h, w);
  const strokes = readIntRange(options.strokes ?? [1, 3], fn, 'options.strokes', 0, 64, 'strokes per image');
  const vertices = readIntRange(options.vertices ?? [4, 11], fn, 'options.vertices', 1, 256, 'vertices per stroke');
  const brush = readIntRange(
    options.brushWidth ?? [Math.max(1, Math.ceil(0.047 * longer)), Math.max(1, Math.ceil(0.156 * longer))],
    fn,
    'options.brushWidth',
    1,
    longer,
    'the longer image side',
  );
  const rng = createRng(options.seed, fn, 'options.seed');
  const data = new Float32Array(batchSize * h * w);
  for (let b = 0; b < batchSize; b++) strokeImage(rng, data, b * h * w, h, w, { strokes, vertices, brush });
  return toMaskTensor(data, batchSize, h, w);
}
