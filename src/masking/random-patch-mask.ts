import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { markValidPatchIds } from '../core/patches.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInRange, assertInteger, assertKnownOptions, describeValue, formatShape, isTensor } from '../core/validate.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link randomPatchMask}. */
export interface RandomPatchMaskOptions {
  /**
   * Fraction of patches removed; `floor(L·(1 − maskRatio))` are kept, as in MAE.
   * @default 0.75
   */
  maskRatio?: number;
  /**
   * Seed of the noise (ignored when `noise` is given).
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * The noise to rank instead of drawing it: `[B, L]` (a tensor or `B·L`
   * numbers, row-major), compared as float32. MAE draws it uniformly.
   * @default undefined
   */
  noise?: tf.Tensor2D | ArrayLike<number>;
}

/** What {@link randomPatchMask} returns. */
export interface PatchMask {
  /** `[B, L]` float32: 1 where the patch is removed, 0 where it is kept (MAE's convention). */
  mask: tf.Tensor2D;
  /** `[B, K]` int32: indices of the kept patches, in ascending order of their noise. */
  idsKeep: tf.Tensor2D;
  /** `[B, L]` int32: the inverse of the shuffle, for {@link restoreOrder}. */
  idsRestore: tf.Tensor2D;
}

const TWO_POW_16 = 65536;

/**
 * Per-sample random masking of `L` patch tokens by MAE's rule (He et al.
 * 2022, `random_masking`): draw noise `[B, L]`, `ids_shuffle = argsort(noise)`
 * ascending, keep the first `len_keep = floor(L·(1 − maskRatio))`,
 * `ids_restore = argsort(ids_shuffle)`, mask = 1 for the removed patches. The
 * number of kept patches is exactly `len_keep` for every sample. The sort
 * runs in JavaScript on the seeded noise (ties are broken by patch index).
 *
 * @param batchSize - `B`.
 * @param numPatches - `L` (e.g. 196 for 224-pixel images with 16-pixel patches).
 *
 * @example
 * ```ts
 * import { randomPatchMask } from 'selfsup';
 *
 * const { mask, idsKeep, idsRestore } = randomPatchMask(2, 16, { maskRatio: 0.75, seed: 0 });
 * console.log(mask.shape, idsKeep.shape, idsRestore.shape); // [2, 16] [2, 4] [2, 16]
 * ```
 */
export function randomPatchMask(batchSize: number, numPatches: number, options: RandomPatchMaskOptions = {}): PatchMask {
  const fn = 'randomPatchMask';
  assertBackendReady(fn);
  assertInteger(batchSize, fn, 'batchSize', { min: 1 });
  assertInteger(numPatches, fn, 'numPatches', { min: 1, max: TWO_POW_16 });
  assertKnownOptions(options, ['maskRatio', 'seed', 'noise'], fn);
  const { maskRatio = 0.75 } = options;
  assertInRange(maskRatio, 0, 1, fn, 'options.maskRatio');
  // Three [B, L] outputs and the noise they are ranked from.
  assertMemoryFits(fn, 'batchSize', [{ shape: [batchSize, numPatches], count: 4 }]);
  const n = batchSize * numPatches;
  const noise = readNoise(options, n, batchSize, numPatches, fn);
  const keep = Math.floor(numPatches * (1 - maskRatio));
  const l = numPatches;
  // Sort keys: the noise's float32 bits mapped to an order-preserving
  // unsigned integer, times 2^16, plus the index: one native numeric sort
  // per row gives argsort with index tie-breaking.
  const bits = new Uint32Array(noise.buffer, noise.byteOffset, n);
  const keys = new Float64Array(l);
  const idsKeep = new Int32Array(batchSize * keep);
  const idsRestore = new Int32Array(n);
  const mask = new Float32Array(n);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < l; i++) {
      const u = bits[b * l + i] as number;
      const sortable = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      keys[i] = sortable * TWO_POW_16 + i;
    }
    keys.sort();
    for (let j = 0; j < l; j++) {
      const id = (keys[j] as number) % TWO_POW_16;
      idsRestore[b * l + id] = j;
      if (j < keep) idsKeep[b * keep + j] = id;
      else mask[b * l + id] = 1;
    }
  }
  const keepTensor = tf.tensor2d(idsKeep, [batchSize, keep], 'int32');
  // Valid by construction: the ViT and the MAE decoder then check it without reading it back.
  markValidPatchIds(keepTensor, l);
  return {
    mask: tf.tensor2d(mask, [batchSize, l]),
    idsKeep: keepTensor,
    idsRestore: tf.tensor2d(idsRestore, [batchSize, l], 'int32'),
  };
}

function readNoise(options: RandomPatchMaskOptions, n: number, b: number, l: number, fn: string): Float32Array {
  const { noise } = options;
  let values: Float32Array;
  if (noise === undefined) {
    const rng = createRng(options.seed, fn, 'options.seed');
    values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = rng.next();
    return values;
  }
  if (isTensor(noise)) {
    if (noise.rank !== 2 || noise.shape[0] !== b || noise.shape[1] !== l) {
      throw new InvalidArgumentError(fn, 'options.noise', `have shape [${b}, ${l}]`, formatShape(noise.shape));
    }
    values = Float32Array.from(noise.dataSync() as ArrayLike<number>);
  } else if (noise !== null && typeof noise === 'object' && typeof (noise as ArrayLike<number>).length === 'number') {
    if ((noise as ArrayLike<number>).length !== n) {
      throw new InvalidArgumentError(fn, 'options.noise', `have ${n} values (B·L, row-major)`, describeValue(noise));
    }
    values = Float32Array.from(noise as ArrayLike<number>);
  } else {
    throw new InvalidArgumentError(fn, 'options.noise', 'be a [B, L] tensor or B·L numbers', describeValue(noise));
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) throw new InvalidArgumentError(fn, 'options.noise', 'hold finite numbers', `${values[i]} at index ${i}`);
  }
  return values;
}
