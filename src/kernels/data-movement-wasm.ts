/**
 * Kernels that tfjs-backend-wasm implements with a needless copy or
 * transpose, which a training step pays on every large activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernelsFor, THREAD_SCRATCH, type WasmBackendLike } from './wasm-runtime.js';

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
 * `Sum` (or `Mean`) over leading axes (the bias gradient of every conv and
 * dense layer: dy [n, h, w, c] summed over n, h, w; batch-norm statistics)
 * without tfjs-backend-wasm's transpose of the whole input; other reductions
 * go to tfjs's kernel.
 */
export function sumWasm(fallback: tf.KernelFunc, mean = false): (args: KernelArgs) => tf.TensorInfo {
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
    // Blocks of rows are summed (in parallel) into partials, which one thread adds up in block order.
    const blocks = Math.ceil(rows / kernels.exports.sum_block_rows(cols));
    const partials = kernels.scratch(blocks * cols * 4);
    kernels.run('sum_leading_axes_blocks', [kernels.offset(x.dataId), partials, rows, cols], blocks, { work: rows * cols });
    kernels.exports.sum_leading_axes_total(partials, kernels.offset(out.dataId), blocks, cols, mean ? 1 / rows : 1);
    return out;
  };
}

/**
 * float32 products with selfsup's GEMM (a transposed b handled by its
 * packing, a transposed a by its addressing, k in L2-sized blocks): about
 * 1.2–1.5× tfjs's XNNPACK product for one matrix and 5–10× for batches of
 * small ones (attention heads), which tfjs-backend-wasm runs at ~2 GFLOP/s.
 * Returns null for what it does not cover (non-float32, batch dims neither
 * equal nor 1).
 */
function batchMatMul(args: KernelArgs, transA: boolean, transB: boolean): tf.TensorInfo | null {
  const a = args.inputs['a']!;
  const b = args.inputs['b']!;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  // Leading axes fold into one batch axis (attention's [B, heads, T, d] products arrive as rank 4).
  const lead = (t: tf.TensorInfo) => t.shape.slice(0, -2);
  const [leadA, leadB] = [lead(a), lead(b)];
  const batchA = leadA.reduce((x, y) => x * y, 1);
  const batchB = leadB.reduce((x, y) => x * y, 1);
  const sameLead = leadA.length === leadB.length && leadA.every((d, i) => d === leadB[i]);
  if (!(sameLead || batchA === 1 || batchB === 1)) return null;
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ca, ra] : [ra, ca];
  const [kb, n] = transB ? [cb, rb] : [rb, cb];
  if (k !== kb) return null;
  const backend = args.backend as WasmBackendLike;
  // A transposed a is read in place with a stride of m floats per step of k: with k in 256-row blocks that stays in
  // L2 and beat transposing it first (xᵀ·dy of a dense layer's weight gradient: 4.2–4.4 vs 4.5–5.7 ms measured).
  // tfjs's output shape: the batch axes of the operand that has them (both alike, or the longer).
  const batchDims = batchA === 1 && batchB !== 1 ? leadB : batchB === 1 && batchA !== 1 ? leadA : leadA.length >= leadB.length ? leadA : leadB;
  const out = backend.makeOutput([...batchDims, m, n], 'float32');
  const kernels = kernelsFor(backend);
  const batch = Math.max(batchA, batchB);
  kernels.run(
    'batch_matmul',
    [kernels.offset(a.dataId), kernels.offset(b.dataId), kernels.offset(out.dataId), THREAD_SCRATCH, batchA, batchB, m, k, n, transA ? 1 : 0, transB ? 1 : 0],
    kernels.exports.batch_matmul_units(batchA, batchB, m, k, n),
    { work: 2 * batch * m * n * k, threadScratch: kernels.exports.batch_matmul_scratch(k, n) },
  );
  return out;
}

/**
 * `BatchMatMul`, and `_FusedMatMul` without bias and activation, run
 * selfsup's GEMM. `_FusedMatMul` with transpose flags: tfjs-backend-wasm
 * multiplies a transposed operand ~10× slower (2.5 vs 30 GFLOP/s measured for
 * 256×128·128×128) than it transposes it explicitly and multiplies untransposed,
 * and matMul's own gradient uses the flags. So a flagged operand is
 * transposed by tfjs's Transpose kernel into a temporary first.
 */
export function matMulWasm(fallback: tf.KernelFunc, transpose: tf.KernelFunc, batched = false): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const attrs = args.attrs ?? {};
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    // A fused product without bias or activation is a plain product: selfsup's GEMM is ~1.5× XNNPACK's on a
    // dense layer's shapes (512·512·512: 38–43 vs ~25 GFLOP/s measured in a training step's profile).
    const plain = !args.inputs['bias'] && !args.inputs['preluActivationWeights'] &&
      ((attrs['activation'] as string | undefined) ?? 'linear') === 'linear';
    if (batched || plain) {
      const out = batchMatMul(args, !!transposeA, !!transposeB);
      if (out) return out;
    }
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
  const size = tf.util.sizeFromShape(x.shape);
  kernels.run('relu_grad', [kernels.offset(dy.dataId), kernels.offset(x.dataId), kernels.offset(out.dataId)], size, { work: size, grain: 1024 });
  return out;
}

/**
 * `Tile` of float32 tensors up to rank 6 by block copies (tfjs-backend-wasm
 * computes a source index per element: ~360 ms to tile a batch-norm scale
 * [1, 1, 1, 32] over a 128×32×32×32 activation in its gradient).
 */
export function tileWasm(fallback: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs['x']!;
    const reps = args.attrs?.['reps'] as number[];
    if (x.dtype !== 'float32' || x.shape.length > 6 || reps.length !== x.shape.length) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const pad = 6 - x.shape.length;
    const dims = [...Array<number>(pad).fill(1), ...x.shape];
    const r = [...Array<number>(pad).fill(1), ...reps];
    const backend = args.backend as WasmBackendLike;
    const kernels = kernelsFor(backend);
    const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]!), 'float32');
    kernels.exports.tile6(kernels.offset(x.dataId), kernels.offset(out.dataId), ...dims, ...r);
    return out;
  };
}

function poolInfo(x: tf.TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs['filterSize'] as number | [number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
}

function poolGeometry(info: tf.backend_util.Conv2DInfo): [number, number, number, number, number, number, number, number, number, number, number, number] {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
}

/** Window reads of a pooling gradient. */
function poolWork(info: tf.backend_util.Conv2DInfo): number {
  return info.batchSize * info.outHeight * info.outWidth * info.inChannels * info.filterHeight * info.filterWidth;
}

/** `MaxPoolGrad` vectorised over channels (tfjs-backend-wasm's runs ~55× its forward pass). */
export function maxPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs ?? {});
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([...input.shape], 'float32');
  // Split over images: their dx never overlap.
  kernels.run(
    'max_pool_grad',
    [kernels.offset(input.dataId), kernels.offset(dy.dataId), kernels.offset(out.dataId), ...poolGeometry(info)],
    info.batchSize,
    { work: poolWork(info) },
  );
  return out;
}

/** `AvgPoolGrad` vectorised over channels (tfjs's semantics: divided by the full window size, also at padded borders). */
export function avgPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs ?? {});
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const out = backend.makeOutput([...input.shape], 'float32');
  kernels.run('avg_pool_grad', [kernels.offset(dy.dataId), kernels.offset(out.dataId), ...poolGeometry(info)], info.batchSize, {
    work: poolWork(info),
  });
  return out;
}

/** `Transpose` of rank 5–6 float32 tensors (tfjs-backend-wasm's runs at ~20 M elements/s there; lower ranks are fast and stay tfjs's). */
export function transposeWasm(fallback: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs['x']!;
    const perm = args.attrs?.['perm'] as number[];
    if (x.dtype !== 'float32' || x.shape.length < 5 || x.shape.length > 6) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const pad = 6 - x.shape.length;
    const dims = [...Array<number>(pad).fill(1), ...x.shape];
    const p = [...Array.from({ length: pad }, (_, i) => i), ...perm.map((a) => a + pad)];
    const backend = args.backend as WasmBackendLike;
    const kernels = kernelsFor(backend);
    const out = backend.makeOutput(perm.map((a) => x.shape[a]!), 'float32');
    kernels.exports.transpose6(kernels.offset(x.dataId), kernels.offset(out.dataId), ...dims, ...p);
    return out;
  };
}
