/**
 * The forward convolution on the wasm backend (src/kernels/c/conv2d_forward.c):
 * `Conv2D` and `FusedConv2D` (tfjs-layers' Conv2D layer runs the latter) as
 * im2col blocks times the packed filter with the register tile of selfsup's
 * other GEMMs, bias and activation applied before the output is stored.
 * From 8 input channels up it is faster than tfjs-backend-wasm's XNNPACK
 * convolution on every training shape measured (0.64–0.84× its time with
 * 32–128 channels, docs/backends.md), and it runs the relaxed-SIMD build where
 * the runtime has it; with fewer channels (an image's first layer) XNNPACK's
 * direct convolution is faster and keeps the call. NCHW, and fused
 * activations other than linear, relu and relu6 (or a PReLU weight), go to
 * tfjs's kernel too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convFlops, convInfo, geometry } from './conv-backprop-wasm.js';
import { kernelsFor, THREAD_SCRATCH, type KernelInstance, type WasmBackendLike } from './wasm-runtime.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/** Input channels from which selfsup's GEMM beats XNNPACK (1–3 channels: 1.1–1.9× slower; 32+: faster). */
const MIN_CHANNELS = 8;

function ready(backend: WasmBackendLike): KernelInstance | null {
  try {
    return kernelsFor(backend);
  } catch {
    return null;
  }
}

/** The tfjs kernel function for `Conv2D` (fused = false) or `FusedConv2D`, with `fallback` for what it does not cover. */
export function conv2dForwardWasm(fallback: tf.KernelFunc, fused: boolean): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const attrs = args.attrs ?? {};
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const format = attrs['dataFormat'];
    const activation = ACTIVATIONS[fused ? ((attrs['activation'] as string | undefined) ?? 'linear') : 'linear'];
    const co = filter?.shape[3];
    const ok =
      x !== undefined && filter !== undefined && x.dtype === 'float32' && filter.dtype === 'float32' &&
      x.shape.length === 4 && filter.shape.length === 4 && x.shape[3]! >= MIN_CHANNELS && (format === undefined || format === 'NHWC' || format === 'channelsLast') &&
      activation !== undefined && preluActivationWeights === undefined &&
      (bias === undefined || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === co && bias.shape.at(-1) === co));
    const backend = args.backend as WasmBackendLike;
    // (FusedConv2D's wrapper is installed before the module loads, and stays if it cannot: then tfjs's kernel runs.)
    const k = ok ? ready(backend) : null;
    if (!ok || k === null) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const info = convInfo(x.shape, filter.shape, attrs, false);
    const out = backend.makeOutput([...info.outShape], 'float32');
    const e = k.exports;
    const [kh, kw, c] = [info.filterHeight, info.filterWidth, info.inChannels];
    const packed = k.scratch(e.conv2d_forward_packed_floats(kh, kw, c, info.outChannels) * 4);
    e.conv2d_forward_pack(k.offset(filter.dataId), packed, kh * kw * c, info.outChannels);
    // Output pixels split over the threads, each with its own im2col block (any split gives the same bits).
    const m = info.batchSize * info.outHeight * info.outWidth;
    k.run(
      'conv2d_forward',
      [k.offset(x.dataId), packed, bias ? k.offset(bias.dataId) : 0, k.offset(out.dataId), THREAD_SCRATCH,
        ...geometry(info, info.outChannels), activation],
      m,
      { work: convFlops(info), grain: 4, threadScratch: e.conv2d_forward_block_floats(kh, kw, c) * 4 },
    );
    return out;
  };
}
