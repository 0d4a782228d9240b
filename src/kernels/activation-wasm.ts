/**
 * Activation kernels on the wasm backend, one pass each: GELU forward and
 * backward (src/kernels/c/activation.c; selfsup's transformer blocks,
 * src/heads/transformer.ts `gelu`, use them where they are registered), and
 * the gradient of a fused bias + ReLU/ReLU6 (src/kernels/c/elementwise.c;
 * the gradient of `tf.fused.conv2d`, src/kernels/fused-conv-gradient.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { kernelsFor, type WasmBackendLike } from './wasm-runtime.js';

/** Elements per thread's share: a multiple of 4, so each element takes the same SIMD or scalar path as on one thread. */
const ELEMENT_GRAIN = 1024;
/** Channels per thread's share of the bias gradient (whole cache lines, a multiple of the SIMD width). */
const CHANNEL_GRAIN = 16;

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
  const n = tf.util.sizeFromShape(x.shape);
  k.run('gelu_forward', [k.offset(x.dataId), k.offset(out.dataId)], n, { work: 20 * n, grain: ELEMENT_GRAIN });
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
  const n = tf.util.sizeFromShape(x.shape);
  k.run('gelu_backward', [k.offset(x.dataId), k.offset(dy.dataId), k.offset(out.dataId)], n, { work: 25 * n, grain: ELEMENT_GRAIN });
  return out;
}

const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * `SelfsupBiasActivationGrad`: dy, y `[..., C]` → dz = dy·act'(y) and, with
 * attr `bias`, db = Σ dz over every axis but the last: one pass where tfjs
 * runs Step, Multiply and Sum. For `linear` dz is dy itself (shared).
 */
export function biasActivationGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED.biasActivationGrad;
  const dy = float32(args, 'dy', kernel);
  const y = float32(args, 'y', kernel);
  const code = ACTIVATION_CODES[(args.attrs?.['activation'] as string | undefined) ?? 'linear'];
  if (code === undefined) throw new BackendError(`${kernel}: activation must be linear, relu or relu6, got ${String(args.attrs?.['activation'])}`);
  if (!tf.util.arraysEqual(dy.shape, y.shape) || dy.shape.length === 0) throw new BackendError(`${kernel}: dy [${dy.shape}] and y [${y.shape}] must have one shape`);
  const withBias = args.attrs?.['bias'] === true;
  const cols = dy.shape[dy.shape.length - 1]!;
  const rows = cols === 0 ? 0 : tf.util.sizeFromShape(dy.shape) / cols;
  const backend = args.backend as WasmBackendLike & { incRef(dataId: object): void };
  const k = kernelsFor(backend);
  let dz: tf.TensorInfo;
  if (code === 0) {
    backend.incRef(dy.dataId);
    dz = { dataId: dy.dataId, shape: [...dy.shape], dtype: 'float32' };
  } else {
    dz = backend.makeOutput([...dy.shape], 'float32');
  }
  const db = withBias ? backend.makeOutput([cols], 'float32') : null;
  // Split over channels: each channel's sum keeps its order (any split gives the same bits).
  k.run('bias_activation_grad', [k.offset(dy.dataId), k.offset(y.dataId), code === 0 ? 0 : k.offset(dz.dataId), db ? k.offset(db.dataId) : 0, rows, cols, code],
    cols, { work: 2 * rows * cols, grain: CHANNEL_GRAIN });
  return db ? [dz, db] : [dz];
}

