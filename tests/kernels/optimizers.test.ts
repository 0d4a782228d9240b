/**
 * tfjs's Adam, momentum-SGD and SGD optimizers on selfsup's fused update
 * kernels (one kernel per variable on wasm): bit-for-bit the values tfjs's
 * own op-by-op updates give on wasm and on the cpu backend, over several
 * steps, at sizes that leave SIMD tails, with both gradient forms, a missing
 * gradient, a changed learning rate, and with the optimizer's state
 * (getWeights/setWeights, dispose) unchanged; no per-step host reads and no
 * leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { FUSED } from '../../src/core/fused-kernels.js';
import { expectNoLeak } from '../helpers/numerics.js';
import { values } from './conv-reference.js';

const KERNELS = [FUSED.adam, FUSED.momentum, FUSED.sgd];

/** Runs `fn` with the fused update kernels unregistered on wasm (tfjs's own code), then puts them back. */
function stock<T>(fn: () => T): T {
  const saved = KERNELS.map((name) => tf.getKernel(name, 'wasm')!);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    return fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

/** {@link stock} for async functions. */
async function stockAsync<T>(fn: () => Promise<T>): Promise<T> {
  const saved = KERNELS.map((name) => tf.getKernel(name, 'wasm')!);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    return await fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

const SHAPES = [[1], [3], [5], [37, 5], [1031], [3, 3, 2, 7]];

type Make = () => tf.Optimizer;
const OPTIMIZERS: [string, Make, string][] = [
  ['adam', () => tf.train.adam(0.01), FUSED.adam],
  ['adam (β, ε given)', () => tf.train.adam(0.003, 0.8, 0.95, 1e-6), FUSED.adam],
  ['momentum', () => tf.train.momentum(0.05, 0.9), FUSED.momentum],
  ['nesterov momentum', () => tf.train.momentum(0.05, 0.9, true), FUSED.momentum],
  ['sgd', () => tf.train.sgd(0.05), FUSED.sgd],
];

/** Four steps on a toy loss (the last with a changed rate, one variable without a gradient in the third); the final values. */
function run(make: Make, form: 'map' | 'array'): Float32Array[] {
  const vars = SHAPES.map((shape, i) => tf.variable(tf.tensor(values(tf.util.sizeFromShape(shape), 10 + i), shape)));
  const targets = SHAPES.map((shape, i) => tf.tensor(values(tf.util.sizeFromShape(shape), 50 + i), shape));
  const opt = make();
  for (let step = 0; step < 4; step++) {
    if (step === 3) (opt as unknown as { learningRate: number }).learningRate *= 0.5;
    // (tfjs's optimizer classes all pass `instanceof SGDOptimizer`: test the class name.)
    if (step === 3 && ['SGD', 'Momentum'].includes(opt.getClassName())) {
      (opt as tf.SGDOptimizer).setLearningRate((opt as unknown as { learningRate: number }).learningRate);
    }
    const { grads } = tf.variableGrads(() => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.square(tf.sub(v, targets[i]!)), i + 1)))) as tf.Scalar);
    const named = grads as Record<string, tf.Tensor | null>;
    if (step === 2) {
      // A variable without a gradient keeps its place (tfjs's optimizers index their slots by position).
      tf.dispose(named[vars[1]!.name]!);
      named[vars[1]!.name] = null;
    }
    if (form === 'map') opt.applyGradients(grads);
    else opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: named[v.name]! })));
    tf.dispose(Object.values(named).filter((g): g is tf.Tensor => g !== null));
  }
  const out = vars.map((v) => v.dataSync().slice() as Float32Array);
  opt.dispose();
  tf.dispose([...vars, ...targets]);
  return out;
}

const bitwise = (a: Float32Array[], b: Float32Array[]) => a.every((x, i) => x.every((v, j) => Object.is(v, b[i]![j])));

describe('fused optimizer updates on wasm', () => {
  beforeAll(async () => {
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(expect.arrayContaining(KERNELS));
  });

  for (const [name, make, kernel] of OPTIMIZERS) {
    for (const form of ['map', 'array'] as const) {
      it(`${name} (${form} of gradients) equals tfjs's updates bit for bit, on wasm and on cpu`, async () => {
        const fused = run(make, form);
        expect(bitwise(fused, stock(() => run(make, form)))).toBe(true);
        await useBackend('cpu');
        try {
          expect(bitwise(fused, run(make, form))).toBe(true);
        } finally {
          await useBackend('wasm');
        }
      });
    }

    it(`${name} runs one ${kernel} kernel per variable and reads nothing back`, async () => {
      const v = tf.variable(tf.ones([4, 3]));
      const w = tf.variable(tf.ones([5]));
      const opt = make();
      const step = () => void opt.minimize(() => tf.add(tf.sum(tf.square(v)), tf.sum(w)) as tf.Scalar);
      step();
      const profile = await tf.profile(step);
      expect(profile.kernels.filter((k) => k.name === kernel).length).toBe(2);
      expect(profile.kernelNames).not.toContain('Sqrt');
      const fusedCount = profile.kernels.length; // (tfjs reuses the profile object on the next call)
      const stockCount = (await stockAsync(() => tf.profile(step))).kernels.length;
      expect(fusedCount).toBeLessThan(stockCount);
      opt.dispose();
      tf.dispose([v, w]);
    });
  }

  it('keeps the optimizer state tfjs keeps: getWeights/setWeights round trip continues identically', async () => {
    const continueFrom = async (useStock: boolean) => {
      const go = async () => {
        const v = tf.variable(tf.tensor(values(23, 3), [23]));
        const loss = () => tf.sum(tf.square(tf.sub(v, 0.25))) as tf.Scalar;
        const a = tf.train.adam(0.02);
        for (let i = 0; i < 3; i++) a.minimize(loss);
        const state = await a.getWeights();
        const b = tf.train.adam(0.02);
        await b.setWeights(state);
        for (let i = 0; i < 3; i++) b.minimize(loss);
        const out = v.dataSync().slice();
        a.dispose();
        b.dispose();
        v.dispose();
        return out as Float32Array;
      };
      return useStock ? stockAsync(go) : go();
    };
    expect(bitwise([await continueFrom(false)], [await continueFrom(true)])).toBe(true);
  });

  it('leaves no tensors behind once the slots exist, and dispose frees what tfjs frees', () => {
    const v = tf.variable(tf.ones([7, 3]));
    // tfjs 4.22's MomentumOptimizer.dispose() keeps its learning-rate scalar: compare with tfjs's own count.
    const leftAfterDispose = (make: Make) => {
      const before = tf.memory().numTensors;
      const opt = make();
      opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar);
      expectNoLeak(() => opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar));
      opt.dispose();
      return tf.memory().numTensors - before;
    };
    for (const [name, make] of OPTIMIZERS) {
      expect(leftAfterDispose(make), name).toBe(stock(() => leftAfterDispose(make)));
    }
    v.dispose();
  });

  it("trains a tfjs-layers model compiled with optimizer 'adam' as tfjs does", async () => {
    const fit = async () => {
      const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 5, activation: 'relu' }), tfl.layers.dense({ units: 2 })] });
      m.setWeights(m.getWeights().map((w, i) => tf.tensor(values(w.size, 30 + i), w.shape)));
      m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = tf.tensor(values(12 * 6, 1), [12, 6]);
      const y = tf.tensor(values(12 * 2, 2), [12, 2]);
      const history = await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      const out = m.getWeights().map((w) => w.dataSync().slice() as Float32Array);
      m.dispose();
      tf.dispose([x, y]);
      return { out, loss: history.history['loss'] as number[] };
    };
    const fused = await fit();
    const ref = await stockAsync(fit);
    expect(fused.loss).toEqual(ref.loss);
    expect(bitwise(fused.out, ref.out)).toBe(true);
  });
});
