import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, formatShape } from '../core/validate.js';
import { readImages } from '../augment/image-input.js';
import { cropExact } from '../augment/tensor-ops.js';

/** Options of {@link relativePositionPairs}. */
export interface RelativePositionOptions {
  /**
   * Side of the patch grid, odd (Doersch et al.: 3, so 8 neighbours).
   * @default 3
   */
  grid?: number;
  /**
   * Patch side in pixels.
   * @default the largest that fits 3 patches, 2 gaps and the jitter (≈ side/4.15)
   */
  patchSize?: number;
  /**
   * Gap between neighbouring patches in pixels (Doersch et al.: 48 for 96-pixel patches).
   * @default round(patchSize / 2)
   */
  gap?: number;
  /**
   * Maximum random shift of each patch in pixels, per axis (Doersch et al.: 7 for 96-pixel patches).
   * @default round(patchSize · 7/96)
   */
  jitter?: number;
  /**
   * Seed of labels, grid placement and jitter.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** Neighbour cells (row, col) of a grid×grid layout, row-major without the centre: the labels. */
function neighbours(grid: number): [number, number][] {
  const centre = (grid - 1) / 2;
  const out: [number, number][] = [];
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) if (r !== centre || c !== centre) out.push([r, c]);
  return out;
}

function layout(side: number, grid: number, patch: number | undefined, gap: number | undefined, jitter: number | undefined) {
  const g = (p: number) => gap ?? Math.round(p / 2);
  const j = (p: number) => jitter ?? Math.round((p * 7) / 96);
  let p = patch ?? Math.floor(side / (grid + (grid - 1) / 2 + (2 * 7) / 96));
  if (patch === undefined) while (p > 1 && grid * p + (grid - 1) * g(p) + 2 * j(p) > side) p--;
  return { p, g: g(p), j: j(p) };
}

/**
 * Context prediction pairs (Doersch et al. 2015): for each image, a 3×3
 * grid of patches separated by gaps is placed at a random position; the
 * centre patch and one of its 8 neighbours (label 0–7, row-major; with a
 * larger odd `grid`, grid² − 1 labels) are cut out, each shifted by up to
 * `jitter` pixels. The gap and jitter are the
 * paper's guards against trivial shortcuts (continuing edges and lines).
 *
 * @param images - `[B, H, W, C]` float32.
 * @returns `center` and `neighbor` `[B, p, p, C]`, `labels` `[B]` int32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { relativePositionPairs } from 'selfsup';
 *
 * const { center, neighbor, labels } = relativePositionPairs(tf.randomUniform([4, 64, 64, 3]) as tf.Tensor4D, { seed: 0 });
 * console.log(center.shape, neighbor.shape, labels.dataSync());
 * ```
 */
export function relativePositionPairs(
  images: tf.Tensor4D,
  options: RelativePositionOptions = {},
): { center: tf.Tensor4D; neighbor: tf.Tensor4D; labels: tf.Tensor1D } {
  const fn = 'relativePositionPairs';
  const x = readImages(images, fn);
  assertKnownOptions(options, ['grid', 'patchSize', 'gap', 'jitter', 'seed'], fn);
  const { grid = 3 } = options;
  assertInteger(grid, fn, 'options.grid', { min: 3 });
  if (grid % 2 !== 1) throw new InvalidArgumentError(fn, 'options.grid', 'be an odd integer ≥ 3 (the centre patch needs a middle cell)', String(grid));
  if (options.patchSize !== undefined) assertInteger(options.patchSize, fn, 'options.patchSize', { min: 1 });
  if (options.gap !== undefined) assertInteger(options.gap, fn, 'options.gap', { min: 0 });
  if (options.jitter !== undefined) assertInteger(options.jitter, fn, 'options.jitter', { min: 0 });
  const [b, h, w] = x.shape;
  const side = Math.min(h, w);
  const { p, g, j } = layout(side, grid, options.patchSize, options.gap, options.jitter);
  const span = grid * p + (grid - 1) * g;
  if (p < 1 || span + 2 * j > side) {
    throw new ShapeError(
      fn,
      'images',
      `be at least ${grid}·patchSize + ${grid - 1}·gap + 2·jitter = ${span + 2 * j} pixels on the shorter side (patchSize ${p}, gap ${g}, jitter ${j})`,
      formatShape(x.shape),
    );
  }
  const cells = neighbours(grid);
  const centre = (grid - 1) / 2;
  const rng = createRng(options.seed, fn, 'options.seed');
  const labels = new Int32Array(b);
  const sample = new Int32Array(2 * b);
  const tops = new Int32Array(2 * b);
  const lefts = new Int32Array(2 * b);
  for (let i = 0; i < b; i++) {
    const oy = rng.int(j, h - span - j + 1);
    const ox = rng.int(j, w - span - j + 1);
    const label = rng.int(0, cells.length);
    labels[i] = label;
    const pair: [number, number][] = [[centre, centre], cells[label] as [number, number]];
    pair.forEach(([r, c], k) => {
      sample[k * b + i] = i;
      tops[k * b + i] = oy + r * (p + g) + rng.int(-j, j + 1);
      lefts[k * b + i] = ox + c * (p + g) + rng.int(-j, j + 1);
    });
  }
  const [center, neighbor] = tf.tidy(() => {
    const crops = cropExact(x, sample, tops, lefts, p, p);
    return [tf.slice(crops, [0, 0, 0, 0], [b, -1, -1, -1]), tf.slice(crops, [b, 0, 0, 0], [b, -1, -1, -1])] as tf.Tensor4D[];
  });
  return { center: center as tf.Tensor4D, neighbor: neighbor as tf.Tensor4D, labels: tf.tensor1d(labels, 'int32') };
}
