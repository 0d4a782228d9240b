import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, assertRangePair, describeValue } from '../core/validate.js';
import { roundHalfEven } from '../augment/sampling.js';

/** Options of {@link multiBlockMask}. */
export interface MultiBlockMaskOptions {
  /**
   * Number M of target blocks per image.
   * @default 4 (I-JEPA)
   */
  numTargets?: number;
  /**
   * Range of a target block's area, as a fraction of the L patches.
   * @default [0.15, 0.2] (I-JEPA)
   */
  targetScale?: readonly [number, number];
  /**
   * Range of a target block's aspect ratio (height / width).
   * @default [0.75, 1.5] (I-JEPA)
   */
  targetAspect?: readonly [number, number];
  /**
   * Range of the context block's area, as a fraction of the L patches
   * (before the target blocks are removed from it).
   * @default [0.85, 1] (I-JEPA)
   */
  contextScale?: readonly [number, number];
  /**
   * Range of the context block's aspect ratio.
   * @default [1, 1] (I-JEPA: square)
   */
  contextAspect?: readonly [number, number];
  /**
   * Every block must keep more than `minKeep` patches (the context after
   * the targets are removed from it).
   * @default 4 (the `MaskCollator` default; the ImageNet configurations use 10 on 16×16 grids)
   */
  minKeep?: number;
  /**
   * Let the context overlap the targets (the paper's ablation; the targets
   * are then visible to the context encoder).
   * @default false
   */
  allowOverlap?: boolean;
  /**
   * Seed of the block sizes and positions.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** What {@link multiBlockMask} returns: patch indices, row-major in the grid, ascending in each row. */
export interface MultiBlockMask {
  /** int32 `[B, Kc]`: the context patches the context encoder sees. */
  contextIds: tf.Tensor2D;
  /** int32 `[M, B, Kt]`: the patches of each target block (block-major, as the official code stacks them). */
  targetIds: tf.Tensor3D;
}

/** Tries of a context block before the fallback (the official code's `timeout`). */
const CONTEXT_TRIES = 20;

/**
 * I-JEPA's block size for one uniform draw `r` (`MaskCollator._sample_block_size`):
 * the same `r` sets the area and the aspect ratio, as in the official code;
 * sides are shrunk below the grid's.
 */
export function sampleBlockSize(
  r: number,
  scale: readonly [number, number],
  aspect: readonly [number, number],
  rows: number,
  cols: number,
): [number, number] {
  const keep = Math.floor(rows * cols * (scale[0] + r * (scale[1] - scale[0])));
  const ratio = aspect[0] + r * (aspect[1] - aspect[0]);
  let h = roundHalfEven(Math.sqrt(keep * ratio));
  let w = roundHalfEven(Math.sqrt(keep / ratio));
  while (h >= rows) h--;
  while (w >= cols) w--;
  return [Math.max(h, 0), Math.max(w, 0)];
}

/** Smallest and largest area the size sampler can give (scanned over r; sizes are step functions of r). */
function areaRange(scale: readonly [number, number], aspect: readonly [number, number], rows: number, cols: number): [number, number] {
  let min = Infinity;
  let max = 0;
  const steps = 4096;
  for (let i = 0; i <= steps; i++) {
    const [h, w] = sampleBlockSize(Math.min(i / steps, 1 - 1e-12), scale, aspect, rows, cols);
    min = Math.min(min, h * w);
    max = Math.max(max, h * w);
  }
  return [min, max];
}

/**
 * I-JEPA's multi-block masks (Assran et al., "Self-Supervised Learning from
 * Images with a Joint-Embedding Predictive Architecture", CVPR 2023, §3;
 * `MaskCollator` of `src/masks/multiblock.py`): per batch one target-block
 * size and one context-block size are drawn (each from a single uniform `r`
 * that sets both area and aspect ratio, as the official code does); per
 * image, M target blocks are placed at random, then a context block at random
 * with every target patch removed from it, retried until more than `minKeep`
 * patches remain. Every image's lists are then cut to the batch's shortest
 * (the official code's `min_keep` truncation, so they stack into tensors):
 * the first K ids in row-major order are kept.
 *
 * Guarantees (the tests check them): target blocks have sides in
 * `[1, rows − 1] × [1, cols − 1]` and the area and aspect of the sampled size;
 * context ∩ targets = ∅ (unless `allowOverlap`); every list has more than
 * `minKeep` patches. Two deliberate differences from the official code: a
 * block may touch the last row and column (the official `randint(0, H − h)`
 * never places one there), and when 20 context blocks in a row keep too few
 * patches the image's targets are redrawn — the official code instead drops
 * target constraints one by one, letting context and targets overlap.
 * Settings that cannot work (a target block of at most `minKeep` patches, or
 * one that leaves at most `minKeep` outside it) are refused up front instead
 * of looping forever.
 *
 * @param batchSize - `B`.
 * @param grid - `[rows, cols]` of the patch grid (`encoder.gridSize`).
 *
 * @example
 * ```ts
 * import { multiBlockMask } from 'selfsup';
 *
 * const { contextIds, targetIds } = multiBlockMask(2, [7, 7], { seed: 0 });
 * console.log(contextIds.shape, targetIds.shape); // [2, Kc] [4, 2, Kt]
 * contextIds.dispose();
 * targetIds.dispose();
 * ```
 */
export function multiBlockMask(batchSize: number, grid: readonly [number, number], options: MultiBlockMaskOptions = {}): MultiBlockMask {
  const fn = 'multiBlockMask';
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  if (!Array.isArray(grid) || grid.length !== 2) throw new InvalidArgumentError(fn, 'grid', 'be [rows, cols]', describeValue(grid));
  const [rows, cols] = grid;
  assertInteger(rows, fn, 'grid[0]', { min: 1 });
  assertInteger(cols, fn, 'grid[1]', { min: 1 });
  assertKnownOptions(
    options,
    ['numTargets', 'targetScale', 'targetAspect', 'contextScale', 'contextAspect', 'minKeep', 'allowOverlap', 'seed'],
    fn,
  );
  const {
    numTargets = 4,
    targetScale = [0.15, 0.2],
    targetAspect = [0.75, 1.5],
    contextScale = [0.85, 1],
    contextAspect = [1, 1],
    minKeep = 4,
    allowOverlap = false,
  } = options;
  assertInteger(numTargets, fn, 'options.numTargets', { min: 1 });
  assertRangePair(targetScale, fn, 'options.targetScale', { min: 0, max: 1 });
  assertRangePair(targetAspect, fn, 'options.targetAspect', { min: 1e-6 });
  assertRangePair(contextScale, fn, 'options.contextScale', { min: 0, max: 1 });
  assertRangePair(contextAspect, fn, 'options.contextAspect', { min: 1e-6 });
  assertInteger(minKeep, fn, 'options.minKeep', { min: 0 });
  assertOneOf(allowOverlap, [true, false], fn, 'options.allowOverlap');
  const l = rows * cols;
  const [smallestTarget, largestTarget] = areaRange(targetScale, targetAspect, rows, cols);
  if (smallestTarget <= minKeep) {
    throw new InvalidArgumentError(
      fn,
      'options.targetScale',
      `give target blocks of more than minKeep = ${minKeep} patches on a ${rows}×${cols} grid (raise it or lower options.minKeep)`,
      `[${targetScale.join(', ')}], whose smallest block has ${smallestTarget} patches`,
    );
  }
  const [smallestContext] = areaRange(contextScale, contextAspect, rows, cols);
  if (allowOverlap ? smallestContext <= minKeep : l - largestTarget <= minKeep) {
    throw new InvalidArgumentError(
      fn,
      allowOverlap ? 'options.contextScale' : 'options.minKeep',
      allowOverlap
        ? `be met by a context block of more than minKeep = ${minKeep} patches`
        : `be below the ${l - largestTarget} patches a target block of up to ${largestTarget} leaves on a ${rows}×${cols} grid`,
      allowOverlap ? `[${contextScale.join(', ')}], whose smallest block has ${smallestContext} patches` : String(minKeep),
    );
  }
  const rng = createRng(options.seed, fn, 'options.seed');
  const targetSize = sampleBlockSize(rng.next(), targetScale, targetAspect, rows, cols);
  const contextSize = sampleBlockSize(rng.next(), contextScale, contextAspect, rows, cols);
  const targets: Int32Array[][] = [];
  const contexts: Int32Array[] = [];
  for (let b = 0; b < batchSize; b++) {
    const [blocks, context] = sampleImage(targetSize, contextSize, numTargets, rows, cols, allowOverlap, minKeep, rng);
    targets.push(blocks);
    contexts.push(context);
  }
  const kt = Math.min(...targets.flat().map((t) => t.length));
  const kc = Math.min(...contexts.map((c) => c.length));
  const contextIds = new Int32Array(batchSize * kc);
  contexts.forEach((c, b) => contextIds.set(c.subarray(0, kc), b * kc));
  const targetIds = new Int32Array(numTargets * batchSize * kt);
  targets.forEach((blocks, b) => blocks.forEach((block, t) => targetIds.set(block.subarray(0, kt), (t * batchSize + b) * kt)));
  return {
    contextIds: tf.tensor2d(contextIds, [batchSize, kc], 'int32'),
    targetIds: tf.tensor3d(targetIds, [numTargets, batchSize, kt], 'int32'),
  };
}

/** Ids (ascending) of an `h × w` block at a uniform position. */
function placeBlock([h, w]: readonly [number, number], rows: number, cols: number, rng: Rng): Int32Array {
  const top = rng.int(0, rows - h + 1);
  const left = rng.int(0, cols - w + 1);
  const ids = new Int32Array(h * w);
  let n = 0;
  for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) ids[n++] = i * cols + j;
  return ids;
}

/** Rounds of target placement before the last resort (each tries CONTEXT_TRIES context blocks). */
const TARGET_ROUNDS = 50;

/**
 * One image's target blocks and context: targets at random positions, then a
 * context block with the target patches removed, until more than `minKeep`
 * patches remain; after CONTEXT_TRIES failures the targets are redrawn. As a
 * last resort (never reached with sensible settings) the context is every
 * patch outside the targets, with the targets stacked on one position if
 * needed — validation guarantees one block leaves more than `minKeep`.
 */
function sampleImage(
  targetSize: readonly [number, number],
  contextSize: readonly [number, number],
  numTargets: number,
  rows: number,
  cols: number,
  allowOverlap: boolean,
  minKeep: number,
  rng: Rng,
): [Int32Array[], Int32Array] {
  const l = rows * cols;
  let blocks: Int32Array[] = [];
  let covered = new Uint8Array(l);
  for (let round = 0; round < TARGET_ROUNDS; round++) {
    blocks = Array.from({ length: numTargets }, () => placeBlock(targetSize, rows, cols, rng));
    covered = new Uint8Array(l);
    for (const block of blocks) for (const id of block) covered[id] = 1;
    for (let attempt = 0; attempt < CONTEXT_TRIES; attempt++) {
      const block = placeBlock(contextSize, rows, cols, rng);
      const kept = allowOverlap ? block : block.filter((id) => covered[id] === 0);
      if (kept.length > minKeep) return [blocks, kept];
    }
  }
  const outside = (mask: Uint8Array) => Int32Array.from(Array.from({ length: l }, (_, id) => id).filter((id) => mask[id] === 0));
  let context = outside(covered);
  if (context.length <= minKeep) {
    blocks = blocks.map(() => blocks[0]!);
    covered = new Uint8Array(l);
    for (const id of blocks[0]!) covered[id] = 1;
    context = outside(covered);
  }
  return [blocks, context];
}
