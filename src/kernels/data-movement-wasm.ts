/**
 * Kernels that tfjs-backend-wasm implements with a needless copy or
 * transpose, which a training step pays on every large activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernelsFor, type WasmBackendLike } from './wasm-runtime.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * `Identity` without the copy. tfjs clones every tensor it saves for the
 * backward pass (`engine.clone` runs Identity) and tfjs-backend-wasm's
 * Identity copies the whole buffer, ~5 ms per 32 MB activation here. Tensors
 * are immutable (variables rebind their data instead of writing it), so the
 * clone can share the buffer with a reference count, as tfjs's own Reshape on
 * wasm and Identity on cpu and webgl do.
 */
export function identityWasm(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x']!;
  (args.backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** `Cast` to the dtype a tensor already has shares it (tfjs's wasm Cast copies; the Relu gradient casts float32 to float32). */
export function castWasm(fallback: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs['x']!;
    if (args.attrs?.['dtype'] === x.dtype && x.dtype !== 'string') return identityWasm(args);
    return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  };
}

/**
 * `Sum` over leading axes (the bias gradient of every conv and dense layer:
 * dy [n, h, w, c] summed over n, h, w) without tfjs-backend-wasm's transpose
 * of the whole input; other reductions go to tfjs's kernel.
 */
export function sumWasm(fallback: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs['x']!;
    const axes = tf.util.parseAxisParam(args.attrs?.['axis'] as number | number[], x.shape);
    const sorted = [...new Set(axes)].sort((a, b) => a - b);
    const leading = sorted.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading || sorted.length === 0 || sorted.length === x.shape.length) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const k = sorted.length;
    const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    const trailing = x.shape.slice(k);
    const cols = trailing.reduce((a, b) => a * b, 1);
    const outShape = args.attrs?.['keepDims'] ? [...x.shape.slice(0, k).map(() => 1), ...trailing] : trailing;
    const backend = args.backend as WasmBackendLike;
    const kernels = kernelsFor(backend);
    const out = backend.makeOutput(outShape, 'float32');
    kernels.exports.sum_leading_axes(kernels.offset(x.dataId), kernels.offset(out.dataId), rows, cols);
    return out;
  };
}

/**
 * `BatchMatMul` / `_FusedMatMul` with transpose flags: tfjs-backend-wasm
 * multiplies a transposed operand ~10× slower (2.5 vs 30 GFLOP/s measured for
 * 256×128·128×128) than it transposes it explicitly and multiplies untransposed,
 * and matMul's own gradient uses the flags. So a flagged operand is
 * transposed by tfjs's Transpose kernel into a temporary first.
 */
export function matMulWasm(fallback: tf.KernelFunc, transpose: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const attrs = args.attrs ?? {};
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = args.backend as { disposeData(dataId: object): void };
    const temporaries: tf.TensorInfo[] = [];
    const swapLastTwo = (t: tf.TensorInfo): tf.TensorInfo => {
      const rank = t.shape.length;
      const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
      const out = transpose({ inputs: { x: t }, backend: args.backend as tf.KernelBackend, attrs: { perm } }) as tf.TensorInfo;
      temporaries.push(out);
      return out;
    };
    const inputs = { ...args.inputs };
    if (transposeA) inputs['a'] = swapLastTwo(args.inputs['a']!);
    if (transposeB) inputs['b'] = swapLastTwo(args.inputs['b']!);
    try {
      return fallback({
        inputs,
        backend: args.backend as tf.KernelBackend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/** `SelfsupReluGrad`: dy * step(x) in one pass (see activation-gradients.ts). */
export function reluGradWasm(args: KernelArgs): tf.TensorInfo {
  const dy = args.inputs['dy']!;
  const x = args.inputs['x']!;
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([...x.shape], 'float32');
  kernels.exports.relu_grad(kernels.offset(dy.dataId), kernels.offset(x.dataId), kernels.offset(out.dataId), tf.util.sizeFromShape(x.shape));
  return out;
}
