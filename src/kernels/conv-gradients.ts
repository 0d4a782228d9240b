/**
 * Replacement gradients for tfjs-core's `Conv2D` and `DepthwiseConv2dNative`
 * kernels that also work for dilation rates > 1, which tfjs-core's own
 * gradients refuse on every backend ("dilation rates greater than 1 are not
 * yet supported in gradients").
 *
 * A gradient registered with `tf.registerGradient` is global, so these must be
 * right on every backend:
 * - dilation 1: exactly tfjs-core's gradient (the Conv2DBackpropInput/Filter
 *   and DepthwiseConv2dNativeBackprop* kernels of the active backend);
 * - dilation > 1 on a backend where selfsup's kernels are registered (wasm):
 *   the same kernels with a `dilations` attribute, which selfsup's kernels
 *   honour natively;
 * - dilation > 1 elsewhere (cpu, webgl, ...): a dilated convolution equals an
 *   undilated one with the zero-interleaved ("dilated") filter of size
 *   (k − 1)·d + 1, so dx is the undilated input gradient with that filter, and
 *   dW is the undilated filter gradient for that size sampled every d taps.
 *   (tfjs requires stride 1 whenever dilation > 1, so no stride interacts.)
 *   The cpu backend's depthwise backprop kernels take a `dilations` attribute
 *   but ignore it in their loops, so they are only ever called undilated.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];

/** A dilation (or stride) attribute as a pair: tfjs allows a number, a pair, or nothing (1). */
export function pair(v: unknown): Pair {
  if (v == null) return [1, 1];
  if (typeof v === 'number') return [v, v];
  const [a, b] = v as number[];
  return [a ?? 1, b ?? a ?? 1];
}

/** Whether the kernel `kernelName` on the active backend is selfsup's (and so honours `dilations`). */
export type NativeDilationCheck = (kernelName: string) => boolean;

/**
 * [kh, kw, c, o] → [(kh − 1)·dh + 1, (kw − 1)·dw + 1, c, o] with zeros between taps:
 * an undilated filter that computes the same convolution as `filter` dilated by (dh, dw).
 */
function dilateFilter(filter: tf.Tensor4D, [dh, dw]: Pair): tf.Tensor4D {
  const [kh, kw, c, o] = filter.shape;
  const spread = tf.pad(tf.reshape(filter, [kh, 1, kw, 1, c, o]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, c, o]) as tf.Tensor4D, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c, o]);
}

/** Every d-th tap of a gradient computed for the dilated filter: the gradient of the original taps. */
function undilateFilterGrad(grad: tf.Tensor4D, [dh, dw]: Pair): tf.Tensor4D {
  return tf.stridedSlice(grad, [0, 0, 0, 0], grad.shape, [dh, dw, 1, 1]) as tf.Tensor4D;
}

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor4D;
}

interface ConvAttrs {
  strides: unknown;
  pad: unknown;
  dataFormat?: unknown;
  dimRoundingMode?: unknown;
  dilations: Pair;
}

/** dL/dx of conv2d(x, filter) for upstream dy, any dilation, on the active backend. */
export function conv2dInputGrad(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, a: ConvAttrs, native: NativeDilationCheck): tf.Tensor4D {
  const base = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, inputShape: xShape };
  const dilated = a.dilations[0] > 1 || a.dilations[1] > 1;
  if (!dilated) return runKernel('Conv2DBackpropInput', { dy, filter }, base);
  if (native('Conv2DBackpropInput')) return runKernel('Conv2DBackpropInput', { dy, filter }, { ...base, dilations: a.dilations });
  return runKernel('Conv2DBackpropInput', { dy, filter: dilateFilter(filter, a.dilations) }, base);
}

/** dL/dfilter of conv2d(x, filter) for upstream dy, any dilation, on the active backend. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], a: ConvAttrs, native: NativeDilationCheck): tf.Tensor4D {
  const base = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
  const dilated = a.dilations[0] > 1 || a.dilations[1] > 1;
  if (!dilated) return runKernel('Conv2DBackpropFilter', { x, dy }, { ...base, filterShape });
  if (native('Conv2DBackpropFilter')) return runKernel('Conv2DBackpropFilter', { x, dy }, { ...base, filterShape, dilations: a.dilations });
  const [kh, kw, c, o] = filterShape as [number, number, number, number];
  const big = runKernel('Conv2DBackpropFilter', { x, dy }, {
    ...base,
    filterShape: [(kh - 1) * a.dilations[0] + 1, (kw - 1) * a.dilations[1] + 1, c, o],
  });
  return undilateFilterGrad(big, a.dilations);
}

function convAttrs(attrs: unknown): ConvAttrs {
  const a = attrs as Record<string, unknown>;
  return { strides: a['strides'], pad: a['pad'], dataFormat: a['dataFormat'], dimRoundingMode: a['dimRoundingMode'], dilations: pair(a['dilations']) };
}

/** The gradient config for `Conv2D`; `native` says whether the active backend's backprop kernels are selfsup's. */
export function conv2dGradConfig(native: NativeDilationCheck): tf.GradConfig {
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = convAttrs(attrs);
      return {
        x: () => conv2dInputGrad(x.shape, dy as tf.Tensor4D, filter, a, native),
        filter: () => conv2dFilterGrad(x, dy as tf.Tensor4D, filter.shape, a, native),
      };
    },
  };
}

/** The gradient config for `DepthwiseConv2dNative` (same dispatch as {@link conv2dGradConfig}). */
export function depthwiseConv2dGradConfig(native: NativeDilationCheck): tf.GradConfig {
  return {
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, dimRoundingMode } = attrs as Record<string, unknown>;
      const dilations = pair((attrs as Record<string, unknown>)['dilations']);
      const base = { strides, pad, dimRoundingMode, dilations: [1, 1] };
      const dilated = dilations[0] > 1 || dilations[1] > 1;
      const dyT = dy as tf.Tensor4D;
      return {
        x: () => {
          const kernelAttrs = { ...base, inputShape: x.shape };
          if (!dilated) return runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyT, filter }, kernelAttrs);
          if (native('DepthwiseConv2dNativeBackpropInput')) {
            return runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyT, filter }, { ...kernelAttrs, dilations });
          }
          return runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyT, filter: dilateFilter(filter, dilations) }, kernelAttrs);
        },
        filter: () => {
          const kernelAttrs = { ...base, filterShape: filter.shape };
          if (!dilated) return runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyT }, kernelAttrs);
          if (native('DepthwiseConv2dNativeBackpropFilter')) {
            return runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyT }, { ...kernelAttrs, dilations });
          }
          const [kh, kw, c, q] = filter.shape;
          const big = runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyT }, {
            ...base,
            filterShape: [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1, c, q],
          });
          return undilateFilterGrad(big, dilations);
        },
      };
    },
  };
}
