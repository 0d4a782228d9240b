/**
 * selfsup's forward convolution on wasm (`Conv2D`, and `FusedConv2D` with a
 * bias and a linear, relu or relu6 activation): against a float64 reference
 * written from the definition (strides, dilations, every padding), against
 * the cpu backend, at channel counts and widths that leave SIMD and tile
 * tails, and with what it hands to tfjs's kernel (other activations, PReLU,
 * fewer than 8 input channels). Training through tfjs-layers' Conv2D also
 * exercises the fused bias + ReLU gradient and the lazily computed input
 * gradients (src/kernels/fused-conv-gradient.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { forwardRef, geometry, values } from './conv-reference.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  s: [number, number];
  d: [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 5, 7, 8], k: [3, 3], co: 5, s: [1, 1], d: [1, 1], pad: 'same' },
  { x: [2, 9, 11, 17], k: [3, 3], co: 13, s: [2, 2], d: [1, 1], pad: 'same' }, // column tail of the last panel
  { x: [1, 8, 10, 9], k: [2, 3], co: 1, s: [2, 1], d: [1, 1], pad: 'valid' },
  { x: [2, 9, 11, 8], k: [5, 5], co: 12, s: [3, 3], d: [1, 1], pad: 2 },
  { x: [1, 6, 7, 10], k: [3, 3], co: 9, s: [2, 2], d: [1, 1], pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { x: [2, 5, 5, 64], k: [3, 3], co: 20, s: [1, 1], d: [1, 1], pad: 'same' }, // K = 576: 28-row blocks, M = 50 (row tail)
  { x: [2, 7, 9, 11], k: [3, 3], co: 16, s: [1, 1], d: [2, 2], pad: 'same' },
  { x: [1, 9, 10, 12], k: [3, 2], co: 4, s: [1, 1], d: [2, 3], pad: 'valid' },
  { x: [3, 7, 7, 64], k: [3, 3], co: 128, s: [2, 2], d: [1, 1], pad: 'same' },
  { x: [5, 9, 9, 32], k: [3, 3], co: 64, s: [2, 2], d: [1, 1], pad: 'same' }, // M = 125 over several 56-row blocks
  { x: [1, 4, 4, 13], k: [1, 1], co: 7, s: [1, 1], d: [1, 1], pad: 'valid' },
  // Fewer than 8 input channels: tfjs's (XNNPACK's) kernel keeps the call.
  { x: [3, 28, 28, 1], k: [3, 3], co: 32, s: [2, 2], d: [1, 1], pad: 'same' },
  { x: [2, 5, 7, 3], k: [3, 3], co: 5, s: [1, 1], d: [1, 1], pad: 'same' },
];

const label = (c: Case) => `x [${c.x}] k ${c.k.join('x')} → ${c.co} s ${c.s} d ${c.d} pad ${JSON.stringify(c.pad)}`;

function onCpu(f: () => tf.Tensor): Float32Array {
  const previous = tf.getBackend();
  void tf.setBackend('cpu');
  try {
    return tf.tidy(() => f().dataSync() as Float32Array);
  } finally {
    void tf.setBackend(previous);
  }
}

describe('wasm forward convolution', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(expect.arrayContaining(['Conv2D', 'FusedConv2D']));
  });

  for (const c of CASES) {
    it(`Conv2D ${label(c)} equals the definition`, () => {
      const filterShape = [c.k[0], c.k[1], c.x[3], c.co] as [number, number, number, number];
      const x = tf.tensor4d(values(tf.util.sizeFromShape(c.x), 1), c.x);
      const w = tf.tensor4d(values(tf.util.sizeFromShape(filterShape), 2), filterShape);
      const y = expectNoLeak(() => tf.conv2d(x, w, c.s, c.pad as 'same', 'NHWC', c.d));
      const g = geometry(c.x, filterShape, c.s, c.d, c.pad, false);
      expect(y.shape).toEqual([g.n, g.oh, g.ow, g.co]);
      expectClose(y, forwardRef(g, x.dataSync(), w.dataSync()), { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([x, w, y]);
    });
  }

  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'prelu'] as const) {
    it(`FusedConv2D with a bias and ${activation} agrees with the cpu backend`, () => {
      const x = tf.tensor4d(values(2 * 9 * 11 * 10, 3).map((v) => v * 4), [2, 9, 11, 10]);
      const w = tf.tensor4d(values(3 * 3 * 10 * 11, 4), [3, 3, 10, 11]);
      const bias = tf.tensor1d(values(11, 5));
      const alpha = tf.tensor1d(values(11, 6));
      const run = () =>
        tf.fused.conv2d({ x, filter: w, strides: 2, pad: 'same', bias, activation, ...(activation === 'prelu' ? { preluActivationWeights: alpha } : {}) });
      const wasm = tf.tidy(() => run().dataSync());
      const moved = [x, w, bias, alpha].map((t) => t.dataSync().slice());
      const cpu = onCpu(() => {
        const [cx, cw, cb, ca] = [tf.tensor4d(moved[0]!, x.shape), tf.tensor4d(moved[1]!, w.shape), tf.tensor1d(moved[2]!), tf.tensor1d(moved[3]!)];
        return tf.fused.conv2d({ x: cx, filter: cw, strides: 2, pad: 'same', bias: cb, activation, ...(activation === 'prelu' ? { preluActivationWeights: ca } : {}) });
      });
      expectClose(wasm, cpu, { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([x, w, bias, alpha]);
    });
  }

  it("trains tfjs-layers' Conv2D (bias, relu) as the cpu backend does", async () => {
    const build = () => {
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [10, 10, 8], filters: 9, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'valid' }),
          tfl.layers.flatten(),
        ],
      });
      m.setWeights(m.getWeights().map((t, i) => tf.tensor(values(t.size, 40 + i), t.shape)));
      return m;
    };
    const train = () => {
      const m = build();
      const opt = tf.train.sgd(0.05);
      const x = tf.tensor4d(values(4 * 10 * 10 * 8, 7), [4, 10, 10, 8]);
      for (let i = 0; i < 3; i++) opt.minimize(() => tf.mean(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      const out = m.getWeights().map((t) => t.dataSync().slice());
      m.dispose();
      opt.dispose();
      x.dispose();
      return out;
    };
    const wasm = train();
    await useBackend('cpu');
    try {
      const cpu = train();
      wasm.forEach((w, i) => expectClose(w, cpu[i]!, { rtol: 1e-4, atol: 1e-5, label: `weight ${i}` }));
    } finally {
      await useBackend('wasm');
    }
  });

  it('handles a batch of zero images', () => {
    const y = tf.conv2d(tf.zeros([0, 5, 5, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same');
    expect(y.shape).toEqual([0, 5, 5, 4]);
    y.dispose();
  });
});

describe('fused bias + activation gradient on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  for (const activation of ['linear', 'relu', 'relu6'] as const) {
    for (const shape of [[3, 5, 7], [300, 13], [2, 2, 2, 67], [4, 1]]) {
      it(`${activation} over [${shape}] equals dy·act'(y) and its sum over rows (Step, Multiply, Sum)`, () => {
        const c = shape.at(-1)!;
        const y = tf.tensor(values(tf.util.sizeFromShape(shape), 1).map((v, i) => (i % 11 === 0 ? NaN : i % 7 === 0 ? 6 : v * 8)), shape);
        const dy = tf.tensor(values(tf.util.sizeFromShape(shape), 2), shape);
        const [dz, db] = expectNoLeak(() => tf.engine().runKernel('SelfsupBiasActivationGrad', { dy, y }, { activation, bias: true }) as tf.Tensor[]);
        const ref = tf.tidy(() => {
          const mask = activation === 'linear' ? tf.onesLike(y) : activation === 'relu' ? tf.step(y) : tf.mul(tf.step(y), tf.step(tf.sub(6, y)));
          const z = tf.mul(dy, activation === 'relu6' ? tf.where(tf.isNaN(y), y, mask) : mask);
          return [z, tf.sum(z, shape.slice(0, -1).map((_, i) => i))];
        });
        // NaN in y gives NaN in dz (as tfjs's Step) and in its column's sum, on both sides.
        const sameWithNaN = (x: tf.Tensor, r: tf.Tensor, tol: number, label: string) => {
          const a = Array.from(x.dataSync());
          const b = Array.from(r.dataSync());
          expect(a.map(Number.isNaN), label).toEqual(b.map(Number.isNaN));
          const zero = (v: number) => (Number.isNaN(v) ? 0 : v);
          expectClose(a.map(zero), b.map(zero), { rtol: tol, atol: tol, label });
        };
        sameWithNaN(dz!, ref[0]!, 1e-6, 'dz');
        sameWithNaN(db!, ref[1]!, 1e-5, 'db');
        expect(db!.shape).toEqual([c]);
        tf.dispose([y, dy, dz!, db!, ...ref]);
      });
    }
  }
});
