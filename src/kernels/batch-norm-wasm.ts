/**
 * Batch-normalisation kernels for the wasm backend (src/kernels/c/batchnorm.c):
 * tfjs's `FusedBatchNorm` in one pass, and selfsup's
 * `SelfsupBatchNormTrain` / `SelfsupBatchNormTrainGrad`, which normalise a
 * training batch and back-propagate through it (statistics included) in
 * three and two passes over the activation, where tfjs-layers' composition
 * takes about thirty (src/kernels/batch-norm-training.ts routes tfjs-layers'
 * BatchNormalization layer to them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { kernelsFor, type KernelInstance, type WasmBackendLike } from './wasm-runtime.js';

/**
 * Channels per thread's share of a per-channel reduction: whole cache lines
 * (16 floats), and a multiple of 4 so every channel is summed in the same
 * SIMD lane as on one thread. Each channel's sum keeps its order, so any
 * split gives the same bits; the element-wise passes split over rows.
 */
const CHANNEL_GRAIN = 16;

/** Runs a per-channel reduction over channels [0, cols) on the kernel threads. */
function byChannel(k: KernelInstance, name: 'batch_norm_moments' | 'batch_norm_grad_sums', args: number[], rows: number, cols: number): void {
  k.run(name, args, cols, { work: 2 * rows * cols, grain: CHANNEL_GRAIN });
}

/** Runs an element-wise pass over rows [0, rows) on the kernel threads. */
function byRow(k: KernelInstance, name: 'batch_norm_apply' | 'batch_norm_grad_apply', args: number[], rows: number, cols: number): void {
  k.run(name, args, rows, { work: 2 * rows * cols });
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** `[rows, cols]` of a channels-last tensor: cols = the last dimension. */
function rowsCols(x: tf.TensorInfo): [number, number] {
  const cols = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1]!;
  return [cols === 0 ? 0 : tf.util.sizeFromShape(x.shape) / cols, cols];
}

/** Whether `t` holds one float32 value per channel (shape `[C]`, or `[1, …, 1, C]`). */
function perChannel(t: tf.TensorInfo | undefined, cols: number): boolean {
  return t !== undefined && t.dtype === 'float32' && t.shape.length >= 1 && t.shape[t.shape.length - 1] === cols &&
    tf.util.sizeFromShape(t.shape) === cols;
}

/**
 * `FusedBatchNorm` (inference-mode batch norm, and tfjs's `tf.batchNorm`) in
 * one pass: y = (x − mean) · (scale / √(variance + ε)) + offset, with the
 * per-channel factor computed once. tfjs-backend-wasm's kernel indexes every
 * parameter per element (~3.7 ns per element here); other parameter shapes
 * than one value per channel go to it.
 */
export function fusedBatchNormWasm(fallback: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    if (!x || x.dtype !== 'float32' || x.shape.length === 0) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const [rows, cols] = rowsCols(x);
    const ok = perChannel(mean, cols) && perChannel(variance, cols) &&
      (offset === undefined || perChannel(offset, cols)) && (scale === undefined || perChannel(scale, cols));
    if (!ok || cols === 0) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const eps = (args.attrs?.['varianceEpsilon'] as number | undefined) ?? 0.001;
    const backend = args.backend as WasmBackendLike;
    const kernels = kernelsFor(backend);
    const at = (t: tf.TensorInfo | undefined) => (t === undefined ? 0 : kernels.offset(t.dataId));
    const out = backend.makeOutput([...x.shape], 'float32');
    const factor = kernels.scratch(cols * 4);
    const e = kernels.exports;
    e.batch_norm_factors(at(variance), at(scale), factor, cols, eps, 0, cols);
    byRow(kernels, 'batch_norm_apply', [at(x), at(mean), factor, at(offset), at(out), rows, cols], rows, cols);
    return out;
  };
}

function input(args: KernelArgs, name: string, kernel: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new BackendError(`${kernel}: missing input '${name}'`);
  if (t.dtype !== 'float32') throw new BackendError(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

/**
 * `SelfsupBatchNormTrain`: x `[..., C]`, scale, offset `[C]` → y, mean,
 * variance `[C]` (biased, over every axis but the last). The statistics are
 * tfjs's `moments` bit for bit and y is `FusedBatchNorm`'s (the kernel
 * above) with them.
 */
export function batchNormTrainWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.batchNormTrain;
  const x = input(args, 'x', kernel);
  const [rows, cols] = rowsCols(x);
  const scale = input(args, 'scale', kernel);
  const offset = input(args, 'offset', kernel);
  if (!perChannel(scale, cols) || !perChannel(offset, cols) || rows === 0) {
    throw new BackendError(`${kernel}: expected x [..., C] with rows and scale, offset [C]; got x [${x.shape}], scale [${scale.shape}], offset [${offset.shape}]`);
  }
  const eps = args.attrs?.['varianceEpsilon'] as number;
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const y = backend.makeOutput([...x.shape], 'float32');
  const mean = backend.makeOutput([cols], 'float32');
  const variance = backend.makeOutput([cols], 'float32');
  const factor = kernels.scratch(cols * 4);
  const at = (t: tf.TensorInfo) => kernels.offset(t.dataId);
  const e = kernels.exports;
  byChannel(kernels, 'batch_norm_moments', [at(x), at(mean), at(variance), rows, cols], rows, cols);
  e.batch_norm_factors(at(variance), at(scale), factor, cols, eps, 0, cols);
  byRow(kernels, 'batch_norm_apply', [at(x), at(mean), factor, at(offset), at(y), rows, cols], rows, cols);
  return [y, mean, variance];
}

/**
 * `SelfsupBatchNormTrainGrad`: dy (of y), dmean, dvariance (of the
 * statistics, zeros when nothing differentiates them), x, mean, variance,
 * scale → dx, dscale, doffset, in one reading and one writing pass over the
 * activation.
 */
export function batchNormTrainGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.batchNormTrainGrad;
  const [dy, dmean, dvariance, x, mean, variance, scale] = ['dy', 'dmean', 'dvariance', 'x', 'mean', 'variance', 'scale'].map(
    (name) => input(args, name, kernel),
  ) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  const [rows, cols] = rowsCols(x);
  const eps = args.attrs?.['varianceEpsilon'] as number;
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dscale = backend.makeOutput([cols], 'float32');
  const doffset = backend.makeOutput([cols], 'float32');
  const sums = kernels.scratch(cols * 5 * 4);
  const coef = sums + cols * 2 * 4;
  const at = (t: tf.TensorInfo) => kernels.offset(t.dataId);
  const e = kernels.exports;
  byChannel(kernels, 'batch_norm_grad_sums', [at(dy), at(x), at(mean), sums, rows, cols], rows, cols);
  e.batch_norm_grad_coefficients(sums, at(variance), at(scale), at(dmean), at(dvariance), at(dscale), at(doffset), coef, rows, cols, eps, 0, cols);
  byRow(kernels, 'batch_norm_grad_apply', [at(dy), at(x), at(mean), coef, at(dx), rows, cols], rows, cols);
  return [dx, dscale, doffset];
}
