/**
 * Gradients through the registered kernels: selfsup's Conv2D and
 * DepthwiseConv2dNative gradients (dilation > 1 included) on cpu and wasm,
 * against PyTorch (float64 fixture) and central differences; and the
 * registration order guarantees.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { registerTrainingKernels, trainingGradientsInstalled } from '../../src/kernels/register.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectNoLeak } from '../helpers/numerics.js';

interface FixtureCase {
  name: string;
  op: 'conv2d' | 'depthwiseConv2d';
  xShape: number[];
  filterShape: number[];
  dilations: [number, number];
  pad: 'same' | 'valid';
  yShape: number[];
  x: number[];
  filter: number[];
  dy: number[];
  dx: number[];
  dfilter: number[];
}

const fixture = loadFixture<{ cases: FixtureCase[] }>('conv-dilated');

function conv(op: FixtureCase['op'], x: tf.Tensor4D, w: tf.Tensor4D, strides: number | [number, number], pad: 'same' | 'valid', dilations: [number, number]) {
  return op === 'conv2d'
    ? tf.conv2d(x, w, strides, pad, 'NHWC', dilations)
    : tf.depthwiseConv2d(x, w, strides, pad, 'NHWC', dilations);
}

describeBackends('convolution gradients', (backend) => {
  for (const c of fixture.cases) {
    it(`${c.name} matches PyTorch`, () => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const w = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const dy = tf.tensor4d(c.dy, c.yShape as [number, number, number, number]);
      const f = (xx: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(tf.mul(conv(c.op, xx as tf.Tensor4D, ww as tf.Tensor4D, 1, c.pad, c.dilations), dy));
      const [dx, dw] = expectNoLeak(() => tf.grads(f)([x, w]));
      expectClose(dx!, c.dx, { rtol: 1e-4, atol: 1e-4, label: `${backend} dx` });
      expectClose(dw!, c.dfilter, { rtol: 1e-4, atol: 1e-4, label: `${backend} dfilter` });
      tf.dispose([x, w, dy, dx, dw]);
    });
  }

  const seeded = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

  it('conv2d stride 2 passes a finite-difference check', () => {
    const x = seeded([2, 7, 9, 3], 1);
    const w = seeded([3, 3, 3, 5], 2);
    const g = seeded([2, 4, 5, 5], 3);
    checkGradients((xx, ww) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'), g)), [x, w]);
    tf.dispose([x, w, g]);
  });

  it('dilated conv2d passes a finite-difference check', () => {
    const x = seeded([1, 8, 7, 2], 4);
    const w = seeded([3, 2, 2, 3], 5);
    const g = seeded([1, 4, 5, 3], 6);
    checkGradients((xx, ww) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid', 'NHWC', [2, 2]), g)), [x, w]);
    tf.dispose([x, w, g]);
  });

  it('dilated depthwise conv with multiplier 2 passes a finite-difference check', () => {
    const x = seeded([1, 7, 7, 3], 7);
    const w = seeded([3, 3, 3, 2], 8);
    const g = seeded([1, 7, 7, 6], 9);
    checkGradients(
      (xx, ww) => tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same', 'NHWC', [2, 2]), g)),
      [x, w],
    );
    tf.dispose([x, w, g]);
  });

  for (const c of fixture.cases.filter((f) => f.op === 'conv2d')) {
    it(`${c.name} through tf.fused.conv2d (with bias) matches PyTorch`, () => {
      const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
      const w = tf.tensor4d(c.filter, c.filterShape as [number, number, number, number]);
      const bias = tf.zeros([c.filterShape[3]!]);
      const dy = tf.tensor4d(c.dy, c.yShape as [number, number, number, number]);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: 1, pad: c.pad, dilations: c.dilations }), dy));
      const [dx, dw, db] = expectNoLeak(() => tf.grads(f)([x, w, bias]));
      expectClose(dx!, c.dx, { rtol: 1e-4, atol: 1e-4, label: `${backend} dx` });
      expectClose(dw!, c.dfilter, { rtol: 1e-4, atol: 1e-4, label: `${backend} dfilter` });
      expectClose(db!, tf.sum(dy, [0, 1, 2]), { rtol: 1e-5, atol: 1e-4, label: `${backend} dbias` });
      tf.dispose([x, w, bias, dy, dx, dw, db]);
    });
  }

  it(backend === 'wasm'
    ? 'gives undilated fused convolutions selfsup\'s gradient (fused bias + ReLU, lazy input gradient)'
    : 'leaves the gradient of undilated fused convolutions to tfjs', async () => {
    const x = seeded([1, 5, 5, 2], 12);
    const w = seeded([3, 3, 2, 2], 13);
    tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, dilations: 2, pad: 'same' })))(x));
    expect(tf.getGradient('fusedConv2d__op')).toBeDefined();
    tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same' })))(x));
    if (backend === 'wasm') {
      expect(tf.getGradient('fusedConv2d__op')).toBeDefined();
      // Only the filter's gradient is asked for: no input gradient is computed.
      const profile = await tf.profile(() =>
        tf.tidy(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 1, pad: 'same' })))(w)),
      );
      expect(profile.kernelNames).toContain('Conv2DBackpropFilter');
      expect(profile.kernelNames).not.toContain('Conv2DBackpropInput');
    } else {
      expect(tf.getGradient('fusedConv2d__op')).toBeUndefined();
    }
    tf.dispose([x, w]);
  });

  it('second derivatives through conv2d still work', () => {
    const x = seeded([1, 5, 5, 2], 10);
    const w = seeded([3, 3, 2, 2], 11);
    // d/dw of ||d/dx sum(conv(x, w)^2)||^2 needs the gradient of Conv2DBackpropInput.
    const outer = tf.grad((ww: tf.Tensor) =>
      tf.sum(tf.square(tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'))))(x))),
    );
    const g = outer(w);
    expect(g.shape).toEqual([3, 3, 2, 2]);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, w, g]);
  });
});

describe('gradient registration', () => {
  it('useBackend installs selfsup\'s convolution gradients after tfjs-layers\' ones', async () => {
    await useBackend('wasm');
    expect(trainingGradientsInstalled()).toBe(true);
    // The modules that register tfjs-core's gradients run once: importing them again changes nothing.
    await import('@tensorflow/tfjs-layers');
    expect(trainingGradientsInstalled()).toBe(true);
  });

  it('registerTrainingKernels restores them when something registered over them', async () => {
    const previous = tf.getGradient('Conv2D')!;
    tf.registerGradient({ ...previous }); // as a later first import of @tensorflow/tfjs would
    expect(trainingGradientsInstalled()).toBe(false);
    await registerTrainingKernels('cpu');
    expect(trainingGradientsInstalled()).toBe(true);
  });

  it('reports the kernels per backend', async () => {
    expect(await registerTrainingKernels('cpu')).toEqual(['FusedConv2D']);
    const wasm = await registerTrainingKernels('wasm');
    expect(wasm).toContain('Conv2DBackpropFilter');
    expect(await registerTrainingKernels('wasm')).toEqual(wasm);
  });
});
