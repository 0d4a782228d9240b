/**
 * tfjs kernel functions for the wasm backend that run selfsup's fused loss
 * and k-means passes (src/kernels/c/contrastive.c, kmeans.c) on tfjs's own
 * memory. The losses call them through `tf.engine().runKernel` inside their
 * custom gradients (src/losses/internal/contrastive.ts, src/losses/k-means.ts);
 * the names are in src/core/fused-kernels.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { kernelsFor, THREAD_SCRATCH, type KernelInstance, type WasmBackendLike } from './wasm-runtime.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The normalisation floor of `normalizeLastAxis` (src/core/normalize.ts), as the losses use it. */
const EPS = 1e-12;

function float32(args: KernelArgs, name: string, kernel: string, rank: number): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new BackendError(`${kernel}: missing input '${name}'`);
  if (t.dtype !== 'float32') throw new BackendError(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  if (t.shape.length !== rank) throw new BackendError(`${kernel}: input '${name}' must be rank ${rank}, got shape [${t.shape.join(', ')}]`);
  return t;
}

function temperature(args: KernelArgs): number {
  return 1 / (args.attrs?.['temperature'] as number);
}

/** The backend, the kernel instance and a pointer getter. */
function setup(args: KernelArgs): [WasmBackendLike, KernelInstance, (t: tf.TensorInfo) => number] {
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  return [backend, kernels, (t) => kernels.offset(t.dataId)];
}

/** Pointers to consecutive 16-byte-aligned regions of `bytes[i]` bytes in the instance's scratch buffer. */
function carve(kernels: KernelInstance, bytes: number[]): number[] {
  const offsets: number[] = [];
  let total = 0;
  for (const b of bytes) {
    offsets.push(total);
    total += Math.ceil(b / 16) * 16;
  }
  const base = kernels.scratch(total);
  return offsets.map((o) => base + o);
}

const F32 = 4;
const F64 = 8;
const round8 = (v: number) => Math.ceil(v / 8) * 8;

/** Normalises the rows of x into y with their norms (normalize_rows over threads). */
function normalizeRows(kernels: KernelInstance, x: number, y: number, norms: number, rows: number, d: number): void {
  kernels.run('normalize_rows', [x, y, norms, d, EPS], rows, { work: 3 * rows * d, grain: 4 });
}

/** `SelfsupNtXent`: z1, z2 [N, D] → loss, z [2N, D], norms [2N], w = P + Pᵀ [2N, 2N] (P the softmax). */
export function ntXentWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.ntXent;
  const z1 = float32(args, 'z1', kernel, 2);
  const z2 = float32(args, 'z2', kernel, 2);
  const [n, d] = z1.shape as [number, number];
  const m = 2 * n;
  const [backend, kernels, at] = setup(args);
  const loss = backend.makeOutput([], 'float32');
  const z = backend.makeOutput([m, d], 'float32');
  const norms = backend.makeOutput([m], 'float32');
  const p = backend.makeOutput([m, m], 'float32');
  const e = kernels.exports;
  const [packed, rowLoss, blockScratch] = carve(kernels, [round8(m) * d * F32, m * F64, e.nt_xent_block_scratch()]);
  normalizeRows(kernels, at(z1), at(z), at(norms), n, d);
  normalizeRows(kernels, at(z2), at(z) + n * d * F32, at(norms) + n * F32, n, d);
  kernels.run('pack_rows_as_columns', [at(z), packed!, 0, m, d], round8(m) / 8, { work: m * d });
  const blocks = e.nt_xent_blocks(m);
  const flops = m * m * d;
  if (kernels.threadsFor(flops, blocks) === 1) {
    // One thread: the three phases interleaved per block row, while its rows are in cache (same bits).
    e.nt_xent_fused(at(z), packed!, at(p), rowLoss!, blockScratch!, n, d, temperature(args));
  } else {
    // Block row b multiplies b + 1 blocks of the lower triangle.
    kernels.run('nt_xent_similarity', [at(z), packed!, at(p), THREAD_SCRATCH, m, d, temperature(args)], blocks, {
      work: flops, threadScratch: e.nt_xent_block_scratch(), weight: (b) => b + 1,
    });
    kernels.run('nt_xent_softmax', [at(p), rowLoss!, n], m, { work: 8 * m * m, grain: 4 });
    kernels.run('nt_xent_symmetrize', [at(p), THREAD_SCRATCH, m], blocks, {
      work: 2 * m * m, threadScratch: e.nt_xent_block_scratch(), weight: (b) => blocks - b,
    });
  }
  e.mean_of_doubles(rowLoss!, m, at(loss));
  return [loss, z, norms, p];
}

/** `SelfsupNtXentGrad`: z, norms, w (from the forward), dy [] → dz1, dz2 [N, D]. */
export function ntXentGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.ntXentGrad;
  const z = float32(args, 'z', kernel, 2);
  const norms = float32(args, 'norms', kernel, 1);
  const p = float32(args, 'p', kernel, 2);
  const dy = float32(args, 'dy', kernel, 0);
  const [m, d] = z.shape as [number, number];
  const n = m / 2;
  const [backend, kernels, at] = setup(args);
  const dz1 = backend.makeOutput([n, d], 'float32');
  const dz2 = backend.makeOutput([n, d], 'float32');
  const dp = round8(d);
  const [packed] = carve(kernels, [m * dp * F32]);
  kernels.run('pack_column_panels', [at(z), packed!, 0, m, d], dp / 8, { work: m * d });
  kernels.run(
    'nt_xent_backward_rows',
    [at(z), at(norms), at(p), packed!, at(dy), at(dz1), at(dz2), THREAD_SCRATCH, n, d, temperature(args), EPS],
    Math.ceil(m / 4),
    { work: 2 * m * m * d, threadScratch: 4 * dp * F32 },
  );
  return [dz1, dz2];
}

/** `SelfsupInfoNCEQueue`: q, k [N, D], negatives [K, D] → loss, qn, kn, qNorms, kNorms, negNorms, pPos [N], pNeg [N, K]. */
export function infoNCEQueueWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.infoNCEQueue;
  const q = float32(args, 'q', kernel, 2);
  const k = float32(args, 'k', kernel, 2);
  const negatives = float32(args, 'negatives', kernel, 2);
  const [n, d] = q.shape as [number, number];
  const kn = negatives.shape[0]!;
  const [backend, kernels, at] = setup(args);
  const loss = backend.makeOutput([], 'float32');
  const qn = backend.makeOutput([n, d], 'float32');
  const kNormed = backend.makeOutput([n, d], 'float32');
  const qNorms = backend.makeOutput([n], 'float32');
  const kNorms = backend.makeOutput([n], 'float32');
  const negNorms = backend.makeOutput([kn], 'float32');
  const pPos = backend.makeOutput([n], 'float32');
  const pNeg = backend.makeOutput([n, kn], 'float32');
  const [packed, inv, rowLoss] = carve(kernels, [round8(kn) * d * F32, kn * F32, n * F64]);
  normalizeRows(kernels, at(q), at(qn), at(qNorms), n, d);
  normalizeRows(kernels, at(k), at(kNormed), at(kNorms), n, d);
  kernels.run('info_nce_queue_norms', [at(negatives), at(negNorms), inv!, d, EPS], kn, { work: 2 * kn * d, grain: 4 });
  kernels.run('pack_rows_as_columns', [at(negatives), packed!, inv!, kn, d], round8(kn) / 8, { work: kn * d });
  kernels.run('info_nce_queue_logits', [at(qn), at(kNormed), packed!, at(pPos), at(pNeg), rowLoss!, n, kn, d, temperature(args)],
    Math.ceil(n / 4), { work: 2 * n * kn * d });
  kernels.exports.mean_of_doubles(rowLoss!, n, at(loss));
  return [loss, qn, kNormed, qNorms, kNorms, negNorms, pPos, pNeg];
}

/** `SelfsupInfoNCEQueueGradQuery`: qn, kn, qNorms, negatives, negNorms, pPos, pNeg, dy → dq [N, D]. */
export function infoNCEQueueGradQueryWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.infoNCEQueueGradQuery;
  const qn = float32(args, 'qn', kernel, 2);
  const kn = float32(args, 'kn', kernel, 2);
  const qNorms = float32(args, 'qNorms', kernel, 1);
  const negatives = float32(args, 'negatives', kernel, 2);
  const negNorms = float32(args, 'negNorms', kernel, 1);
  const pPos = float32(args, 'pPos', kernel, 1);
  const pNeg = float32(args, 'pNeg', kernel, 2);
  const dy = float32(args, 'dy', kernel, 0);
  const [n, d] = qn.shape as [number, number];
  const k = negatives.shape[0]!;
  const [backend, kernels, at] = setup(args);
  const dq = backend.makeOutput([n, d], 'float32');
  const dp = round8(d);
  const [packed, inv, g] = carve(kernels, [k * dp * F32, k * F32, n * dp * F32]);
  kernels.exports.inverse_denominators(at(negNorms), inv!, k, EPS);
  kernels.run('pack_column_panels', [at(negatives), packed!, inv!, k, d], dp / 8, { work: k * d });
  kernels.run(
    'info_nce_queue_backward_query_rows',
    [at(qn), at(kn), at(qNorms), packed!, at(pPos), at(pNeg), at(dy), at(dq), g!, n, k, d, temperature(args), EPS],
    Math.ceil(n / 4),
    { work: 2 * n * k * d },
  );
  return dq;
}

/** `SelfsupInfoNCEQueueGradKey`: qn, kn, kNorms, pPos, dy → dk [N, D]. */
export function infoNCEQueueGradKeyWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.infoNCEQueueGradKey;
  const qn = float32(args, 'qn', kernel, 2);
  const kn = float32(args, 'kn', kernel, 2);
  const kNorms = float32(args, 'kNorms', kernel, 1);
  const pPos = float32(args, 'pPos', kernel, 1);
  const dy = float32(args, 'dy', kernel, 0);
  const [n, d] = qn.shape as [number, number];
  const [backend, kernels, at] = setup(args);
  const dk = backend.makeOutput([n, d], 'float32');
  kernels.run(
    'info_nce_queue_backward_key',
    [at(qn), at(kn), at(kNorms), at(pPos), at(dy), at(dk), THREAD_SCRATCH, n, d, temperature(args), EPS],
    n,
    { work: 4 * n * d, grain: 4, threadScratch: d * F32 },
  );
  return dk;
}

/** `SelfsupInfoNCEQueueGradNegatives`: qn, negatives, negNorms, pNeg, dy → dNegatives [K, D]. */
export function infoNCEQueueGradNegativesWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.infoNCEQueueGradNegatives;
  const qn = float32(args, 'qn', kernel, 2);
  const negatives = float32(args, 'negatives', kernel, 2);
  const negNorms = float32(args, 'negNorms', kernel, 1);
  const pNeg = float32(args, 'pNeg', kernel, 2);
  const dy = float32(args, 'dy', kernel, 0);
  const [n, d] = qn.shape as [number, number];
  const k = negatives.shape[0]!;
  const [backend, kernels, at] = setup(args);
  const dNeg = backend.makeOutput([k, d], 'float32');
  const dp = round8(d);
  const [packed] = carve(kernels, [n * dp * F32]);
  kernels.run('pack_column_panels', [at(qn), packed!, 0, n, d], dp / 8, { work: n * d });
  kernels.run(
    'info_nce_queue_backward_negatives_rows',
    [packed!, at(negatives), at(negNorms), at(pNeg), at(dy), at(dNeg), THREAD_SCRATCH, n, k, d, temperature(args), EPS],
    Math.ceil(k / 4),
    { work: 2 * n * k * d, threadScratch: kernels.exports.panel_rows_scratch(n, d) },
  );
  return dNeg;
}

/** `SelfsupClip`: images, texts [N, D], logScale [] → loss, in, tn, iNorms, tNorms, g [N, N], dLogScale []. */
export function clipWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.clip;
  const images = float32(args, 'images', kernel, 2);
  const texts = float32(args, 'texts', kernel, 2);
  const logScale = float32(args, 'logScale', kernel, 0);
  const [n, d] = images.shape as [number, number];
  const [backend, kernels, at] = setup(args);
  const loss = backend.makeOutput([], 'float32');
  const imagesN = backend.makeOutput([n, d], 'float32');
  const textsN = backend.makeOutput([n, d], 'float32');
  const iNorms = backend.makeOutput([n], 'float32');
  const tNorms = backend.makeOutput([n], 'float32');
  const g = backend.makeOutput([n, n], 'float32');
  const dLogScale = backend.makeOutput([], 'float32');
  const [packed, rmax, rinv, cmax, cinv, diag, rowLse, colLse, rowGl] = carve(kernels, [
    round8(n) * d * F32, n * F32, n * F32, n * F32, n * F32, n * F32, n * F64, n * F64, n * F64,
  ]);
  normalizeRows(kernels, at(images), at(imagesN), at(iNorms), n, d);
  normalizeRows(kernels, at(texts), at(textsN), at(tNorms), n, d);
  kernels.run('pack_rows_as_columns', [at(textsN), packed!, 0, n, d], round8(n) / 8, { work: n * d });
  kernels.run('clip_logits', [at(imagesN), packed!, at(logScale), at(g), n, d], Math.ceil(n / 4), { work: 2 * n * n * d });
  kernels.run('clip_row_stats', [at(g), rmax!, rinv!, rowLse!, diag!, n], n, { work: 8 * n * n, grain: 4 });
  kernels.run('clip_column_stats', [at(g), cmax!, cinv!, colLse!, n], Math.ceil(n / 4), { work: 8 * n * n });
  kernels.run('clip_gradient', [at(g), rmax!, rinv!, cmax!, cinv!, rowGl!, n], n, { work: 16 * n * n, grain: 4 });
  kernels.exports.clip_finish(rowLse!, colLse!, rowGl!, diag!, at(loss), at(dLogScale), n);
  return [loss, imagesN, textsN, iNorms, tNorms, g, dLogScale];
}

/** `SelfsupClipGrad`: images, texts (normalised), norms (of the side wanted), g, logScale, dy → its gradient [N, D]. */
export function clipGradWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.clipGrad;
  const images = float32(args, 'images', kernel, 2);
  const texts = float32(args, 'texts', kernel, 2);
  const norms = float32(args, 'norms', kernel, 1);
  const g = float32(args, 'g', kernel, 2);
  const logScale = float32(args, 'logScale', kernel, 0);
  const dy = float32(args, 'dy', kernel, 0);
  const which = args.attrs?.['which'] === 1 ? 1 : 0;
  const [n, d] = images.shape as [number, number];
  const [backend, kernels, at] = setup(args);
  const dx = backend.makeOutput([n, d], 'float32');
  const dp = round8(d);
  const [packed] = carve(kernels, [n * dp * F32]);
  kernels.run('pack_column_panels', [at(which ? images : texts), packed!, 0, n, d], dp / 8, { work: n * d });
  kernels.run(
    'clip_backward_rows',
    [at(images), at(texts), at(norms), at(g), packed!, at(logScale), at(dy), at(dx), THREAD_SCRATCH, n, d, EPS, which],
    Math.ceil(n / 4),
    { work: 2 * n * n * d, threadScratch: kernels.exports.panel_rows_scratch(n, d) },
  );
  return dx;
}

/** Bytes of the packed centroids and their squared norms. */
const centroidBytes = (k: number, d: number) => [round8(k) * d * F32, round8(k) * F32];

/** Prepares the centroids (into packed, cnorm) and assigns every row (labels, and per-row inertia if `rowInertia`). */
function assign(
  kernels: KernelInstance, x: number, centroids: number, labels: number, rowInertia: number, [packed, cnorm]: number[],
  n: number, d: number, k: number,
): void {
  kernels.run('kmeans_prepare', [centroids, packed!, cnorm!, d, k], round8(k) / 8, { work: 2 * k * d });
  kernels.run(
    'kmeans_assign_rows',
    [x, centroids, packed!, cnorm!, labels, rowInertia, THREAD_SCRATCH, n, d, k],
    kernels.exports.kmeans_row_chunks(n),
    { work: 2 * n * k * d, threadScratch: kernels.exports.kmeans_scratch(d, k) },
  );
}

/** `SelfsupKMeansStep`: x [N, D], centroids [k, D] → labels (int32 [N]), next centroids [k, D] (empty clusters keep theirs). */
export function kMeansStepWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.kMeansStep;
  const x = float32(args, 'x', kernel, 2);
  const centroids = float32(args, 'centroids', kernel, 2);
  const [n, d] = x.shape as [number, number];
  const k = centroids.shape[0]!;
  const [backend, kernels, at] = setup(args);
  const labels = backend.makeOutput([n], 'int32');
  const next = backend.makeOutput([k, d], 'float32');
  const [packed, cnorm, sumsPtr, countsPtr] = carve(kernels, [...centroidBytes(k, d), k * d * F32, k * F32]);
  assign(kernels, at(x), at(centroids), at(labels), 0, [packed!, cnorm!], n, d, k);
  kernels.run('kmeans_sums', [at(x), at(labels), sumsPtr!, countsPtr!, n, d, k], kernels.exports.kmeans_column_groups(d), { work: n * d });
  kernels.exports.kmeans_means(sumsPtr!, countsPtr!, at(centroids), at(next), d, k);
  return [labels, next];
}

/** `SelfsupKMeansAssign`: x [N, D], centroids [k, D] → labels (int32 [N]), inertia []. */
export function kMeansAssignWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.kMeansAssign;
  const x = float32(args, 'x', kernel, 2);
  const centroids = float32(args, 'centroids', kernel, 2);
  const [n, d] = x.shape as [number, number];
  const k = centroids.shape[0]!;
  const [backend, kernels, at] = setup(args);
  const labels = backend.makeOutput([n], 'int32');
  const inertia = backend.makeOutput([], 'float32');
  const [packed, cnorm, rowInertia] = carve(kernels, [...centroidBytes(k, d), n * F64]);
  assign(kernels, at(x), at(centroids), at(labels), rowInertia!, [packed!, cnorm!], n, d, k);
  kernels.exports.sum_of_doubles(rowInertia!, n, at(inertia));
  return [labels, inertia];
}

/** `SelfsupVExp`: the vectorised exp of the fused kernels, elementwise (for its accuracy test). */
export function vexpWasm(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x']!;
  const [backend, kernels, at] = setup(args);
  const out = backend.makeOutput([...x.shape], 'float32');
  kernels.exports.vexp_array(at(x), at(out), tf.util.sizeFromShape(x.shape));
  return out;
}
