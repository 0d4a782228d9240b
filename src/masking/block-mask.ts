import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertPositive, describeValue } from '../core/validate.js';
import { roundHalfEven } from '../augment/sampling.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link blockMask}. */
export interface BlockMaskOptions {
  /**
   * Target number of masked patches (BEiT-base: 75 of 196).
   * @default floor(0.4·L)
   */
  numMasked?: number;
  /**
   * Smallest block, in patches (clamped to `numMasked`).
   * @default 16
   */
  minBlock?: number;
  /**
   * Largest block, in patches.
   * @default numMasked
   */
  maxBlock?: number;
  /**
   * Smallest block aspect ratio (height / width); the largest is its inverse
   * unless `maxAspect` is given.
   * @default 0.3
   */
  minAspect?: number;
  /**
   * Largest block aspect ratio.
   * @default 1 / minAspect
   */
  maxAspect?: number;
  /**
   * Seed of the block placement.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/**
 * Blockwise masking of a patch grid (BEiT, Bao et al. 2022,
 * `MaskingGenerator`): rectangular blocks of random area (uniform in
 * `[minBlock, remaining]` patches) and log-uniform aspect ratio are placed
 * until `numMasked` patches are covered; a block is kept only if it adds
 * between 1 and the remaining number of new patches, with up to 10 attempts
 * per block (so a sample can end slightly below the target, as in BEiT).
 *
 * @param batchSize - `B`.
 * @param grid - `[rows, cols]` of the patch grid (14×14 for ViT-B/16 at 224 px).
 * @returns `[B, rows·cols]` float32, row-major, 1 = masked.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { blockMask } from 'selfsup';
 *
 * const mask = blockMask(2, [14, 14], { numMasked: 75, seed: 0 });
 * console.log(mask.shape, tf.sum(mask, 1).dataSync()); // [2, 196] ≈ [75, 75]
 * ```
 */
export function blockMask(batchSize: number, grid: readonly [number, number], options: BlockMaskOptions = {}): tf.Tensor2D {
  const fn = 'blockMask';
  assertBackendReady(fn);
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  if (!Array.isArray(grid) || grid.length !== 2) throw new InvalidArgumentError(fn, 'grid', 'be [rows, cols]', describeValue(grid));
  const [rows, cols] = grid;
  assertInteger(rows, fn, 'grid[0]', { min: 1 });
  assertInteger(cols, fn, 'grid[1]', { min: 1 });
  assertKnownOptions(options, ['numMasked', 'minBlock', 'maxBlock', 'minAspect', 'maxAspect', 'seed'], fn);
  const l = rows * cols;
  const { numMasked = Math.floor(0.4 * l), minAspect = 0.3 } = options;
  assertInteger(numMasked, fn, 'options.numMasked', { min: 0, max: l });
  const { minBlock = 16, maxBlock = numMasked } = options;
  assertInteger(minBlock, fn, 'options.minBlock', { min: 1 });
  assertInteger(maxBlock, fn, 'options.maxBlock', { min: 1 });
  assertPositive(minAspect, fn, 'options.minAspect');
  const maxAspect = options.maxAspect ?? 1 / minAspect;
  assertPositive(maxAspect, fn, 'options.maxAspect');
  if (maxAspect < minAspect) throw new InvalidArgumentError(fn, 'options.maxAspect', `be ≥ minAspect (${minAspect})`, String(maxAspect));
  assertMemoryFits(fn, 'batchSize', [{ shape: [batchSize, l], count: 2 }]);
  const rng = createRng(options.seed, fn, 'options.seed');
  const params: BlockParameters = { rows, cols, minBlock, maxBlock, logAspect: [Math.log(minAspect), Math.log(maxAspect)], clampMinBlock: true };
  const out = new Float32Array(batchSize * l);
  for (let b = 0; b < batchSize; b++) fillBlockMask(out.subarray(b * l, (b + 1) * l), numMasked, params, rng);
  return tf.tensor2d(out, [batchSize, l]);
}

/** The block sampler's validated settings (BEiT's `MaskingGenerator` fields). */
export interface BlockParameters {
  rows: number;
  cols: number;
  minBlock: number;
  maxBlock: number;
  /** `[log minAspect, log maxAspect]`. */
  logAspect: readonly [number, number];
  /**
   * Clamp `minBlock` to the image's target (blockMask's choice); BEiT's and
   * DINOv2's generator does not, so a target below `minBlock` is often missed.
   */
  clampMinBlock: boolean;
}

/**
 * BEiT's `MaskingGenerator.__call__` for one image (DINOv2 keeps it as is):
 * sets blocks of `mask` (`[rows·cols]`, zeros on entry) to 1 until about
 * `numMasked` patches are covered. Draws from `rng`.
 */
export function fillBlockMask(mask: Float32Array, numMasked: number, p: BlockParameters, rng: Rng): void {
  const { rows, cols } = p;
  const lo = p.clampMinBlock ? Math.min(p.minBlock, numMasked) : p.minBlock;
  let count = 0;
  while (count < numMasked) {
    const budget = Math.min(numMasked - count, p.maxBlock);
    let delta = 0;
    for (let attempt = 0; attempt < 10 && delta === 0; attempt++) {
      const target = rng.uniform(Math.min(lo, budget), Math.max(lo, budget));
      const aspect = Math.exp(rng.uniform(p.logAspect[0], p.logAspect[1]));
      const h = roundHalfEven(Math.sqrt(target * aspect));
      const w = roundHalfEven(Math.sqrt(target / aspect));
      if (!(w < cols && h < rows)) continue;
      const top = rng.int(0, rows - h + 1);
      const left = rng.int(0, cols - w + 1);
      let already = 0;
      for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) already += mask[i * cols + j] as number;
      const added = h * w - already;
      if (added > 0 && added <= budget) {
        for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) mask[i * cols + j] = 1;
        delta = added;
      }
    }
    if (delta === 0) break;
    count += delta;
  }
}
