/**
 * tfjs kernel functions for the wasm backend that run selfsup's augmentation
 * hot paths (src/kernels/c/augment.c) on planar `[C, B, H, W]` images, the
 * layout `compose` pipelines use inside. The transforms call them through
 * `tf.engine().runKernel` where the active backend has them
 * (src/core/fused-kernels.ts) and run their tfjs compositions otherwise.
 *
 * Per-sample parameters come as attributes (typed arrays) and are copied
 * into the kernels' scratch buffer, after every allocation of the call, so no
 * view of the wasm memory outlives a possible growth.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { backendMemory, kernelsFor, THREAD_SCRATCH, type WasmBackendLike } from './wasm-runtime.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function image(args: KernelArgs, kernel: string): tf.TensorInfo & { shape: [number, number, number, number] } {
  const x = args.inputs['x'];
  if (!x) throw new BackendError(`${kernel}: missing input 'x'`);
  if (x.dtype !== 'float32' || x.shape.length !== 4) {
    throw new BackendError(`${kernel}: input 'x' must be a float32 rank-4 tensor, got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  return x as tf.TensorInfo & { shape: [number, number, number, number] };
}

function floats(args: KernelArgs, name: string, length: number, kernel: string): ArrayLike<number> {
  const v = args.attrs?.[name] as ArrayLike<number> | undefined;
  if (!v || v.length !== length) throw new BackendError(`${kernel}: attribute '${name}' must hold ${length} numbers`);
  return v;
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * Scratch of `extraBytes` for the kernel after the parameter arrays, which
 * are written in order (float32 or int32) at its start. Returns the pointers
 * of the arrays and of the extra space.
 */
function stage(args: KernelArgs, arrays: [ArrayLike<number>, 'f32' | 'i32'][], extraBytes: number): { ptrs: number[]; extra: number } {
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const offsets: number[] = [];
  let total = 0;
  for (const [a] of arrays) {
    offsets.push(total);
    total += align(a.length * 4);
  }
  const base = kernels.scratch(total + extraBytes);
  const buffer = backendMemory(backend).buffer;
  arrays.forEach(([a, type], i) => {
    const view = type === 'f32' ? new Float32Array(buffer, base + offsets[i]!, a.length) : new Int32Array(buffer, base + offsets[i]!, a.length);
    view.set(a);
  });
  return { ptrs: offsets.map((o) => base + o), extra: base + total };
}

/** `SelfsupMinMax`: any float32 tensor → [min, max], both NaN if a value is NaN or infinite. */
export function minMaxWasm(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x'];
  if (!x || x.dtype !== 'float32') throw new BackendError(`${FUSED.minMax}: input 'x' must be a float32 tensor`);
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([2], 'float32');
  kernels.exports.min_max(kernels.offset(x.dataId), kernels.offset(out.dataId), tf.util.sizeFromShape(x.shape));
  return out;
}

/** `SelfsupToPlanar`: [B, H, W, C] → [C, B, H, W]. */
export function toPlanarWasm(args: KernelArgs): tf.TensorInfo {
  const x = image(args, FUSED.toPlanar);
  const [b, h, w, c] = x.shape;
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([c, b, h, w], 'float32');
  const n = b * h * w;
  kernels.run('to_planar', [kernels.offset(x.dataId), kernels.offset(out.dataId), n, c], n, { work: n * c, grain: 1024 });
  return out;
}

/** `SelfsupFromPlanar`: [C, B, H, W] → [B, H, W, C]. */
export function fromPlanarWasm(args: KernelArgs): tf.TensorInfo {
  const x = image(args, FUSED.fromPlanar);
  const [c, b, h, w] = x.shape;
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([b, h, w, c], 'float32');
  const n = b * h * w;
  kernels.run('from_planar', [kernels.offset(x.dataId), kernels.offset(out.dataId), n, c], n, { work: n * c, grain: 1024 });
  return out;
}

/** `SelfsupColorJitter`: planar RGB [3, B, H, W]; attr `params` (9 per sample, see augment.c). */
export function colorJitterWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.colorJitter;
  const x = image(args, kernel);
  const [c, b, h, w] = x.shape;
  if (c !== 3) throw new BackendError(`${kernel}: planar RGB images [3, B, H, W] expected, got ${c} channels`);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([c, b, h, w], 'float32');
  const { ptrs } = stage(args, [[floats(args, 'params', 9 * b, kernel), 'f32']], 0);
  const kernels = kernelsFor(backend);
  // Samples are independent: split over them.
  kernels.run('color_jitter_planar', [kernels.offset(x.dataId), kernels.offset(out.dataId), ptrs[0]!, b, h * w], b, { work: 60 * c * b * h * w });
  return out;
}

/** `SelfsupGrayscale`: planar RGB [3, B, H, W]; attr `applied` (one per sample). */
export function grayscaleWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.grayscale;
  const x = image(args, kernel);
  const [c, b, h, w] = x.shape;
  if (c !== 3) throw new BackendError(`${kernel}: planar RGB images [3, B, H, W] expected, got ${c} channels`);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([c, b, h, w], 'float32');
  const { ptrs } = stage(args, [[floats(args, 'applied', b, kernel), 'f32']], 0);
  const kernels = kernelsFor(backend);
  kernels.run('grayscale_planar', [kernels.offset(x.dataId), kernels.offset(out.dataId), ptrs[0]!, b, h * w], b, { work: 4 * c * b * h * w });
  return out;
}

/** `SelfsupGaussianBlur`: planar [C, B, H, W]; attrs `kernelSize` k, `taps` (B·k), `applied` (B). */
export function gaussianBlurWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.gaussianBlur;
  const x = image(args, kernel);
  const [c, b, h, w] = x.shape;
  const k = args.attrs?.['kernelSize'] as number;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([c, b, h, w], 'float32');
  const kernels = kernelsFor(backend);
  const { ptrs } = stage(args, [[floats(args, 'taps', b * k, kernel), 'f32'], [floats(args, 'applied', b, kernel), 'f32']], 0);
  kernels.run(
    'gaussian_blur_planar',
    [kernels.offset(x.dataId), kernels.offset(out.dataId), ptrs[0]!, ptrs[1]!, THREAD_SCRATCH, c, b, h, w, k],
    b,
    { work: 4 * k * c * b * h * w, threadScratch: kernels.exports.gaussian_blur_planar_scratch(h, w) },
  );
  return out;
}

/** `SelfsupResample`: planar [C, B, H, W] → [C, B, outHeight, outWidth]; attrs `index` (int pairs), `fraction`. */
export function resampleWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = FUSED.resample;
  const x = image(args, kernel);
  const [c, b, h, w] = x.shape;
  const oh = args.attrs?.['outHeight'] as number;
  const ow = args.attrs?.['outWidth'] as number;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([c, b, oh, ow], 'float32');
  const kernels = kernelsFor(backend);
  const { ptrs } = stage(
    args,
    [[floats(args, 'index', 2 * b * (oh + ow), kernel), 'i32'], [floats(args, 'fraction', b * (oh + ow), kernel), 'f32']],
    0,
  );
  // Work units: the c × b planes.
  kernels.run(
    'resample_planar',
    [kernels.offset(x.dataId), kernels.offset(out.dataId), ptrs[0]!, ptrs[1]!, THREAD_SCRATCH, c, b, h, w, oh, ow],
    c * b,
    { work: 4 * c * b * (oh * w + oh * ow), threadScratch: kernels.exports.resample_planar_scratch(oh, w) },
  );
  return out;
}
