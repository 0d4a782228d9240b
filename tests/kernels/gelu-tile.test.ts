/**
 * Two smaller fusions of the training step: GELU as one wasm kernel forward
 * and one backward (selfsup's transformer blocks), checked against tfjs's
 * erf composition on the cpu backend, against central differences and at
 * the tails, NaN and infinities; and the `Tile` gradient as one reduction
 * (every backend), checked against tfjs's slice-by-slice sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { FUSED } from '../../src/core/fused-kernels.js';
import { gelu } from '../../src/heads/transformer.js';
import { tileGrad } from '../../src/kernels/tile-gradient.js';
import { onEachBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { values } from './conv-reference.js';

/** erfc(z) in float64 for z ≥ 0: the Maclaurin series of erf below 2, Lentz's continued fraction of erfc above. */
function erfc(z: number): number {
  if (z < 2) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 100; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated backwards.
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** Φ(x), the standard normal CDF, in float64. */
function phi(x: number): number {
  const z = x / Math.SQRT2;
  return z >= 0 ? 1 - 0.5 * erfc(z) : 0.5 * erfc(-z);
}

describe('fused GELU on wasm', () => {
  beforeAll(async () => {
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(expect.arrayContaining([FUSED.gelu, FUSED.geluGrad]));
  });

  const grid = Float32Array.from({ length: 2001 }, (_, i) => -10 + i * 0.01);

  it('matches x·Φ(x) and its derivative in float64 to 2e-7 absolute (tfjs erf: 1.5e-7)', () => {
    const x = tf.tensor1d(grid);
    const [y, dx] = tf.tidy(() => [gelu(x), tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x)].map((t) => t.dataSync()));
    for (let i = 0; i < grid.length; i++) {
      const v = grid[i]!;
      const p = phi(v);
      const density = Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
      expect(Math.abs(y![i]! - v * p)).toBeLessThan(2e-7 * Math.max(1, Math.abs(v)));
      expect(Math.abs(dx![i]! - (p + v * density))).toBeLessThan(4e-7 * Math.max(1, Math.abs(v)));
    }
    x.dispose();
  });

  it('agrees with the composition on the cpu backend, with SIMD tails (sizes 1, 3, 5, 17)', async () => {
    for (const n of [1, 3, 5, 17, 64]) {
      const data = values(n, n).map((v) => v * 5);
      const out = await onEachBackend(() =>
        tf.tidy(() => {
          const x = tf.tensor1d(data);
          return [gelu(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), tf.range(0, n))))(x)].map((t) => t.dataSync().slice());
        }),
      );
      expectClose(out.wasm[0]!, out.cpu[0]!, { rtol: 1e-6, atol: 1e-6, label: `forward n=${n}` });
      expectClose(out.wasm[1]!, out.cpu[1]!, { rtol: 1e-5, atol: 1e-5, label: `gradient n=${n}` });
    }
  });

  it('propagates NaN and infinities as the composition does', async () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -50, 50];
    const out = await onEachBackend(() => tf.tidy(() => Array.from(gelu(tf.tensor1d(special)).dataSync())));
    out.wasm.forEach((v, i) => {
      const c = out.cpu[i]!;
      if (Number.isNaN(c)) expect(v).toBeNaN();
      else expect(v).toBeCloseTo(c, 6);
    });
  });

  it('runs one kernel each way and leaves no tensors behind', async () => {
    const x = tf.tensor2d(values(40, 3), [8, 5]);
    const profile = await tf.profile(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x)));
    expect(profile.kernelNames).toEqual(expect.arrayContaining([FUSED.gelu, FUSED.geluGrad]));
    expect(profile.kernelNames).not.toContain('Erf');
    expectNoLeak(() => gelu(x));
    expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x));
    x.dispose();
  });
});

/** tfjs-core's Tile gradient, written out: the sum of every copy's slice of dy. */
function sliceSum(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
  return tf.tidy(() => {
    let acc = tf.zeros(xShape);
    const idx = reps.map(() => 0);
    for (;;) {
      acc = tf.add(acc, tf.slice(dy, idx.map((r, a) => r * xShape[a]!), xShape));
      let a = reps.length - 1;
      while (a >= 0 && ++idx[a]! === reps[a]) idx[a--] = 0;
      if (a < 0) break;
    }
    return acc;
  });
}

describe('Tile gradient as one reduction', () => {
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [[1, 4, 6], [7, 1, 1]], // a class token over a batch
    [[3, 1, 2], [2, 5, 3]],
    [[2, 3], [1, 1]],
    [[2, 1, 3, 1], [2, 2, 1, 4]],
    [[1, 2, 1, 2, 3], [3, 1, 2, 1, 2]], // rank 5 (tfjs's own gradient stops at rank 4)
  ];
  for (const [xShape, reps] of cases) {
    it(`x [${xShape}] tiled ${JSON.stringify(reps)} equals tfjs's slice-by-slice sum on cpu and wasm`, async () => {
      const dyShape = xShape.map((d, i) => d * reps[i]!);
      const dyData = values(tf.util.sizeFromShape(dyShape), 9);
      const out = await onEachBackend(() =>
        tf.tidy(() => {
          const dy = tf.tensor(dyData, dyShape);
          const x = tf.tensor(values(tf.util.sizeFromShape(xShape), 4), xShape);
          const viaGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, reps), dy)))(x);
          return [viaGrad, tileGrad(dy, xShape, reps), xShape.length <= 5 ? sliceSum(dy, xShape, reps) : viaGrad].map((t) => t.dataSync().slice());
        }),
      );
      for (const b of ['cpu', 'wasm'] as const) {
        expectClose(out[b][0]!, out[b][2]!, { rtol: 1e-5, atol: 1e-5, label: `${b} gradient` });
        expectClose(out[b][1]!, out[b][2]!, { rtol: 1e-5, atol: 1e-5, label: `${b} tileGrad` });
      }
    });
  }

  it('takes a handful of kernels where tfjs took two per copy', async () => {
    await useBackend('wasm');
    const cls = tf.tensor3d(values(16, 1), [1, 1, 16]);
    const profile = await tf.profile(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.tile(t, [256, 1, 1]))))(cls)));
    expect(profile.kernelNames).not.toContain('Slice');
    expect(profile.kernels.length).toBeLessThan(20);
    cls.dispose();
  });
});
