import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { customGradient } from '../core/custom-gradient.js';
import {
  assertFloat,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertPositive,
  assertRank,
  describeValue,
  formatShape,
} from '../core/validate.js';

/** One view's features for {@link vicreglLoss}. */
export interface VicreglView {
  /** The global (pooled, projected) embedding `[B, D]`. */
  global: tf.Tensor2D;
  /** The local embeddings of the feature map `[B, h, w, d]` (h, w may differ between views). */
  local: tf.Tensor4D;
  /**
   * Where each local embedding sits in the original image, `[B, h, w, 2]`
   * (any common coordinate system, e.g. pixel (y, x) of the cell centre); no
   * gradient flows into it.
   */
  grid: tf.Tensor4D;
}

/** Options of {@link vicreglLoss}. */
export interface VicreglLossOptions {
  /**
   * Weight α of the global loss; the local loss gets 1 − α.
   * @default 0.75 (the paper)
   */
  alpha?: number;
  /**
   * Invariance weight λ.
   * @default 25
   */
  simWeight?: number;
  /**
   * Variance weight μ.
   * @default 25
   */
  varWeight?: number;
  /**
   * Covariance weight ν (halved in the local terms, as lightly does to match
   * the VICRegL code's covariance convention).
   * @default 1
   */
  covWeight?: number;
  /**
   * ε inside the variance term's square root.
   * @default 1e-4
   */
  eps?: number;
  /**
   * How many best-matched local embeddings enter each local term: the first
   * for the search from view a into view b, the second for b into a (the
   * official code's order, whatever the views' kinds).
   * @default [20, 4]
   */
  numMatches?: readonly [number, number];
}

/** `mean((a − b)²)`. */
function invariance(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.mean(tf.squaredDifference(a, b)) as tf.Scalar;
}

/** `mean relu(1 − sqrt(var_batch(x) + ε))` over every non-batch entry (unbiased variance over axis 0). */
function variance(x: tf.Tensor, eps: number): tf.Scalar {
  const n = x.shape[0]!;
  const centered = tf.sub(x, tf.mean(x, 0, true));
  const v = tf.div(tf.sum(tf.square(centered), 0), n - 1);
  return tf.mean(tf.relu(tf.sub(1, tf.sqrt(tf.add(v, eps))))) as tf.Scalar;
}

/**
 * VICReg's covariance term generalised to `[B, ..., D]` (the VICRegL code):
 * for every middle index, `Σ_{i≠j} C_ij² / D` of the covariance over the
 * batch, averaged over the middle indices.
 */
function covariance(x: tf.Tensor): tf.Scalar {
  const n = x.shape[0]!;
  const d = x.shape[x.rank - 1]!;
  const flat = x.rank === 2 ? tf.expandDims(x, 1) : tf.reshape(x, [n, -1, d]); // [B, M, D]
  const centered = tf.sub(flat, tf.mean(flat, 0, true));
  const perIndex = tf.transpose(centered, [1, 0, 2]); // [M, B, D]
  const cov = tf.div(tf.matMul(tf.transpose(perIndex, [0, 2, 1]), perIndex), n - 1); // [M, D, D]
  const offDiagonal = tf.mul(cov, tf.sub(1, tf.eye(d)));
  return tf.mean(tf.div(tf.sum(tf.square(offDiagonal), [1, 2]), d)) as tf.Scalar;
}

/**
 * lightly's `nearest_neighbors`: for each of the n input elements its
 * nearest candidate (by `distances` `[B, n, m]`), then the `k` input elements
 * whose nearest candidate is closest, in ascending order of that distance;
 * returns the selected inputs and their candidates `[B, k, d]`. The selection
 * is discrete: it is made inside a custom gradient that passes none back to
 * the distances (tfjs has no gradient for TopK or ArgMin), and applied as
 * one-hot matrix products so that the selected features keep theirs.
 */
function nearestNeighbours(inputs: tf.Tensor3D, candidates: tf.Tensor3D, distances: tf.Tensor3D, k: number): [tf.Tensor3D, tf.Tensor3D] {
  const [b, n] = inputs.shape;
  const m = candidates.shape[1];
  const count = Math.min(k, n);
  const select = customGradient((_save, d: tf.Tensor3D) => ({
    value: tf.tidy(() => {
      const nearest = tf.argMin(d, 2); // [B, n]
      const { indices: chosen } = tf.topk(tf.neg(tf.min(d, 2)), count, true); // [B, k], ascending distance
      const pickInputs = tf.reshape(tf.oneHot(tf.reshape(chosen, [b * count]), n), [b, count, n]);
      // The chosen inputs' nearest candidates, picked with the same one-hot rows (tfjs-wasm's GatherV2
      // with batch dims reads out of bounds).
      const chosenCandidates = tf.cast(tf.sum(tf.mul(pickInputs, tf.expandDims(nearest, 1)), 2), 'int32');
      const pickCandidates = tf.reshape(tf.oneHot(tf.reshape(chosenCandidates, [b * count]), m), [b, count, m]);
      return tf.concat([tf.cast(pickInputs, 'float32'), tf.cast(pickCandidates, 'float32')], 2);
    }),
    gradFunc: () => tf.zeros(distances.shape),
  }));
  const picks = select(distances);
  const pickInputs = tf.slice(picks, [0, 0, 0], [-1, -1, n]);
  const pickCandidates = tf.slice(picks, [0, 0, n], [-1, -1, m]);
  return [tf.matMul(pickInputs, inputs) as tf.Tensor3D, tf.matMul(pickCandidates, candidates) as tf.Tensor3D];
}

/**
 * Squared Euclidean distances between the rows of `a` `[B, n, c]` and `b`
 * `[B, m, c]`: `[B, n, m]`. Only their order matters (nearest neighbours), which
 * the square keeps, and it has no square root whose derivative at 0 (two equal
 * features) would turn the matching's zero gradient into NaN.
 */
function pairwiseDistances(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const aa = tf.sum(tf.square(a), 2, true); // [B, n, 1]
  const bb = tf.reshape(tf.sum(tf.square(b), 2), [b.shape[0], 1, b.shape[1]]); // [B, 1, m]
  const ab = tf.matMul(a, tf.transpose(b, [0, 2, 1]));
  return tf.relu(tf.sub(tf.add(aa, bb), tf.mul(2, ab))) as tf.Tensor3D;
}

interface Weights {
  alpha: number;
  simWeight: number;
  varWeight: number;
  covWeight: number;
  eps: number;
  numMatches: readonly [number, number];
}

/** lightly's `VICRegLoss(λ, μ, ν/2)` on matched local embeddings `[B, k, d]`. */
function localVicreg(a: tf.Tensor3D, b: tf.Tensor3D, w: Weights): tf.Scalar {
  return tf.addN([
    tf.mul(w.simWeight, invariance(a, b)),
    tf.mul(w.varWeight * 0.5, tf.add(variance(a, w.eps), variance(b, w.eps))),
    tf.mul(w.covWeight * 0.5, tf.add(covariance(a), covariance(b))),
  ]) as tf.Scalar;
}

function flatMap(x: tf.Tensor4D): tf.Tensor3D {
  return tf.reshape(x, [x.shape[0], x.shape[1] * x.shape[2], x.shape[3]]) as tf.Tensor3D;
}

/** The feature-distance and the location-matched local terms between views a and b. */
function localPair(a: VicreglView, b: VicreglView, w: Weights): tf.Scalar {
  const za = flatMap(a.local);
  const zb = flatMap(b.local);
  const [k1, k2] = w.numMatches;
  const byFeature = (x: tf.Tensor3D, y: tf.Tensor3D, k: number) =>
    nearestNeighbours(x, y, pairwiseDistances(x, y), k);
  const [fa, na] = byFeature(za, zb, k1);
  const [fb, nb] = byFeature(zb, za, k2);
  const l2 = tf.mul(0.5, tf.add(localVicreg(fa, na, w), localVicreg(fb, nb, w)));
  const ga = flatMap(a.grid);
  const gb = flatMap(b.grid);
  const [la, ma] = nearestNeighbours(za, zb, pairwiseDistances(ga, gb), k1);
  const [lb, mb] = nearestNeighbours(zb, za, pairwiseDistances(gb, ga), k2);
  const location = tf.mul(0.5, tf.add(localVicreg(la, ma, w), localVicreg(lb, mb, w)));
  return tf.add(l2, location) as tf.Scalar;
}

function checkView(view: unknown, fn: string, arg: string, batch: number | null): VicreglView {
  if (typeof view !== 'object' || view === null) throw new InvalidArgumentError(fn, arg, 'be { global, local, grid }', describeValue(view));
  const { global, local, grid } = view as VicreglView;
  assertRank(global, 2, fn, `${arg}.global`, '[B, D]');
  assertFloat(global, fn, `${arg}.global`);
  assertRank(local, 4, fn, `${arg}.local`, '[B, h, w, d]');
  assertFloat(local, fn, `${arg}.local`);
  assertRank(grid, 4, fn, `${arg}.grid`, '[B, h, w, 2]');
  assertFloat(grid, fn, `${arg}.grid`);
  const b = global.shape[0];
  if (b < 2) throw new ShapeError(fn, `${arg}.global`, 'have B ≥ 2 (the variance and covariance terms are batch statistics)', formatShape(global.shape));
  if (batch !== null && b !== batch) throw new ShapeError(fn, `${arg}.global`, `have the batch size B = ${batch} of the first view`, formatShape(global.shape));
  if (local.shape[0] !== b) throw new ShapeError(fn, `${arg}.local`, `have B = ${b} like ${arg}.global`, formatShape(local.shape));
  const [, h, w] = local.shape;
  if (grid.shape[0] !== b || grid.shape[1] !== h || grid.shape[2] !== w || grid.shape[3] !== 2) {
    throw new ShapeError(fn, `${arg}.grid`, `have shape [${b}, ${h}, ${w}, 2] matching ${arg}.local`, formatShape(grid.shape));
  }
  return { global, local, grid };
}

/**
 * The VICRegL loss (Bardes, Ponce & LeCun, "VICRegL: Self-Supervised
 * Learning of Local Visual Features", NeurIPS 2022), as lightly's
 * `VICRegLLoss` computes it after the authors' code: VICReg on the global
 * embeddings, plus VICReg on *local* embeddings — the feature-map positions
 * of two views matched either by feature distance (nearest neighbours in
 * embedding space) or by location (nearest positions in the original image,
 * from each view's `grid`) — weighted `α·global + (1 − α)·local`. Matching
 * local features across views teaches the map itself to be invariant, which
 * is what dense downstream tasks (segmentation, detection) read.
 *
 * Shapes: each view `{ global: [B, D], local: [B, h, w, d], grid: [B, h, w, 2] }`,
 * B ≥ 2, at least two `globalViews` (and any number of `localViews`, e.g.
 * small crops, whose h, w may differ); returns a scalar.
 *
 * - global = λ·mean over ordered pairs (global a ≠ global b, and global a
 *   with every local view b) of `mse(g_a, g_b)` + μ·mean over all views of
 *   the variance hinge + ν·mean over all views of `Σ_{i≠j} C_ij² / D`;
 * - local = mean over the same ordered pairs of [½(V(a→b) + V(b→a)) by
 *   feature distance + ½(V(a→b) + V(b→a)) by location], where a→b takes the
 *   `numMatches[0]` positions of a whose nearest position in b is closest
 *   (b→a: `numMatches[1]`), ordered by that distance, and V is VICReg with
 *   weights λ, μ, ν/2 on the matched `[B, k, d]` embeddings (variance and
 *   covariance over the batch, per match rank).
 *
 * The matching is discrete (no gradient through the distances or the
 * grids); the matched embeddings get their gradients. Ties in distance are
 * broken by position index; lightly notes its order differs from the
 * authors' (which changes the centring), and selfsup follows lightly.
 *
 * @param globalViews ≥ 2 views whose local maps are matched with each other.
 * @param localViews further views (small crops) matched against the global ones.
 * @returns the scalar loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { vicreglLoss } from 'selfsup';
 *
 * const grid = tf.tile(tf.reshape(tf.stack(tf.meshgrid(tf.range(0, 3), tf.range(0, 3), { indexing: 'ij' }), -1), [1, 3, 3, 2]), [4, 1, 1, 1]) as tf.Tensor4D;
 * const view = (seed: number) => ({
 *   global: tf.randomNormal([4, 8], 0, 1, 'float32', seed) as tf.Tensor2D,
 *   local: tf.randomNormal([4, 3, 3, 6], 0, 1, 'float32', seed + 1) as tf.Tensor4D,
 *   grid,
 * });
 * console.log(vicreglLoss([view(0), view(2)], [], { numMatches: [4, 2] }).dataSync()[0]);
 * ```
 */
export function vicreglLoss(globalViews: readonly VicreglView[], localViews: readonly VicreglView[] = [], options: VicreglLossOptions = {}): tf.Scalar {
  const fn = 'vicreglLoss';
  assertKnownOptions(options, ['alpha', 'simWeight', 'varWeight', 'covWeight', 'eps', 'numMatches'], fn);
  const { alpha = 0.75, simWeight = 25, varWeight = 25, covWeight = 1, eps = 1e-4, numMatches = [20, 4] } = options;
  if (!Array.isArray(globalViews) || globalViews.length < 2) {
    throw new InvalidArgumentError(fn, 'globalViews', 'be an array of at least 2 views', describeValue(globalViews));
  }
  if (!Array.isArray(localViews)) throw new InvalidArgumentError(fn, 'localViews', 'be an array of views', describeValue(localViews));
  const batch = checkView(globalViews[0], fn, 'globalViews[0]', null).global.shape[0];
  const globals = globalViews.map((v, i) => checkView(v, fn, `globalViews[${i}]`, batch));
  const locals = localViews.map((v, i) => checkView(v, fn, `localViews[${i}]`, batch));
  const all = [...globals, ...locals];
  const globalDim = globals[0]!.global.shape[1];
  const localDim = globals[0]!.local.shape[3];
  all.forEach((v, i) => {
    const arg = i < globals.length ? `globalViews[${i}]` : `localViews[${i - globals.length}]`;
    if (v.global.shape[1] !== globalDim) throw new ShapeError(fn, `${arg}.global`, `have D = ${globalDim} like the first view`, formatShape(v.global.shape));
    if (v.local.shape[3] !== localDim) throw new ShapeError(fn, `${arg}.local`, `have d = ${localDim} like the first view`, formatShape(v.local.shape));
  });
  assertInRange(alpha, 0, 1, fn, 'options.alpha');
  assertNonNegative(simWeight, fn, 'options.simWeight');
  assertNonNegative(varWeight, fn, 'options.varWeight');
  assertNonNegative(covWeight, fn, 'options.covWeight');
  assertPositive(eps, fn, 'options.eps');
  if (!Array.isArray(numMatches) || numMatches.length !== 2) {
    throw new InvalidArgumentError(fn, 'options.numMatches', 'be a pair [k1, k2] of integers ≥ 1', describeValue(numMatches));
  }
  assertInteger(numMatches[0], fn, 'options.numMatches[0]', { min: 1 });
  assertInteger(numMatches[1], fn, 'options.numMatches[1]', { min: 1 });
  const w: Weights = { alpha, simWeight, varWeight, covWeight, eps, numMatches: [numMatches[0], numMatches[1]] };
  return tf.tidy(() => {
    // Ordered pairs: (global a, global b ≠ a) and (global a, local b).
    const pairs: [VicreglView, VicreglView][] = [];
    for (const a of globals) {
      for (const b of globals) if (a !== b) pairs.push([a, b]);
      for (const b of locals) pairs.push([a, b]);
    }
    const inv = tf.div(tf.addN(pairs.map(([a, b]) => invariance(a.global, b.global))), pairs.length);
    const varTerm = tf.div(tf.addN(all.map((v) => variance(v.global, eps))), all.length);
    const covTerm = tf.div(tf.addN(all.map((v) => covariance(v.global))), all.length);
    const globalLoss = tf.addN([tf.mul(simWeight, inv), tf.mul(varWeight, varTerm), tf.mul(covWeight, covTerm)]);
    const localLoss = tf.div(tf.addN(pairs.map(([a, b]) => localPair(a, b, w))), pairs.length);
    return tf.add(tf.mul(alpha, globalLoss), tf.mul(1 - alpha, localLoss)) as tf.Scalar;
  });
}
