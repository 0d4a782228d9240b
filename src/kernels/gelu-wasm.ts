/**
 * GELU forward and backward on the wasm backend, one pass each
 * (src/kernels/c/activation.c); selfsup's transformer blocks
 * (src/heads/transformer.ts `gelu`) use them where they are registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { kernelsFor, type WasmBackendLike } from './wasm-runtime.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function float32(args: KernelArgs, name: string, kernel: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t || t.dtype !== 'float32') throw new BackendError(`${kernel}: input '${name}' must be a float32 tensor`);
  return t;
}

/** `SelfsupGelu`: y = x·Φ(x). */
export function geluWasm(args: KernelArgs): tf.TensorInfo {
  const x = float32(args, 'x', FUSED.gelu);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  k.exports.gelu_forward(k.offset(x.dataId), k.offset(out.dataId), 0, tf.util.sizeFromShape(x.shape));
  return out;
}

/** `SelfsupGeluGrad`: dx = dy·(Φ(x) + x·φ(x)). */
export function geluGradWasm(args: KernelArgs): tf.TensorInfo {
  const x = float32(args, 'x', FUSED.geluGrad);
  const dy = float32(args, 'dy', FUSED.geluGrad);
  if (!tf.util.arraysEqual(x.shape, dy.shape)) throw new BackendError(`${FUSED.geluGrad}: dy [${dy.shape}] must have x's shape [${x.shape}]`);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  k.exports.gelu_backward(k.offset(x.dataId), k.offset(dy.dataId), k.offset(out.dataId), 0, tf.util.sizeFromShape(x.shape));
  return out;
}
