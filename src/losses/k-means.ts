import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertShape,
  describeValue,
  isTensor,
  assertFiniteValues,
} from '../core/validate.js';
import { InvalidArgumentError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { assertEmbeddings } from './internal/validation.js';

/** How {@link kMeans} picks its initial centroids. */
export type KMeansInit = 'kmeans++' | 'random' | tf.Tensor2D;

/** Options of {@link kMeans}. */
export interface KMeansOptions {
  /** Number of clusters k (1 ≤ k ≤ N). Required. */
  k: number;
  /**
   * Maximum number of Lloyd iterations (assign, then recompute the means);
   * it stops earlier once the assignments no longer change.
   * @default 20
   */
  iterations?: number;
  /**
   * `'kmeans++'`: greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with
   * scikit-learn's 2 + ⌊ln k⌋ candidates per step); `'random'`: k distinct
   * samples; or a float32 `[k, D]` tensor of initial centroids (not modified
   * or disposed).
   * @default 'kmeans++'
   */
  init?: KMeansInit;
  /**
   * Seed (or {@link core!Rng}) of the initialisation. The same seed gives the same
   * clustering on every backend.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * What to do with a cluster that loses all its samples: `'split'` re-seeds
   * it from the largest cluster, the two centroids being that centroid
   * scaled by (1 ± 1/1024) with alternating signs per dimension (faiss's
   * `split_clusters`, the k-means DeepCluster runs, which picks the cluster
   * to split at random in proportion to its size); `'keep'` leaves its
   * centroid where it was.
   * @default 'split'
   */
  emptyClusters?: 'split' | 'keep';
}

/** What {@link kMeans} returns. */
export interface KMeansResult {
  /** Float32 `[k, D]` final centroids (a new tensor: the caller disposes it). */
  centroids: tf.Tensor2D;
  /** Int32 `[N]` index of each sample's nearest final centroid (the caller disposes it). */
  assignments: tf.Tensor1D;
  /** Sum of squared distances of the samples to their assigned centroids. */
  inertia: number;
}

/** Splitting perturbation of faiss (`EPS = 1 / 1024`). */
const SPLIT_EPS = 1 / 1024;

/**
 * Index of each row's nearest centroid, lowest index on ties. Squared
 * distances as `‖c‖² − 2x·c` (‖x‖² does not change the argmin), the product
 * written `matMul(x, transpose(c))` rather than with a transpose flag.
 */
function nearestCentroid(x: tf.Tensor2D, centroids: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const cross = tf.matMul(x, tf.transpose(centroids));
    const centroidNorms = tf.reshape(tf.sum(tf.square(centroids), 1), [1, -1]);
    return tf.argMin(tf.sub(centroidNorms, tf.mul(2, cross)), 1) as tf.Tensor1D;
  });
}

/** Squared distances `[N, t]` from every row to each of `t` points, `‖x‖² − 2x·c + ‖c‖²` clamped at 0. */
function squaredDistances(x: tf.Tensor2D, rowNorms: tf.Tensor2D, points: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const cross = tf.matMul(x, tf.transpose(points));
    const pointNorms = tf.reshape(tf.sum(tf.square(points), 1), [1, -1]);
    return tf.relu(tf.add(tf.sub(rowNorms, tf.mul(2, cross)), pointNorms)) as tf.Tensor2D;
  });
}

function kMeansPlusPlus(x: tf.Tensor2D, k: number, rng: Rng): tf.Tensor2D {
  const n = x.shape[0];
  const trials = 2 + Math.floor(Math.log(k));
  const rowNorms = tf.tidy(() => tf.sum(tf.square(x), 1, true)) as tf.Tensor2D;
  const chosen = [rng.int(0, n)];
  try {
    let closest = readDistances(x, rowNorms, chosen, n)[0]!;
    let potential = sum(closest);
    while (chosen.length < k) {
      const cumulative = new Float64Array(n);
      let acc = 0;
      for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i]!;
      const candidates: number[] = [];
      for (let t = 0; t < trials; t++) candidates.push(Math.min(lowerBound(cumulative, rng.next() * potential), n - 1));
      const distances = readDistances(x, rowNorms, candidates, n);
      let best = -1;
      let bestPotential = Infinity;
      let bestClosest = closest;
      distances.forEach((d, t) => {
        const merged = new Float64Array(n);
        for (let i = 0; i < n; i++) merged[i] = Math.min(closest[i]!, d[i]!);
        const pot = sum(merged);
        if (pot < bestPotential) {
          best = t;
          bestPotential = pot;
          bestClosest = merged;
        }
      });
      chosen.push(candidates[best]!);
      closest = bestClosest;
      potential = bestPotential;
    }
  } finally {
    rowNorms.dispose();
  }
  return tf.tidy(() => tf.gather(x, tf.tensor1d(chosen, 'int32')) as tf.Tensor2D);
}

/** Distances from every row of `x` to the rows `indices` of `x`, one Float64Array of length N per index. */
function readDistances(x: tf.Tensor2D, rowNorms: tf.Tensor2D, indices: number[], n: number): Float64Array[] {
  const d = tf.tidy(() => squaredDistances(x, rowNorms, tf.gather(x, tf.tensor1d(indices, 'int32')) as tf.Tensor2D));
  const values = d.dataSync();
  d.dispose();
  const t = indices.length;
  return indices.map((_, j) => Float64Array.from({ length: n }, (_v, i) => values[i * t + j]!));
}

/** First index whose cumulative value exceeds `target` (numpy's `searchsorted`, side 'left'). */
function lowerBound(cumulative: Float64Array, target: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}

/**
 * Faiss-style splitting of empty clusters on host copies of the means and
 * counts: each empty cluster, in index order, takes a perturbed copy of the
 * currently largest one (lowest index on ties), and they share its count.
 * The scaling by (1 ± ε) applies to the uncentred coordinates (`offset` is
 * the feature mean removed beforehand), as faiss perturbs the raw centroid.
 */
function splitEmptyClusters(centroids: Float32Array, counts: Float64Array, offset: Float32Array, k: number, d: number): void {
  for (let empty = 0; empty < k; empty++) {
    if (counts[empty]! > 0) continue;
    let largest = 0;
    for (let j = 1; j < k; j++) if (counts[j]! > counts[largest]!) largest = j;
    for (let col = 0; col < d; col++) {
      const raw = centroids[largest * d + col]! + offset[col]!;
      const sign = col % 2 === 0 ? 1 : -1;
      centroids[empty * d + col] = raw * (1 + sign * SPLIT_EPS) - offset[col]!;
      centroids[largest * d + col] = raw * (1 - sign * SPLIT_EPS) - offset[col]!;
    }
    counts[empty] = Math.floor(counts[largest]! / 2);
    counts[largest] = counts[largest]! - counts[empty]!;
  }
}

/** The most Lloyd iterations `kMeans` runs (it stops early once the assignments settle). */
export const MAX_KMEANS_ITERATIONS = 10000;

/**
 * k-means clustering by Lloyd's algorithm (Lloyd 1982), the clustering step
 * of DeepCluster (Caron et al., ECCV 2018), run on tensors.
 *
 * Shapes: `features` float32 `[N, D]` with N ≥ k. Returns `{centroids,
 * assignments, inertia}`: float32 `[k, D]`, int32 `[N]` and a number; the two
 * tensors are new and the caller disposes them.
 *
 * Each iteration assigns every sample to its nearest centroid (squared
 * Euclidean distance from `‖x‖² − 2x·c + ‖c‖²` via a matrix product, lowest
 * index on ties), then moves each centroid to the mean of its samples;
 * empty clusters are split or kept (see {@link KMeansOptions.emptyClusters}).
 * It stops after `iterations` updates or once the assignments repeat. The
 * returned assignments and inertia `Σ_i ‖x_i − c_{a_i}‖²` refer to the
 * returned centroids (as scikit-learn's `labels_` and `inertia_`). The
 * features are centred first, as scikit-learn does, so float32 distances
 * keep their precision far from the origin.
 *
 * With the same initial centroids (`init` as a tensor) and no empty
 * cluster, the result equals scikit-learn's `KMeans(init=…, n_init=1,
 * algorithm='lloyd', max_iter=iterations)`. Reads values back to the host once per
 * iteration (counts and assignments) and per k-means++ step; not differentiable.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { kMeans } from 'selfsup';
 *
 * const x = tf.tensor2d([[0, 0], [0, 1], [10, 10], [10, 11], [0, 0.5]]);
 * const { centroids, assignments, inertia } = kMeans(x, { k: 2, seed: 0 });
 * assignments.print(); // e.g. [0, 0, 1, 1, 0] (cluster order depends on the seed)
 * console.log(centroids.shape, inertia); // [2, 2] 1
 * tf.dispose([centroids, assignments]);
 * ```
 */
export function kMeans(features: tf.Tensor2D, options: KMeansOptions): KMeansResult {
  const fn = 'kMeans';
  assertKnownOptions(options, ['k', 'iterations', 'init', 'seed', 'emptyClusters'], fn);
  const { k, iterations = 20, init = 'kmeans++', seed, emptyClusters = 'split' } = options ?? ({} as KMeansOptions);
  assertEmbeddings(features, fn, 'features');
  const [n, d] = features.shape;
  assertInteger(k, fn, 'options.k', { min: 1, max: n });
  assertInteger(iterations, fn, 'options.iterations', { min: 0, max: MAX_KMEANS_ITERATIONS });
  if (isTensor(init)) {
    assertShape(init, [k, d], fn, 'options.init', '[k, D]');
    assertFloat(init, fn, 'options.init');
  } else if (init !== 'kmeans++' && init !== 'random') {
    throw new InvalidArgumentError(fn, 'options.init', "be 'kmeans++', 'random' or a [k, D] tensor", describeValue(init));
  }
  assertOneOf(emptyClusters, ['split', 'keep'], fn, 'options.emptyClusters');
  assertFiniteValues(features, fn, 'features', 'features');
  if (isTensor(init)) assertFiniteValues(init, fn, 'options.init', 'centroids');
  // The centred copy, the N × k distances and memberships of an iteration.
  assertMemoryFits(fn, 'options.k', [{ shape: [n, d], count: 2 }, { shape: [n, k], count: 3 }]);
  const rng = isTensor(init) ? undefined : createRng(seed, fn, 'options.seed');

  const mean = tf.tidy(() => tf.mean(features, 0, true));
  const x = tf.tidy(() => tf.sub(features, mean)) as tf.Tensor2D;
  let centroids: tf.Tensor2D;
  if (isTensor(init)) centroids = tf.tidy(() => tf.sub(init, mean)) as tf.Tensor2D;
  else if (init === 'random') {
    const picks = Array.from(rng!.permutation(n).subarray(0, k));
    centroids = tf.tidy(() => tf.gather(x, tf.tensor1d(picks, 'int32'))) as tf.Tensor2D;
  } else centroids = kMeansPlusPlus(x, k, rng!);

  // On wasm one fused kernel per iteration assigns (GEMM + argmin, no N x k matrix) and sums the clusters.
  const fused = hasFusedKernel(FUSED.kMeansStep);
  try {
    let previous: Int32Array | undefined;
    let moved = true;
    for (let it = 0; it < iterations; it++) {
      let assignment: tf.Tensor1D;
      let fusedNext: tf.Tensor2D | undefined;
      if (fused) {
        [assignment, fusedNext] = tf.engine().runKernel(FUSED.kMeansStep, { x, centroids }) as [tf.Tensor1D, tf.Tensor2D];
      } else {
        assignment = nearestCentroid(x, centroids);
      }
      const labels = assignment.dataSync() as Int32Array;
      const unchanged = !moved && previous !== undefined && labels.every((v, i) => v === previous![i]);
      if (unchanged) {
        tf.dispose([assignment, fusedNext as tf.Tensor]);
        break;
      }
      previous = Int32Array.from(labels);
      const counts = new Float64Array(k);
      for (const label of labels) counts[label]! += 1;
      const next =
        fusedNext ??
        tf.tidy(() => {
          // [N, k] membership (tf.oneHot refuses k = 1, where every sample is a member).
          const members = k === 1 ? tf.ones([n, 1]) : tf.cast(tf.oneHot(assignment, k), 'float32');
          const sums = tf.matMul(tf.transpose(members), x); // [k, D]
          const sizes = tf.tensor2d(Float32Array.from(counts), [k, 1]);
          const means = tf.div(sums, tf.maximum(sizes, 1));
          return tf.where(tf.greater(sizes, 0), means, centroids) as tf.Tensor2D;
        });
      assignment.dispose();
      let hasEmpty = counts.some((c) => c === 0);
      if (hasEmpty && emptyClusters === 'split') {
        const host = next.dataSync() as Float32Array;
        const values = Float32Array.from(host);
        splitEmptyClusters(values, counts, mean.dataSync() as Float32Array, k, d);
        next.dispose();
        centroids.dispose();
        centroids = tf.tensor2d(values, [k, d]);
      } else {
        centroids.dispose();
        centroids = next;
        hasEmpty = false;
      }
      // Means of unchanged assignments equal the current centroids unless a split moved them.
      moved = hasEmpty;
    }
    let assignments: tf.Tensor1D;
    let inertia: number;
    if (fused) {
      const [labels, total] = tf.engine().runKernel(FUSED.kMeansAssign, { x, centroids }) as [tf.Tensor1D, tf.Scalar];
      assignments = labels;
      inertia = total.dataSync()[0]!;
      total.dispose();
    } else {
      assignments = nearestCentroid(x, centroids);
      inertia = tf.tidy(() => tf.sum(tf.squaredDifference(x, tf.gather(centroids, assignments))).dataSync()[0]!);
    }
    const result = tf.tidy(() => tf.add(centroids, mean)) as tf.Tensor2D;
    return { centroids: result, assignments, inertia };
  } finally {
    tf.dispose([x, mean, centroids]);
  }
}
