/**
 * The wasm kernels selfsup replaces because tfjs-backend-wasm's copy or
 * transpose needlessly (Identity, Cast, Sum over leading axes, matMul with
 * transpose flags): same results as the cpu backend, no leaks, and the
 * clone-sharing Identity keeps tensors independent.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { registerTrainingKernels, unregisterWasmKernels } from '../../src/kernels/register.js';
import { onEachBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { values } from './conv-reference.js';

const tensor = (shape: number[], seed: number) => tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);

async function agree(f: () => tf.Tensor, tol = { rtol: 1e-5, atol: 1e-5 }): Promise<void> {
  const out = await onEachBackend(() => {
    const r = f();
    const result = { shape: r.shape, data: r.dataSync().slice() };
    r.dispose();
    return result;
  });
  expect(out.wasm.shape).toEqual(out.cpu.shape);
  expectClose(out.wasm.data, out.cpu.data, tol);
}

describe('wasm data-movement kernels', () => {
  beforeAll(async () => {
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(expect.arrayContaining(['Identity', 'Cast', 'Sum', 'BatchMatMul', '_FusedMatMul']));
  });

  const sums: [number[], number | number[], boolean][] = [
    [[7, 5, 3, 17], [0, 1, 2], false],
    [[2, 3, 4, 33], [0, 1, 2], true],
    [[300, 20], 0, false], // long sum over several row blocks
    [[4, 9, 130], [1, 0], false], // wide rows, unsorted axes
    [[3, 4, 5], [-3, -2], false],
    [[6, 1], [0], false],
    [[3, 4, 5], [1, 2], false], // not leading: tfjs's kernel
    [[3, 4, 5], [0, 1, 2], false], // everything: tfjs's kernel
  ];
  for (const [shape, axis, keepDims] of sums) {
    it(`Sum of [${shape}] over ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''} agrees with cpu`, async () => {
      const x = () => tensor(shape, 3);
      await agree(() => tf.tidy(() => tf.sum(x(), axis, keepDims)), { rtol: 1e-5, atol: 1e-4 });
    });
  }

  it('Sum of int32 falls back to tfjs', async () => {
    await agree(() => tf.tidy(() => tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), 0)));
  });

  const matmuls: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 9, 6], [2, 9, 5], true, false],
    [[3, 6, 9], [1, 5, 9], false, true], // broadcast batch
    [[1, 6, 9], [4, 9, 17], false, false], // broadcast a; n = 17: an 8-column tail of 1
    [[16, 13, 8], [16, 13, 8], false, true], // attention scores: m = 13 rows, a tail of 1 below 4
    [[16, 13, 13], [16, 13, 8], false, false],
    [[2, 3, 2, 5, 6], [2, 3, 2, 6, 4], false, false], // rank 5: tfjs folds the batch dims
    [[64, 130], [130, 33], false, false],
    // k over the 256-wide blocks of the packed b (a weight gradient: k = the batch's tokens), with tails.
    [[2, 9, 517], [2, 517, 11], false, false],
    [[9, 517], [11, 517], false, true],
    [[600, 5], [600, 3], true, false],
    [[3, 5, 300], [1, 300, 7], false, false], // one b for every product, two k blocks
    // Small products (n ≤ 32, k ≤ 64) skip the packing: odd rows, 16 + 4 columns, a 3-wide tail, transposed b.
    [[5, 7, 11], [5, 11, 20], false, false],
    [[2, 3, 40], [2, 31, 40], false, true],
    [[4, 17, 16], [4, 17, 16], true, false],
    [[1, 1, 64], [1, 64, 32], false, false],
    [[8, 4, 17, 16], [8, 4, 16, 17], false, false], // attention heads arrive as rank 4
    [[8, 4, 17, 16], [8, 4, 17, 16], false, true],
    [[2, 3, 5, 6], [6, 4], false, false], // a rank-2 b shared by every product
    [[1, 5, 6], [1, 1, 6, 7], false, false],
  ];
  for (const [a, b, ta, tb] of matmuls) {
    it(`matMul [${a}]${ta ? 'ᵀ' : ''} · [${b}]${tb ? 'ᵀ' : ''} agrees with cpu and leaks nothing`, async () => {
      await agree(() => tf.tidy(() => tf.matMul(tensor(a, 1), tensor(b, 2), ta, tb)));
      const x = tensor(a, 1);
      const y = tensor(b, 2);
      expectNoLeak(() => tf.matMul(x, y, ta, tb)).dispose();
      tf.dispose([x, y]);
    });
  }

  const fused: [number[], number[], boolean, boolean, boolean, 'linear' | 'relu'][] = [
    [[9, 7], [7, 13], false, false, false, 'linear'], // a dense layer without bias: selfsup's GEMM
    [[7, 9], [13, 7], true, true, false, 'linear'],
    [[9, 7], [7, 13], false, false, true, 'linear'], // with a bias: tfjs's kernel
    [[9, 7], [13, 7], false, true, true, 'relu'],
  ];
  for (const [a, b, ta, tb, withBias, activation] of fused) {
    it(`fused.matMul [${a}]${ta ? 'ᵀ' : ''} · [${b}]${tb ? 'ᵀ' : ''}${withBias ? ' + bias' : ''} ${activation} agrees with cpu`, async () => {
      const n = tb ? b[0]! : b[1]!;
      await agree(() =>
        tf.tidy(() =>
          tf.fused.matMul({
            a: tensor(a, 1) as tf.Tensor2D, b: tensor(b, 2) as tf.Tensor2D, transposeA: ta, transposeB: tb, activation,
            ...(withBias ? { bias: tensor([n], 3) } : {}),
          }),
        ),
      );
    });
  }

  it('Mean over leading axes (batch-norm statistics) agrees with cpu', async () => {
    await agree(() => tf.tidy(() => tf.mean(tensor([6, 5, 7, 19], 8), [0, 1, 2])), { rtol: 1e-5, atol: 1e-5 });
    await agree(() => tf.tidy(() => tf.moments(tensor([4, 3, 3, 8], 9), [0, 1, 2], true).variance), { rtol: 1e-4, atol: 1e-5 });
  });

  const tiles: [number[], number[]][] = [
    [[1, 1, 1, 5], [3, 4, 2, 1]],
    [[2, 3], [3, 2]],
    [[4], [5]],
    [[2, 1, 3], [1, 4, 1]],
    [[1, 2, 1, 2, 1, 3], [2, 1, 3, 1, 2, 2]],
    [[3, 2], [1, 1]],
  ];
  for (const [shape, reps] of tiles) {
    it(`Tile [${shape}] by [${reps}] agrees with cpu`, async () => {
      await agree(() => tf.tidy(() => tf.tile(tensor(shape, 10), reps)));
    });
  }
  it('Tile of int32 falls back to tfjs', async () => {
    await agree(() => tf.tidy(() => tf.tile(tf.tensor1d([1, 2], 'int32'), [3])));
  });

  const transposes: [number[], number[]][] = [
    [[3, 5, 2, 4, 6], [2, 0, 3, 1, 4]], // last axis kept: rows copied whole
    [[2, 3, 4, 5, 3], [4, 3, 2, 1, 0]], // last axis moved: element gather
    [[2, 1, 3, 2, 2, 3], [5, 0, 2, 1, 4, 3]],
    [[3, 4, 5], [2, 0, 1]], // rank 3: tfjs's kernel
  ];
  for (const [shape, perm] of transposes) {
    it(`Transpose [${shape}] by [${perm}] agrees with cpu`, async () => {
      await agree(() => tf.tidy(() => tf.transpose(tensor(shape, 11), perm)));
    });
  }

  const pools: { x: number[]; f: [number, number]; s: [number, number]; pad: 'same' | 'valid' | number }[] = [
    { x: [2, 8, 8, 5], f: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 7, 9, 6], f: [3, 3], s: [2, 2], pad: 'same' }, // overlapping windows, padded borders
    { x: [1, 9, 7, 17], f: [3, 2], s: [1, 1], pad: 'same' },
    { x: [3, 6, 6, 3], f: [2, 3], s: [2, 1], pad: 'same' },
  ];
  for (const p of pools) {
    it(`MaxPool / AvgPool gradients for x [${p.x}] window ${p.f} stride ${p.s} pad ${p.pad} agree with cpu`, async () => {
      await agree(() =>
        tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad), tf.maxPool(tensor(p.x, 13) as tf.Tensor4D, p.f, p.s, p.pad))))(tensor(p.x, 12))),
      );
      await agree(() =>
        tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, p.f, p.s, p.pad))))(tensor(p.x, 14))),
      );
    });
  }

  it('pooling gradient kernels with numeric padding agree with cpu (called directly: tfjs-wasm\'s own forward pooling crashes on numeric padding)', async () => {
    const attrs = { filterSize: [2, 3], strides: [2, 1], pad: 1 } as unknown as tf.NamedAttrMap;
    const xShape = [3, 6, 6, 3];
    const dyShape = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], [2, 3], [2, 1], 1, 1).outShape;
    for (const kernel of ['MaxPoolGrad', 'AvgPoolGrad']) {
      await agree(() =>
        tf.tidy(() => {
          const input = tensor(xShape, 15);
          const dy = tensor(dyShape, 16);
          return tf.engine().runKernel(kernel, { dy, input, output: dy }, attrs) as tf.Tensor;
        }),
      );
    }
  });

  it('MaxPool gradient goes to the first maximum of a window, none for all-NaN windows', async () => {
    const x = tf.tensor4d([1, 3, 3, 2, NaN, NaN, NaN, NaN], [1, 2, 4, 1]);
    const out = await onEachBackend(() => tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, [1, 2], [1, 2], 'valid')))(x).dataSync())));
    expect(out.wasm).toEqual(out.cpu);
    expect(out.wasm).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    x.dispose();
  });

  it('fused matMul with bias, activation and transpose flags agrees with cpu', async () => {
    await agree(() =>
      tf.tidy(() =>
        tf.fused.matMul({ a: tensor([6, 4], 1), b: tensor([5, 6], 2), transposeA: true, transposeB: true, bias: tensor([5], 3), activation: 'relu' }),
      ),
    );
  });

  it('Identity shares the buffer but tensors stay independent', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = expectNoLeak(() => tf.clone(x));
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const v = tf.variable(tf.tensor1d([4, 5, 6]));
    const saved = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(saved.dataSync())).toEqual([4, 5, 6]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([y, v, saved]);
  });

  it('Cast to the same dtype shares; to another dtype converts', () => {
    const x = tf.tensor1d([1.5, -2.5, 3]);
    expect(Array.from(tf.cast(x, 'float32').dataSync())).toEqual([1.5, -2.5, 3]);
    expect(Array.from(tf.cast(x, 'int32').dataSync())).toEqual([1, -2, 3]);
    expect(tf.cast(tf.tensor1d([1, 0], 'int32'), 'bool').dtype).toBe('bool');
    x.dispose();
  });

  it('the ReLU gradient (one wasm kernel) agrees with cpu, including 0, ±Infinity and NaN inputs', async () => {
    const x = [-2, -0, 0, 1e-30, 3, Infinity, -Infinity, NaN, 0.5, -0.5, 7];
    const dy = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const out = await onEachBackend(() =>
      tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor1d(dy))))(tf.tensor1d(x)).dataSync())),
    );
    expect(out.wasm).toEqual(out.cpu);
    expect(out.wasm.slice(0, 7)).toEqual([0, 0, 0, 4, 5, 6, 0]);
    expect(Number.isNaN(out.wasm[7])).toBe(true);
    expect(tf.getKernel('SelfsupReluGrad', 'wasm')).toBeDefined();
  });

  it('second derivatives through the fused ReLU gradient agree with cpu', async () => {
    const f = (t: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.relu(u), u)))(t)));
    await agree(() => tf.tidy(() => tf.grad(f)(tensor([3, 7], 4))));
  });

  it('unregisterWasmKernels restores stock tfjs kernels, registerTrainingKernels brings selfsup\'s back', async () => {
    unregisterWasmKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const x = tensor([9, 4], 5);
    expect(Array.from(tf.sum(x, 0).dataSync()).length).toBe(4); // tfjs's Sum again
    expect(await registerTrainingKernels('wasm')).toContain('Conv2DBackpropFilter');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    x.dispose();
  });
});
