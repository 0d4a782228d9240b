/**
 * selfsup's wasm convolution-gradient kernels, called directly, against a
 * float64 reference written from the definition (all strides, dilations and
 * paddings) and, where tfjs's cpu kernels are correct (dilation 1), against the
 * cpu backend's result. Channel counts and widths are chosen to hit the SIMD
 * tails (C = 1, 3, 5, 17; widths not multiples of 4) and the block boundaries
 * of the GEMMs (M over one block, rows not a multiple of 4).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { filterGradRef, geometry, inputGradRef, values } from './conv-reference.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  /** Output channels (conv2d) or channel multiplier (depthwise). */
  co: number;
  s: [number, number];
  d: [number, number];
  pad: Pad;
}

const CONV_CASES: Case[] = [
  { x: [2, 5, 7, 3], k: [3, 3], co: 5, s: [1, 1], d: [1, 1], pad: 'same' },
  { x: [3, 16, 16, 4], k: [3, 3], co: 8, s: [1, 1], d: [1, 1], pad: 'same' }, // M = 768: two filter-gradient blocks
  { x: [2, 9, 11, 17], k: [3, 3], co: 13, s: [2, 2], d: [1, 1], pad: 'same' },
  { x: [1, 8, 10, 1], k: [2, 3], co: 1, s: [2, 1], d: [1, 1], pad: 'valid' },
  { x: [2, 9, 11, 8], k: [5, 5], co: 12, s: [3, 3], d: [1, 1], pad: 2 },
  { x: [1, 6, 7, 6], k: [3, 3], co: 9, s: [2, 2], d: [1, 1], pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { x: [2, 6, 6, 7], k: [1, 1], co: 3, s: [2, 2], d: [1, 1], pad: 'valid' }, // dx pixels no output reads stay 0
  { x: [2, 5, 5, 64], k: [3, 3], co: 20, s: [1, 1], d: [1, 1], pad: 'same' }, // K = 576, M = 50: row tail of the input GEMM
  { x: [2, 7, 9, 5], k: [3, 3], co: 16, s: [1, 1], d: [2, 2], pad: 'same' },
  { x: [1, 9, 10, 3], k: [3, 2], co: 4, s: [1, 1], d: [2, 3], pad: 'valid' },
  { x: [1, 11, 9, 2], k: [3, 3], co: 3, s: [2, 2], d: [2, 2], pad: 'same' }, // stride and dilation together (tfjs ops forbid it; the kernel handles it)
  // First layers (c ≤ 3, co a multiple of 8) take the filter gradient's im2col-free path.
  { x: [2, 9, 11, 3], k: [3, 3], co: 16, s: [1, 1], d: [1, 1], pad: 'same' },
  { x: [3, 7, 7, 3], k: [3, 3], co: 32, s: [2, 1], d: [1, 1], pad: 'same' },
  { x: [2, 10, 9, 1], k: [5, 5], co: 8, s: [2, 2], d: [1, 1], pad: 2 },
  { x: [1, 9, 10, 2], k: [3, 3], co: 8, s: [1, 1], d: [2, 2], pad: 'valid' },
];

const DEPTHWISE_CASES: Case[] = [
  { x: [2, 5, 7, 3], k: [3, 3], co: 1, s: [1, 1], d: [1, 1], pad: 'same' },
  { x: [2, 9, 11, 17], k: [3, 3], co: 1, s: [2, 2], d: [1, 1], pad: 'same' },
  { x: [1, 8, 10, 20], k: [3, 3], co: 1, s: [1, 1], d: [1, 1], pad: 'valid' },
  { x: [2, 7, 9, 5], k: [3, 3], co: 2, s: [1, 1], d: [2, 2], pad: 'same' },
  { x: [1, 9, 10, 3], k: [2, 3], co: 3, s: [2, 1], d: [1, 1], pad: 'valid' },
  { x: [2, 9, 11, 4], k: [5, 5], co: 1, s: [3, 3], d: [1, 1], pad: 2 },
  { x: [1, 10, 9, 1], k: [3, 3], co: 1, s: [1, 1], d: [3, 2], pad: 'valid' },
];

const label = (c: Case) =>
  `x [${c.x}] k ${c.k.join('x')} ${c.co} s ${c.s} d ${c.d} pad ${JSON.stringify(c.pad)}`;
const dilated = (c: Case) => c.d[0] > 1 || c.d[1] > 1;

function runOn(backend: string, kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  const previous = tf.getBackend();
  void tf.setBackend(backend); // synchronous for an initialised backend
  expect(tf.getBackend()).toBe(backend);
  const moved = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape)]));
  const out = tf.engine().runKernel(kernel, moved, attrs as tf.NamedAttrMap) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  tf.dispose([out, ...Object.values(moved)]);
  void tf.setBackend(previous);
  return data;
}

function check(kind: 'conv2d' | 'depthwise', c: Case): void {
  const depthwise = kind === 'depthwise';
  const filterShape = [c.k[0], c.k[1], c.x[3], c.co];
  const g = geometry(c.x, filterShape, c.s, c.d, c.pad, depthwise);
  const yShape = [g.n, g.oh, g.ow, depthwise ? g.c * g.co : g.co];
  const x = tf.tensor4d(values(tf.util.sizeFromShape(c.x), 1), c.x);
  const w = tf.tensor4d(values(tf.util.sizeFromShape(filterShape), 2), filterShape as [number, number, number, number]);
  const dy = tf.tensor4d(values(tf.util.sizeFromShape(yShape), 3), yShape as [number, number, number, number]);
  const filterKernel = depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
  const inputKernel = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
  const base = { strides: c.s, pad: c.pad, dilations: c.d, dataFormat: 'NHWC' };
  const filterAttrs = { ...base, filterShape };
  const inputAttrs = { ...base, inputShape: c.x };

  const dw = expectNoLeak(() => tf.engine().runKernel(filterKernel, { x, dy }, filterAttrs as tf.NamedAttrMap) as tf.Tensor);
  const dx = expectNoLeak(() => tf.engine().runKernel(inputKernel, { dy, filter: w }, inputAttrs as tf.NamedAttrMap) as tf.Tensor);
  expect(dw.shape).toEqual(filterShape);
  expect(dx.shape).toEqual(c.x);
  const tol = { rtol: 1e-4, atol: 1e-4 };
  expectClose(dw, filterGradRef(g, x.dataSync(), dy.dataSync()), { ...tol, label: `${filterKernel} vs reference` });
  expectClose(dx, inputGradRef(g, w.dataSync(), dy.dataSync()), { ...tol, label: `${inputKernel} vs reference` });
  // tfjs's cpu kernels ignore dilation and have no stride+dilation case; where they apply they are the oracle.
  if (!dilated(c)) {
    expectClose(dw, runOn('cpu', filterKernel, { x, dy }, filterAttrs), { ...tol, label: `${filterKernel} vs cpu` });
    expectClose(dx, runOn('cpu', inputKernel, { dy, filter: w }, inputAttrs), { ...tol, label: `${inputKernel} vs cpu` });
  }
  tf.dispose([x, w, dy, dw, dx]);
}

describe('wasm convolution-gradient kernels', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(
      expect.arrayContaining([
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
      ]),
    );
  });

  for (const c of CONV_CASES) it(`Conv2DBackpropFilter/Input ${label(c)}`, () => check('conv2d', c));
  for (const c of DEPTHWISE_CASES) it(`DepthwiseConv2dNativeBackpropFilter/Input ${label(c)}`, () => check('depthwise', c));

  it('handles a batch of zero images', () => {
    const x = tf.zeros([0, 5, 5, 3]);
    const dy = tf.zeros([0, 5, 5, 4]);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', filterShape: [3, 3, 3, 4] }) as tf.Tensor;
    expect(Array.from(dw.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([x, dy, dw]);
  });

  it('rejects NCHW filter gradients with a clear error', () => {
    const x = tf.zeros([1, 3, 5, 5]);
    const dy = tf.zeros([1, 4, 5, 5]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] }),
    ).toThrow("Conv2DBackpropFilter: selfsup's wasm kernel supports dataFormat 'NHWC' only, got 'NCHW'");
    tf.dispose([x, dy]);
  });

  it('keeps results right when the wasm memory grows between calls', () => {
    const c: Case = { x: [2, 9, 11, 17], k: [3, 3], co: 13, s: [2, 2], d: [1, 1], pad: 'same' };
    check('conv2d', c);
    // A 64 MB tensor makes the backend grow its memory, detaching every old view of it.
    const big = tf.zeros([16, 1024, 1024]);
    check('conv2d', c);
    check('depthwise', c);
    big.dispose();
  });
});
