import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue, formatShape } from '../core/validate.js';
import { readImages } from '../augment/image-input.js';
import { cropExact } from '../augment/tensor-ops.js';

/** Options of {@link jigsawPermutations}. */
export interface JigsawPermutationsOptions {
  /**
   * Number of tiles (9 for a 3×3 puzzle). Hamming-based selection enumerates
   * all `tiles!` permutations, so it needs `tiles ≤ 9`.
   * @default 9
   */
  tiles?: number;
  /**
   * Seed of the first permutation (and of `'random'` selection).
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * `'maxHamming'`: the greedy maximal-minimum-Hamming-distance set —
   * each step adds the permutation farthest from its nearest already chosen
   * one (ties: the larger summed distance), maximising the minimum distance
   * that Noroozi & Favaro report as the property that makes the task hard;
   * `'maxAverageHamming'`: their algorithm 1 verbatim, which adds the
   * permutation with the largest summed distance to those chosen (higher
   * mean, but a minimum of 2 for 1,000 permutations, as in their table);
   * `'random'`: distinct uniform permutations.
   * @default 'maxHamming'
   */
  selection?: 'maxHamming' | 'maxAverageHamming' | 'random';
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** All permutations of 0..n−1 in lexicographic order (itertools.permutations), packed. */
function allPermutations(n: number): Uint8Array {
  const count = factorial(n);
  const out = new Uint8Array(count * n);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < count; k++) {
    out.set(p, k * n);
    // Next lexicographic permutation.
    let i = n - 2;
    while (i >= 0 && (p[i] as number) > (p[i + 1] as number)) i--;
    if (i < 0) break;
    let j = n - 1;
    while ((p[j] as number) < (p[i] as number)) j--;
    [p[i], p[j]] = [p[j] as number, p[i] as number];
    for (let a = i + 1, b = n - 1; a < b; a++, b--) [p[a], p[b]] = [p[b] as number, p[a] as number];
  }
  return out;
}

/**
 * Greedy Hamming selection over all permutations; `first` is the index of
 * the first pick (random in the paper). Exported for the tests.
 */
export function selectPermutations(tiles: number, count: number, first: number, criterion: 'sum' | 'min'): number[][] {
  const perms = allPermutations(tiles);
  const total = perms.length / tiles;
  // holders[t·tiles + v]: the permutations with value v at position t. The
  // distance to a new pick is then tiles − (its matches), counted by walking
  // `tiles` lists of total/tiles entries instead of comparing every position.
  const per = total / tiles;
  const holders = new Int32Array(total * tiles);
  const fill = new Int32Array(tiles * tiles);
  for (let k = 0; k < total; k++) {
    for (let t = 0; t < tiles; t++) {
      const slot = t * tiles + (perms[k * tiles + t] as number);
      holders[slot * per + (fill[slot] as number)] = k;
      fill[slot] = (fill[slot] as number) + 1;
    }
  }
  const sum = new Int32Array(total);
  const min = new Int32Array(total).fill(tiles + 1);
  const matches = new Uint8Array(total);
  const taken = new Uint8Array(total);
  const chosen: number[] = [];
  let next = first;
  while (chosen.length < count) {
    chosen.push(next);
    taken[next] = 1;
    matches.fill(0);
    for (let t = 0; t < tiles; t++) {
      const slot = t * tiles + (perms[next * tiles + t] as number);
      for (let m = slot * per, end = m + per; m < end; m++) {
        const k = holders[m] as number;
        matches[k] = (matches[k] as number) + 1;
      }
    }
    let best = -1;
    for (let k = 0; k < total; k++) {
      if (taken[k]) continue;
      const d = tiles - (matches[k] as number);
      const s = (sum[k] as number) + d;
      sum[k] = s;
      if (d < (min[k] as number)) min[k] = d;
      // argmax with the first index on ties (np.argmax), by sum or by (min, then sum).
      if (best < 0) best = k;
      else if (criterion === 'sum') {
        if (s > (sum[best] as number)) best = k;
      } else if ((min[k] as number) > (min[best] as number) || (min[k] === min[best] && s > (sum[best] as number))) {
        best = k;
      }
    }
    if (best < 0) break;
    next = best;
  }
  return chosen.map((k) => Array.from(perms.subarray(k * tiles, (k + 1) * tiles)));
}

/**
 * The permutation set of the jigsaw pretext task (Noroozi & Favaro 2016):
 * `count` permutations of `tiles` tiles whose index is the class label. With
 * `'maxHamming'` the set is chosen greedily to maximise the minimum Hamming
 * distance between permutations, which the paper shows makes the task harder
 * and the features better (`'maxAverageHamming'` follows their algorithm 1,
 * which maximises the average instead).
 *
 * @returns `count` permutations as arrays of tile indices.
 *
 * @example
 * ```ts
 * import { jigsawPermutations } from 'selfsup';
 *
 * const perms = jigsawPermutations(10, { tiles: 4, seed: 0 });
 * console.log(perms.length, perms[0]); // 10 [a permutation of 0..3]
 * ```
 */
export function jigsawPermutations(count: number, options: JigsawPermutationsOptions = {}): number[][] {
  const fn = 'jigsawPermutations';
  assertKnownOptions(options, ['tiles', 'seed', 'selection'], fn);
  const { tiles = 9, selection = 'maxHamming' } = options;
  assertInteger(tiles, fn, 'options.tiles', { min: 2, max: selection === 'random' ? 255 : 9 });
  assertOneOf(selection, ['maxHamming', 'maxAverageHamming', 'random'], fn, 'options.selection');
  const limit = tiles <= 18 ? factorial(tiles) : Number.MAX_SAFE_INTEGER;
  assertInteger(count, fn, 'count', { min: 1, max: Math.min(limit, 100000) });
  const rng = createRng(options.seed, fn, 'options.seed');
  if (selection === 'random') {
    const seen = new Set<string>();
    const out: number[][] = [];
    while (out.length < count) {
      const p = Array.from(rng.permutation(tiles));
      const key = p.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(p);
    }
    return out;
  }
  return selectPermutations(tiles, count, rng.int(0, factorial(tiles)), selection === 'maxAverageHamming' ? 'sum' : 'min');
}

/** Options of {@link jigsawBatch}. */
export interface JigsawBatchOptions {
  /**
   * Puzzle side: `grid × grid` tiles (must match the permutations' length).
   * @default 3
   */
  grid?: number;
  /**
   * Tile side in pixels, cut from a cell of side ⌊min(H, W)/grid⌋.
   * @default ⌊cell·64/75⌋ (Noroozi & Favaro: 64-pixel tiles in 75-pixel cells)
   */
  tileSize?: number;
  /**
   * Place each tile at a random offset inside its cell (the gap and jitter
   * that stop the network from matching edges); else centred.
   * @default true
   */
  tileJitter?: boolean;
  /**
   * Standardise each tile to zero mean and unit variance per channel, as
   * Noroozi & Favaro do against low-level shortcuts.
   * @default false
   */
  normalizeTiles?: boolean;
  /**
   * Seed of the labels and offsets.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/**
 * Jigsaw puzzles (Noroozi & Favaro 2016): each image is cut into
 * `grid × grid` cells, a tile is taken from each cell, and the tiles are
 * shuffled by a permutation drawn uniformly from `permutations`; output
 * position `t` holds tile `permutations[label][t]` (row-major cell index).
 * The network predicts `label`. Batched: all tiles are cut in one exact crop.
 *
 * @param images - `[B, H, W, C]` float32.
 * @param permutations - from {@link jigsawPermutations}.
 * @returns `tiles` `[B, grid², tile, tile, C]` and `labels` `[B]` int32.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { jigsawBatch, jigsawPermutations } from 'selfsup';
 *
 * const perms = jigsawPermutations(8, { tiles: 4, seed: 0 });
 * const { tiles, labels } = jigsawBatch(tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D, perms, { grid: 2, seed: 1 });
 * console.log(tiles.shape, labels.shape); // [2, 4, 13, 13, 3] [2]
 * ```
 */
export function jigsawBatch(
  images: tf.Tensor4D,
  permutations: readonly (readonly number[])[],
  options: JigsawBatchOptions = {},
): { tiles: tf.Tensor5D; labels: tf.Tensor1D } {
  const fn = 'jigsawBatch';
  const x = readImages(images, fn);
  assertKnownOptions(options, ['grid', 'tileSize', 'tileJitter', 'normalizeTiles', 'seed'], fn);
  const { grid = 3, tileJitter = true, normalizeTiles = false } = options;
  assertInteger(grid, fn, 'options.grid', { min: 1 });
  const t = grid * grid;
  if (!Array.isArray(permutations) || permutations.length === 0) {
    throw new InvalidArgumentError(fn, 'permutations', 'be a non-empty array of permutations', describeValue(permutations));
  }
  permutations.forEach((p, i) => {
    const ok = Array.isArray(p) && p.length === t && [...p].sort((a, b) => a - b).every((v, j) => v === j);
    if (!ok) throw new InvalidArgumentError(fn, `permutations[${i}]`, `be a permutation of 0..${t - 1} (grid ${grid}×${grid})`, describeValue(p));
  });
  const [b, h, w, c] = x.shape;
  const cell = Math.floor(Math.min(h, w) / grid);
  const { tileSize = Math.max(1, Math.floor((cell * 64) / 75)) } = options;
  assertInteger(tileSize, fn, 'options.tileSize', { min: 1 });
  if (tileSize > cell) {
    throw new ShapeError(fn, 'options.tileSize', `be at most the cell side ${cell} (images ${formatShape(x.shape)}, grid ${grid})`, String(tileSize));
  }
  // The tiles [B, T, s, s, C], their gather indices, and the normalised copy.
  assertMemoryFits(fn, 'options.grid', [{ shape: [b, t, tileSize, tileSize, c], count: 3 }]);
  const rng = createRng(options.seed, fn, 'options.seed');
  const labels = new Int32Array(b);
  const sample = new Int32Array(b * t);
  const tops = new Int32Array(b * t);
  const lefts = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    const label = rng.int(0, permutations.length);
    labels[i] = label;
    const perm = permutations[label] as readonly number[];
    // Offsets per cell, drawn before the shuffle so they belong to the tile.
    const offY: number[] = [];
    const offX: number[] = [];
    for (let k = 0; k < t; k++) {
      offY.push(tileJitter ? rng.int(0, cell - tileSize + 1) : Math.floor((cell - tileSize) / 2));
      offX.push(tileJitter ? rng.int(0, cell - tileSize + 1) : Math.floor((cell - tileSize) / 2));
    }
    for (let pos = 0; pos < t; pos++) {
      const src = perm[pos] as number;
      const row = Math.floor(src / grid);
      const col = src % grid;
      sample[i * t + pos] = i;
      tops[i * t + pos] = row * cell + (offY[src] as number);
      lefts[i * t + pos] = col * cell + (offX[src] as number);
    }
  }
  const tiles = tf.tidy(() => {
    let crops = cropExact(x, sample, tops, lefts, tileSize, tileSize);
    if (normalizeTiles) {
      const { mean, variance } = tf.moments(crops, [1, 2], true);
      crops = tf.div(tf.sub(crops, mean), tf.sqrt(tf.add(variance, 1e-6)));
    }
    return tf.reshape(crops, [b, t, tileSize, tileSize, c]) as tf.Tensor5D;
  });
  return { tiles, labels: tf.tensor1d(labels, 'int32') };
}
