/**
 * tfjs kernel functions for the wasm backend: the gradients of Conv2D and
 * DepthwiseConv2dNative, computed by selfsup's SIMD module (see
 * src/kernels/c/) on tfjs's own memory.
 *
 * Besides tfjs's attributes, each accepts an optional `dilations` attribute
 * (tfjs's Conv2DBackprop* kernels have none), which selfsup's replacement
 * gradients pass so that dilated convolutions train.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { kernelsFor, THREAD_SCRATCH, type WasmBackendLike } from './wasm-runtime.js';

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];
type Shape4 = [number, number, number, number];

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function input(args: KernelArgs, name: string, kernel: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new BackendError(`${kernel}: missing input '${name}'`);
  if (t.dtype !== 'float32') throw new BackendError(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  if (t.shape.length !== 4) throw new BackendError(`${kernel}: input '${name}' must be rank 4, got shape [${t.shape.join(', ')}]`);
  return t;
}

function checkNhwc(attrs: tf.NamedAttrMap, kernel: string): void {
  const format = attrs['dataFormat'];
  if (format !== undefined && format !== 'NHWC' && format !== 'channelsLast') {
    throw new BackendError(`${kernel}: selfsup's wasm kernel supports dataFormat 'NHWC' only, got '${String(format)}'`);
  }
}

function sameShape(actual: readonly number[], expected: readonly number[], what: string, kernel: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new BackendError(`${kernel}: ${what} must have shape [${expected.join(', ')}], got [${actual.join(', ')}]`);
  }
}

/** n, h, w, c, oh, ow, co (or the channel multiplier q), kh, kw, sh, sw, dh, dw, pt, pl. */
type Geometry = [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];

/** The geometry argument list shared by the module's conv functions. */
export function geometry(info: tf.backend_util.Conv2DInfo, outChannelsOrMultiplier: number): Geometry {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, outChannelsOrMultiplier,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
}

/** Multiply-adds × 2 of the convolution (about the work of either gradient, or of the forward convolution). */
export function convFlops(info: tf.backend_util.Conv2DInfo, depthwise = false): number {
  const perOutput = info.filterHeight * info.filterWidth * (depthwise ? 1 : info.inChannels);
  return 2 * info.batchSize * info.outHeight * info.outWidth * info.outChannels * perOutput;
}

export function convInfo(
  xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap, depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs['strides'] as Pair,
    (attrs['dilations'] as Pair | undefined) ?? 1,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

/** `Conv2DBackpropFilter`: dW [kh, kw, c, co] from x [n, h, w, c] and dy [n, oh, ow, co]. */
export function conv2dBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = 'Conv2DBackpropFilter';
  const attrs = args.attrs ?? {};
  checkNhwc(attrs, kernel);
  const x = input(args, 'x', kernel);
  const dy = input(args, 'dy', kernel);
  const filterShape = attrs['filterShape'] as number[];
  const info = convInfo(x.shape, filterShape, attrs, false);
  sameShape(dy.shape, info.outShape, 'dy', kernel);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...filterShape], 'float32');
  const e = k.exports;
  const { filterHeight: kh, filterWidth: kw, inChannels: c, outChannels: co } = info;
  // Split over groups of rows (or, for c <= 3, columns) of dW: each dW element is summed by one thread.
  k.run(
    'conv2d_backprop_filter',
    [k.offset(x.dataId), k.offset(dy.dataId), k.offset(out.dataId), THREAD_SCRATCH, ...geometry(info, co)],
    e.conv2d_backprop_filter_units(kh, kw, c, co),
    { work: convFlops(info), threadScratch: e.conv2d_backprop_filter_scratch(kh, kw, c, co) },
  );
  return out;
}

/** `Conv2DBackpropInput`: dx [n, h, w, c] (`inputShape`) from dy [n, oh, ow, co] and the filter [kh, kw, c, co]. */
export function conv2dBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = 'Conv2DBackpropInput';
  const attrs = args.attrs ?? {};
  checkNhwc(attrs, kernel);
  const dy = input(args, 'dy', kernel);
  const filter = input(args, 'filter', kernel);
  const inputShape = attrs['inputShape'] as number[];
  const info = convInfo(inputShape, filter.shape, attrs, false);
  sameShape(dy.shape, info.outShape, 'dy', kernel);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...inputShape], 'float32');
  const e = k.exports;
  // Split over images: their dx never overlap.
  k.run(
    'conv2d_backprop_input',
    [k.offset(dy.dataId), k.offset(filter.dataId), k.offset(out.dataId), THREAD_SCRATCH, ...geometry(info, info.outChannels)],
    info.batchSize,
    { work: convFlops(info), threadScratch: e.conv2d_backprop_input_scratch(info.filterHeight, info.filterWidth, info.inChannels, info.outChannels) },
  );
  return out;
}

/** `DepthwiseConv2dNativeBackpropFilter`: dW [kh, kw, c, q] from x [n, h, w, c] and dy [n, oh, ow, c*q]. */
export function depthwiseBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = 'DepthwiseConv2dNativeBackpropFilter';
  const attrs = args.attrs ?? {};
  checkNhwc(attrs, kernel);
  const x = input(args, 'x', kernel);
  const dy = input(args, 'dy', kernel);
  const filterShape = attrs['filterShape'] as number[];
  const info = convInfo(x.shape, filterShape, attrs, true);
  sameShape(dy.shape, info.outShape, 'dy', kernel);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...filterShape], 'float32');
  // Split over groups of input channels: each dW element is summed by one thread.
  k.run(
    'depthwise_backprop_filter',
    [k.offset(x.dataId), k.offset(dy.dataId), k.offset(out.dataId), ...geometry(info, filterShape[3]!)],
    k.exports.depthwise_backprop_filter_units(info.inChannels),
    { work: convFlops(info, true) },
  );
  return out;
}

/** `DepthwiseConv2dNativeBackpropInput`: dx [n, h, w, c] (`inputShape`) from dy [n, oh, ow, c*q] and the filter [kh, kw, c, q]. */
export function depthwiseBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = 'DepthwiseConv2dNativeBackpropInput';
  const attrs = args.attrs ?? {};
  checkNhwc(attrs, kernel);
  const dy = input(args, 'dy', kernel);
  const filter = input(args, 'filter', kernel);
  const inputShape = attrs['inputShape'] as number[];
  const info = convInfo(inputShape, filter.shape, attrs, true);
  sameShape(dy.shape, info.outShape, 'dy', kernel);
  const backend = args.backend as WasmBackendLike;
  const k = kernelsFor(backend);
  const out = backend.makeOutput([...inputShape], 'float32');
  k.run(
    'depthwise_backprop_input',
    [k.offset(dy.dataId), k.offset(filter.dataId), k.offset(out.dataId), ...geometry(info, filter.shape[3]!)],
    info.batchSize,
    { work: convFlops(info, true) },
  );
  return out;
}
