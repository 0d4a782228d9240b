/**
 * Tile and patch geometry of the patch-based discriminative tasks (jigsaw,
 * context prediction), sampled on the host from an {@link Rng}.
 *
 * selfsup/masking is gaining public, tested equivalents (`jigsawPermutations`,
 * `jigsawBatch`, `relativePositionPairs`); the tasks switch to them once they land.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../core/rng.js';

/** All permutations of `0..n-1` in lexicographic order, flat (`n!·n` entries). */
function allPermutations(n: number): Uint8Array {
  const count = Array.from({ length: n }, (_, i) => i + 1).reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * n);
  const p = Array.from({ length: n }, (_, i) => i);
  let row = 0;
  for (;;) {
    out.set(p, row * n);
    row++;
    // Next permutation in lexicographic order.
    let i = n - 2;
    while (i >= 0 && p[i]! >= p[i + 1]!) i--;
    if (i < 0) break;
    let j = n - 1;
    while (p[j]! <= p[i]!) j--;
    [p[i], p[j]] = [p[j]!, p[i]!];
    for (let a = i + 1, b = n - 1; a < b; a++, b--) [p[a], p[b]] = [p[b]!, p[a]!];
  }
  return out;
}

const permutationCache = new Map<string, number[][]>();

/**
 * Noroozi & Favaro's permutation set of maximal Hamming distance (ECCV 2016,
 * Algorithm 1): the first permutation is drawn at random from all n!, then
 * each next one is the remaining permutation with the largest sum of Hamming
 * distances to those already chosen (the lowest lexicographic index on ties).
 * Needs n ≤ 9 (all n! permutations are scored).
 */
export function maximalHammingPermutations(tiles: number, count: number, rng: Rng): number[][] {
  const all = allPermutations(tiles);
  const total = all.length / tiles;
  const first = rng.int(0, total);
  const key = `${tiles}:${count}:${first}`;
  const cached = permutationCache.get(key);
  if (cached) return cached.map((p) => [...p]);
  const score = new Float64Array(total);
  const taken = new Uint8Array(total);
  const chosen: number[][] = [];
  let next = first;
  for (let c = 0; c < count; c++) {
    taken[next] = 1;
    const base = next * tiles;
    chosen.push(Array.from(all.subarray(base, base + tiles)));
    if (c === count - 1) break;
    let best = -1;
    let bestScore = -1;
    for (let k = 0; k < total; k++) {
      if (taken[k]) continue;
      let d = 0;
      const o = k * tiles;
      for (let t = 0; t < tiles; t++) if (all[o + t] !== all[base + t]) d++;
      const s = (score[k] = score[k]! + d);
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
    }
    next = best;
  }
  permutationCache.set(key, chosen);
  return chosen.map((p) => [...p]);
}

/** A crop box: top-left corner and side, in pixels. */
export interface CropBox {
  image: number;
  y: number;
  x: number;
}

/**
 * Square crops of side `size` at integer positions, `[boxes.length, size, size, C]`,
 * copied exactly with one gather. (tfjs-backend-wasm 4.22's `cropAndResize`
 * returns zeros for boxes that start on the first row, so it is not used.)
 */
export function cropSquares(images: tf.Tensor4D, boxes: readonly CropBox[], size: number): tf.Tensor4D {
  const [, h, w, c] = images.shape;
  const ids = new Int32Array(boxes.length * size * size);
  let k = 0;
  for (const b of boxes) {
    for (let y = 0; y < size; y++) {
      const row = (b.image * h + b.y + y) * w + b.x;
      for (let x = 0; x < size; x++) ids[k++] = row + x;
    }
  }
  return tf.tidy(() => {
    const pixels = tf.reshape(images, [-1, c]);
    return tf.reshape(tf.gather(pixels, tf.tensor1d(ids, 'int32')), [boxes.length, size, size, c]) as tf.Tensor4D;
  });
}

/** Each crop standardised to zero mean and unit variance (Noroozi & Favaro normalise every tile on its own). */
export function standardizeCrops(crops: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(crops, [1, 2, 3], true);
    return tf.div(tf.sub(crops, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
  });
}

/** The 8 neighbour offsets of context prediction, in reading order (Doersch et al., Fig. 2). */
export const NEIGHBOUR_OFFSETS: readonly (readonly [number, number])[] = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, -1],
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1],
];
