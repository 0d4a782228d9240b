import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import {
  assertInteger,
  assertKnownOptions,
  assertPositive,
  assertProbability,
  assertRangePair,
  describeValue,
} from '../core/validate.js';
import { fillBlockMask, type BlockParameters } from './block-mask.js';

/** Options of {@link ibotMask}. */
export interface IbotMaskOptions {
  /**
   * Fraction of the images that get a mask (the others get none):
   * `floor(B · maskProbability)` of them.
   * @default 0.5 (DINOv2's `mask_sample_probability`)
   */
  maskProbability?: number;
  /**
   * Range of the masked fraction of the L patches; the masked images' ratios
   * are spread over it (see below).
   * @default [0.1, 0.5] (DINOv2's `mask_ratio_min_max`)
   */
  maskRatio?: readonly [number, number];
  /**
   * Smallest block, in patches.
   * @default 4 (DINOv2's `MaskingGenerator`)
   */
  minBlock?: number;
  /**
   * Largest block, in patches.
   * @default floor(0.5·L) (DINOv2's `max_num_patches`)
   */
  maxBlock?: number;
  /**
   * Smallest block aspect ratio (height / width); the largest is its inverse.
   * @default 0.3
   */
  minAspect?: number;
  /**
   * Seed of the ratios, the blocks and the order.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/**
 * The masks of iBOT's masked image modelling as DINOv2 samples them per batch
 * (Oquab et al., "DINOv2", TMLR 2024; `collate_data_and_cast` and
 * `MaskingGenerator` of the official code; Zhou et al., iBOT, ICLR 2022):
 * `n = floor(B · maskProbability)` images are masked, image i of them with a
 * target of `floor(L · u_i)` patches, `u_i` uniform in the i-th of n equal
 * sub-intervals of `maskRatio` (so the ratios cover the range evenly); each
 * target is filled with BEiT's random blocks ({@link blockMask}: area
 * uniform in `[minBlock, remaining]`, log-uniform aspect ratio, ≤ 10 tries
 * per block); the other B − n images get no mask; then the B masks are
 * shuffled. The student replaces the masked patches by a mask token; the
 * iBOT loss is computed on them (`ibotPatchLoss` of selfsup/losses).
 *
 * @param batchSize - `B`, the number of images (DINOv2: all global crops of the batch, 2·B).
 * @param grid - `[rows, cols]` of the patch grid.
 * @returns float32 `[B, rows·cols]`, row-major, 1 = masked.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ibotMask } from 'selfsup';
 *
 * const masks = ibotMask(8, [7, 7], { seed: 0 });
 * console.log(masks.shape, tf.sum(masks, 1).dataSync()); // [8, 49]: 4 images with 4–24 masked patches, 4 with none
 * ```
 */
export function ibotMask(batchSize: number, grid: readonly [number, number], options: IbotMaskOptions = {}): tf.Tensor2D {
  const fn = 'ibotMask';
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  if (!Array.isArray(grid) || grid.length !== 2) throw new InvalidArgumentError(fn, 'grid', 'be [rows, cols]', describeValue(grid));
  const [rows, cols] = grid;
  assertInteger(rows, fn, 'grid[0]', { min: 1 });
  assertInteger(cols, fn, 'grid[1]', { min: 1 });
  assertKnownOptions(options, ['maskProbability', 'maskRatio', 'minBlock', 'maxBlock', 'minAspect', 'seed'], fn);
  const l = rows * cols;
  const { maskProbability = 0.5, maskRatio = [0.1, 0.5], minBlock = 4, maxBlock = Math.max(1, Math.floor(0.5 * l)), minAspect = 0.3 } = options;
  assertProbability(maskProbability, fn, 'options.maskProbability');
  assertRangePair(maskRatio, fn, 'options.maskRatio', { min: 0, max: 1 });
  assertInteger(minBlock, fn, 'options.minBlock', { min: 1 });
  assertInteger(maxBlock, fn, 'options.maxBlock', { min: 1 });
  assertPositive(minAspect, fn, 'options.minAspect');
  const rng = createRng(options.seed, fn, 'options.seed');
  const params: BlockParameters = { rows, cols, minBlock, maxBlock, logAspect: [Math.log(minAspect), Math.log(1 / minAspect)], clampMinBlock: false };
  const masked = Math.floor(batchSize * maskProbability);
  const [lo, hi] = maskRatio;
  const masks: Float32Array[] = [];
  for (let i = 0; i < batchSize; i++) {
    const mask = new Float32Array(l);
    if (i < masked) {
      // torch.linspace(lo, hi, n + 1): the i-th sub-interval of the ratio range.
      const from = lo + ((hi - lo) * i) / masked;
      const to = lo + ((hi - lo) * (i + 1)) / masked;
      fillBlockMask(mask, Math.floor(l * rng.uniform(from, to)), params, rng);
    }
    masks.push(mask);
  }
  rng.shuffle(masks);
  const out = new Float32Array(batchSize * l);
  masks.forEach((m, i) => out.set(m, i * l));
  return tf.tensor2d(out, [batchSize, l]);
}
