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
import { kernelsFor, type KernelInstance, type WasmBackendLike } from './wasm-runtime.js';

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
  const scratch = kernels.scratch(kernels.exports.nt_xent_forward_scratch(n, d));
  kernels.exports.nt_xent_forward(at(z1), at(z2), at(z), at(norms), at(p), at(loss), scratch, n, d, temperature(args), EPS);
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
  const scratch = kernels.scratch(kernels.exports.nt_xent_backward_scratch(n, d));
  kernels.exports.nt_xent_backward(at(z), at(norms), at(p), at(dy), at(dz1), at(dz2), scratch, n, d, temperature(args), EPS);
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
  const scratch = kernels.scratch(kernels.exports.info_nce_queue_forward_scratch(n, kn, d));
  kernels.exports.info_nce_queue_forward(
    at(q), at(k), at(negatives), at(qn), at(kNormed), at(qNorms), at(kNorms), at(negNorms), at(pPos), at(pNeg), at(loss),
    scratch, n, kn, d, temperature(args), EPS,
  );
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
  const scratch = kernels.scratch(kernels.exports.info_nce_queue_backward_query_scratch(n, k, d));
  kernels.exports.info_nce_queue_backward_query(
    at(qn), at(kn), at(qNorms), at(negatives), at(negNorms), at(pPos), at(pNeg), at(dy), at(dq), scratch, n, k, d,
    temperature(args), EPS,
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
  const scratch = kernels.scratch(d * 4);
  kernels.exports.info_nce_queue_backward_key(at(qn), at(kn), at(kNorms), at(pPos), at(dy), at(dk), scratch, n, d, temperature(args), EPS);
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
  const scratch = kernels.scratch(kernels.exports.info_nce_queue_backward_negatives_scratch(n, d));
  kernels.exports.info_nce_queue_backward_negatives(
    at(qn), at(negatives), at(negNorms), at(pNeg), at(dy), at(dNeg), scratch, n, k, d, temperature(args), EPS,
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
  const scratch = kernels.scratch(kernels.exports.clip_forward_scratch(n, d));
  kernels.exports.clip_forward(
    at(images), at(texts), at(logScale), at(imagesN), at(textsN), at(iNorms), at(tNorms), at(g), at(loss), at(dLogScale),
    scratch, n, d, EPS,
  );
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
  const scratch = kernels.scratch(kernels.exports.clip_backward_scratch(n, d));
  kernels.exports.clip_backward(at(images), at(texts), at(norms), at(g), at(logScale), at(dy), at(dx), scratch, n, d, EPS, which);
  return dx;
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
  const scratchBytes = kernels.exports.kmeans_scratch(d, k);
  // The sums and counts live after the packed centroids in the same scratch buffer.
  const sumsOffset = Math.ceil(scratchBytes / 16) * 16;
  const countsOffset = sumsOffset + k * d * 4;
  const scratch = kernels.scratch(countsOffset + Math.ceil((k * 4) / 16) * 16);
  kernels.exports.kmeans_assign(at(x), at(centroids), at(labels), scratch + sumsOffset, scratch + countsOffset, 0, scratch, n, d, k);
  kernels.exports.kmeans_means(scratch + sumsOffset, scratch + countsOffset, at(centroids), at(next), d, k);
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
  const scratch = kernels.scratch(kernels.exports.kmeans_scratch(d, k));
  kernels.exports.kmeans_assign(at(x), at(centroids), at(labels), 0, 0, at(inertia), scratch, n, d, k);
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
