/**
 * selfsup's batch-normalisation kernels on wasm: `FusedBatchNorm` in one
 * pass, and the training-batch kernels that tfjs-layers' BatchNormalization
 * layer runs in training mode (statistics, normalisation and their gradient
 * in one kernel each). Checked against the compositions they replace (tfjs's
 * moments + batchNorm and their autodiff, on wasm with the fused kernels
 * unregistered and on the cpu backend), against central differences, at
 * channel counts that leave SIMD tails, through the layer's moving averages,
 * and for leaks. Bitwise: the forward values and the moving averages
 * (same statistics, same normalisation kernel); within float32 rounding: the
 * gradients (same derivative, summed in another order).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { FUSED } from '../../src/core/fused-kernels.js';
import { batchNormTraining } from '../../src/kernels/batch-norm-training.js';
import { registerTrainingKernels } from '../../src/kernels/register.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { values } from './conv-reference.js';

const tensor = (shape: number[], seed: number, scale = 1, shift = 0) =>
  tf.tensor(values(tf.util.sizeFromShape(shape), seed).map((v) => v * scale + shift), shape);

/** Runs `fn` with the fused training kernels unregistered on wasm (the composition path), then puts them back. */
function composed<T>(fn: () => T): T {
  const saved = [FUSED.batchNormTrain, FUSED.batchNormTrainGrad].map((name) => tf.getKernel(name, 'wasm')!);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    return fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

const bitwise = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Object.is(v, b[i]));

/** y, mean, variance and the gradients of Σ y·w + Σ mean·u + Σ variance·v with respect to x, scale, offset. */
function forwardBackward(xShape: number[], eps: number, statsLoss: boolean) {
  const c = xShape.at(-1)!;
  return tf.tidy(() => {
    const x = tensor(xShape, 1, 2, 0.5);
    const scale = tensor([c], 2, 0.5, 1);
    const offset = tensor([c], 3, 0.5);
    const w = tensor(xShape, 4);
    const u = tensor([c], 5);
    const v = tensor([c], 6);
    const [y, mean, variance] = batchNormTraining(x, scale, offset, eps);
    const loss = (xx: tf.Tensor, ss: tf.Tensor, oo: tf.Tensor) => {
      const [yy, mm, vv] = batchNormTraining(xx, ss, oo, eps);
      const terms = [tf.sum(tf.mul(yy, w))];
      if (statsLoss) terms.push(tf.sum(tf.mul(mm, u)), tf.sum(tf.mul(vv, v)));
      return tf.addN(terms) as tf.Scalar;
    };
    const grads = tf.grads(loss)([x, scale, offset]);
    return [y, mean, variance, ...grads].map((t) => t.dataSync().slice());
  });
}

describe('batch-norm kernels on wasm', () => {
  beforeAll(async () => {
    const info = await useBackend('wasm');
    expect(info.kernels).toEqual(expect.arrayContaining(['FusedBatchNorm', FUSED.batchNormTrain, FUSED.batchNormTrainGrad]));
  });

  const shapes = [
    [6, 5, 3, 7], // 7 channels: one vector and a 3-wide tail
    [2, 9, 9, 32],
    [300, 13], // rows over several summation blocks, odd channels
    [40, 1],
    [3, 4, 5, 67], // wide rows (> 64 channels: the other block size)
    [1, 1, 2, 5],
  ];
  for (const shape of shapes) {
    it(`training forward of [${shape}] equals tfjs's moments + batchNorm bit for bit`, () => {
      const fused = forwardBackward(shape, 1e-3, false);
      const ref = composed(() => forwardBackward(shape, 1e-3, false));
      for (let i = 0; i < 3; i++) expect(bitwise(fused[i]!, ref[i]!), ['y', 'mean', 'variance'][i]).toBe(true);
    });

    it(`gradients of [${shape}] (through y and the statistics) equal the composition's within rounding`, () => {
      const fused = forwardBackward(shape, 1e-5, true);
      const ref = composed(() => forwardBackward(shape, 1e-5, true));
      ['dx', 'dscale', 'doffset'].forEach((label, i) => expectClose(fused[3 + i]!, ref[3 + i]!, { rtol: 2e-4, atol: 2e-4, label }));
    });
  }

  it('agrees with the cpu backend (forward and gradients)', async () => {
    const shape = [5, 4, 3, 11];
    const wasm = forwardBackward(shape, 1e-3, true);
    await useBackend('cpu');
    try {
      const cpu = forwardBackward(shape, 1e-3, true);
      ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset'].forEach((label, i) =>
        expectClose(wasm[i]!, cpu[i]!, { rtol: 2e-4, atol: 2e-4, label }),
      );
    } finally {
      await useBackend('wasm');
    }
  });

  it('gradients match central differences (float64 loss of float32 values, loose tolerance)', () => {
    const shape = [4, 3, 5];
    const eps = 1e-3;
    const [, , , dx, dscale, doffset] = forwardBackward(shape, eps, true) as Float32Array[];
    const x0 = tensor(shape, 1, 2, 0.5).dataSync();
    const s0 = tensor([5], 2, 0.5, 1).dataSync();
    const o0 = tensor([5], 3, 0.5).dataSync();
    const w = tensor(shape, 4).dataSync();
    const u = tensor([5], 5).dataSync();
    const v = tensor([5], 6).dataSync();
    // The loss in float64 from the definition.
    const loss = (x: ArrayLike<number>, s: ArrayLike<number>, o: ArrayLike<number>) => {
      const rows = x.length / 5;
      let total = 0;
      for (let j = 0; j < 5; j++) {
        let m = 0;
        for (let r = 0; r < rows; r++) m += x[r * 5 + j]!;
        m /= rows;
        let q = 0;
        for (let r = 0; r < rows; r++) q += (x[r * 5 + j]! - m) ** 2;
        q /= rows;
        for (let r = 0; r < rows; r++) total += ((x[r * 5 + j]! - m) / Math.sqrt(q + eps) * s[j]! + o[j]!) * w[r * 5 + j]!;
        total += m * u[j]! + q * v[j]!;
      }
      return total;
    };
    const h = 1e-3;
    const numeric = (arr: Float32Array, i: number, f: (a: Float64Array) => number) => {
      const p = Float64Array.from(arr);
      const m = Float64Array.from(arr);
      p[i]! += h;
      m[i]! -= h;
      return (f(p) - f(m)) / (2 * h);
    };
    for (let i = 0; i < x0.length; i += 7) {
      expect(dx![i]).toBeCloseTo(numeric(x0 as Float32Array, i, (a) => loss(a, s0, o0)), 2);
    }
    for (let j = 0; j < 5; j++) {
      expect(dscale![j]).toBeCloseTo(numeric(s0 as Float32Array, j, (a) => loss(x0, a, o0)), 2);
      expect(doffset![j]).toBeCloseTo(numeric(o0 as Float32Array, j, (a) => loss(x0, s0, a)), 2);
    }
  });

  it('FusedBatchNorm (inference) agrees with the cpu backend, with and without scale/offset, and broadcast shapes', async () => {
    const cases = (c: number) => [
      () => tf.batchNorm(tensor([3, 5, 2, c], 1), tensor([c], 2), tensor([c], 3, 0.5, 1), tensor([c], 4), tensor([c], 5), 1e-3),
      () => tf.batchNorm(tensor([7, c], 1), tensor([c], 2), tensor([c], 3, 0.5, 1)),
      () => tf.batchNorm(tensor([2, 2, 3, c], 1), tensor([1, 1, 1, c], 2), tensor([1, 1, 1, c], 3, 0.5, 1), undefined, tensor([1, 1, 1, c], 5)),
      () => tf.batchNorm(tensor([4, c], 1), tf.scalar(0.3), tf.scalar(2)), // scalar statistics: tfjs's kernel
    ];
    for (const c of [1, 4, 9]) {
      const wasm = cases(c).map((f) => tf.tidy(() => f().dataSync().slice()));
      await useBackend('cpu');
      const cpu = cases(c).map((f) => tf.tidy(() => f().dataSync().slice()));
      await useBackend('wasm');
      wasm.forEach((w, i) => expectClose(w, cpu[i]!, { rtol: 1e-5, atol: 1e-5, label: `case ${i}, C=${c}` }));
    }
  });

  it('leaves no tensors behind (forward, gradient)', () => {
    const x = tensor([4, 3, 3, 6], 1);
    const scale = tensor([6], 2);
    const offset = tensor([6], 3);
    expectNoLeak(() => batchNormTraining(x, scale, offset, 1e-3));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(batchNormTraining(a, b, c, 1e-3)[0]) as tf.Scalar)([x, scale, offset]));
    tf.dispose([x, scale, offset]);
  });
});

describe("tfjs-layers' BatchNormalization on the fused kernels", () => {
  let model: () => tfl.Sequential;
  beforeAll(async () => {
    await useBackend('wasm');
    await registerTrainingKernels('wasm');
    model = () => {
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'glorotUniform' }),
          tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
          tfl.layers.activation({ activation: 'relu' }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 5, useBias: false }),
          tfl.layers.batchNormalization({}),
        ],
      });
      // Deterministic weights (initialisers draw from a global random state).
      m.setWeights(m.getWeights().map((w, i) => tensor(w.shape, 20 + i, 0.3, w.shape.length === 1 && i % 4 === 1 ? 1 : 0)));
      return m;
    };
  });
  afterAll(async () => {
    await useBackend('wasm');
  });

  /** Five Adam steps of the model on a fixed batch; returns the weights (moving statistics included) and the losses. */
  function train(): { weights: Float32Array[]; losses: number[] } {
    const m = model();
    const opt = tf.train.adam(1e-2);
    const x = tensor([10, 8, 8, 3], 7);
    const target = tensor([10, 5], 8);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const loss = opt.minimize(() => tf.mean(tf.squaredDifference(m.apply(x, { training: true }) as tf.Tensor, target)) as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    const weights = m.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    m.dispose();
    opt.dispose();
    tf.dispose([x, target]);
    return { weights, losses };
  }

  it('trains as tfjs-layers does (losses and weights within rounding; the first loss bit for bit)', () => {
    const fused = train();
    const ref = composed(train);
    expect(fused.losses[0]).toBe(ref.losses[0]);
    expectClose(fused.losses, ref.losses, { rtol: 1e-4, atol: 1e-6, label: 'losses' });
    fused.weights.forEach((w, i) => expectClose(w, ref.weights[i]!, { rtol: 1e-3, atol: 1e-5, label: `weight ${i}` }));
  });

  it('runs the fused kernels in training mode and tfjs-layers\' code in inference mode', async () => {
    const m = model();
    const x = tensor([4, 8, 8, 3], 7);
    const training = await tf.profile(() => tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(m.apply(xx, { training: true }) as tf.Tensor))(x)));
    expect(training.kernelNames).toEqual(expect.arrayContaining([FUSED.batchNormTrain, FUSED.batchNormTrainGrad]));
    expect(training.kernelNames).not.toContain('SquaredDifference');
    const inference = await tf.profile(() => tf.tidy(() => m.apply(x, { training: false }) as tf.Tensor));
    expect(inference.kernelNames).toContain('FusedBatchNorm');
    expect(inference.kernelNames).not.toContain(FUSED.batchNormTrain);
    m.dispose();
    x.dispose();
  });

  it('keeps tfjs-layers\' code for a layer normalising another axis than the last', () => {
    // (Layers without scale or offset also keep it; tfjs-layers 4.22 cannot train those: its call reads gamma.)
    for (const args of [{ axis: 1 }, { axis: 0 }]) {
      const layer = tfl.layers.batchNormalization(args);
      const x = tensor([4, 3, 5], 9);
      const run = () => tf.tidy(() => (layer.apply(x, { training: true }) as tf.Tensor).dataSync().slice());
      const fused = run();
      const ref = composed(run);
      expect(bitwise(fused, ref)).toBe(true);
      layer.dispose();
      x.dispose();
    }
  });

  it('a training step leaves no tensors behind', () => {
    const m = model();
    const x = tensor([3, 8, 8, 3], 7);
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.mean(m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar); // creates the optimizer's state
    expectNoLeak(() => opt.minimize(() => tf.mean(m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar));
    m.dispose();
    opt.dispose();
    x.dispose();
  });
});
