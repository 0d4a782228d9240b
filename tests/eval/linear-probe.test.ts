import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearProbe, useBackend } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectClose } from '../helpers/numerics.js';

interface ProbeFixture {
  dim: number;
  numClasses: number;
  C: number;
  l2: number;
  trainFeatures: number[];
  trainLabels: number[];
  testFeatures: number[];
  testLabels: number[];
  objective: number;
  testAccuracy: number;
  trainAccuracy: number;
  testPredictions: number[];
  coefStandardised: number[];
  interceptStandardised: number[];
}

const fx = loadFixture<ProbeFixture>('eval-linear-probe');

describeBackends('linearProbe', (backend) => {
  let train: tf.Tensor2D;
  let trainLabels: tf.Tensor1D;
  let test: tf.Tensor2D;
  let testLabels: tf.Tensor1D;
  beforeAll(() => {
    train = tf.tensor2d(fx.trainFeatures, [fx.trainLabels.length, fx.dim]);
    trainLabels = tf.tensor1d(fx.trainLabels, 'int32');
    test = tf.tensor2d(fx.testFeatures, [fx.testLabels.length, fx.dim]);
    testLabels = tf.tensor1d(fx.testLabels, 'int32');
  });
  afterAll(() => tf.dispose([train, trainLabels, test, testLabels]));

  it("reaches scikit-learn's LogisticRegression optimum (same objective, accuracy, predictions)", async () => {
    const before = tf.memory().numTensors;
    const r = await linearProbe(train, trainLabels, test, testLabels, {
      l2: fx.l2,
      batchSize: 1_000_000, // full batch, like L-BFGS
      epochs: 600,
      learningRate: 0.05,
      validationFraction: 0,
    });
    expect(tf.memory().numTensors - before, 'only weights and bias are returned').toBe(2);
    // Our objective is scikit-learn's divided by C·N.
    expect(r.objective, backend).toBeGreaterThanOrEqual(fx.objective - 1e-6);
    expect(r.objective, backend).toBeLessThan(fx.objective * (1 + 1e-4));
    expect(Math.abs(r.accuracy - fx.testAccuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(r.trainAccuracy - fx.trainAccuracy)).toBeLessThanOrEqual(0.01);
    const agree = Array.from(r.predictions).filter((p, i) => p === fx.testPredictions[i]).length / r.predictions.length;
    expect(agree).toBeGreaterThanOrEqual(0.98);
    expect(r.validationAccuracy).toBeNull();
    expect([r.epochs, r.bestEpoch]).toEqual([600, 600]);
    // Folded weights on raw features = the standardised model: check the logits of the test set.
    const mean = tf.mean(train, 0);
    const std = tf.sqrt(tf.moments(train, 0).variance);
    const safeStd = tf.where(tf.greater(std, 1e-12), std, tf.onesLike(std));
    const standardised = tf.div(tf.sub(test, mean), safeStd);
    const coef = tf.tensor2d(fx.coefStandardised, [fx.dim, fx.numClasses]);
    const skLogits = tf.add(tf.matMul(standardised, coef), tf.tensor1d(fx.interceptStandardised));
    const ours = tf.add(tf.matMul(test, r.weights), r.bias);
    // Logits are defined up to a per-row constant: compare centred logits.
    const centre = (t: tf.Tensor) => tf.sub(t, tf.mean(t, 1, true));
    expectClose(centre(ours), centre(skLogits), { atol: 0.02, rtol: 0.02 });
    tf.dispose([mean, std, safeStd, standardised, coef, skLogits, ours, r.weights, r.bias]);
  });

  it('mini-batch Adam with early stopping on its own hold-out: seeded and reproducible', async () => {
    const opts = { epochs: 60, batchSize: 64, learningRate: 0.02, validationFraction: 0.2, patience: 5, seed: 3 };
    const a = await linearProbe(train, trainLabels, test, testLabels, opts);
    const b = await linearProbe(train, trainLabels, test, testLabels, opts);
    expect(Array.from(b.predictions)).toEqual(Array.from(a.predictions));
    expect(b.weights.dataSync()).toEqual(a.weights.dataSync());
    expect(a.validationAccuracy).not.toBeNull();
    expect(a.bestEpoch).toBeLessThanOrEqual(a.epochs);
    expect(a.accuracy).toBeGreaterThan(fx.testAccuracy - 0.06);
    const c = await linearProbe(train, trainLabels, test, testLabels, { ...opts, seed: 4 });
    expect(c.weights.dataSync()).not.toEqual(a.weights.dataSync());
    tf.dispose([a.weights, a.bias, b.weights, b.bias, c.weights, c.bias]);
  });
});

describe('linearProbe behaviour', () => {
  beforeAll(() => useBackend('cpu'));

  it('standardisation matters on badly scaled features; without it the same weights still apply to raw features', async () => {
    const x = tf.tensor2d([[0, 1000], [1, 1003], [0, 997], [1, 1001], [0, 1002], [1, 998]]);
    const y = tf.tensor1d([0, 1, 0, 1, 0, 1], 'int32');
    const r = await linearProbe(x, y, x, y, { epochs: 200, learningRate: 0.1, validationFraction: 0, l2: 0 });
    expect(r.accuracy).toBe(1);
    const raw = await linearProbe(x, y, x, y, { epochs: 5, learningRate: 0.1, validationFraction: 0, standardize: false });
    const logits = tf.add(tf.matMul(x, raw.weights), raw.bias);
    expect(Array.from(tf.argMax(logits, 1).dataSync())).toEqual(Array.from(raw.predictions));
    tf.dispose([x, y, logits, r.weights, r.bias, raw.weights, raw.bias]);
  });

  it('explains bad input', async () => {
    const x = tf.zeros([10, 3]) as tf.Tensor2D;
    const y = tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 'int32');
    await expect(linearProbe(x, y, x, tf.tensor1d([0, 1], 'int32'))).rejects.toThrow(
      'linearProbe: testLabels must have N = 10 entries, one per row of testFeatures, got [2]',
    );
    await expect(linearProbe(x, tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1, 0, -1], 'int32'), x, y)).rejects.toThrow(
      'linearProbe: trainLabels must hold class indices ≥ 0, got -1 at index 9',
    );
    await expect(linearProbe(x, y, x, y, { validationFraction: 0.01 })).rejects.toThrow(
      'linearProbe: options.validationFraction must leave at least one row on each side of the hold-out split (N = 10), got 0.01',
    );
    await expect(linearProbe(x, y, x, y, { validationFraction: 1 })).rejects.toThrow(
      'linearProbe: options.validationFraction must be a number in [0, 1), got 1',
    );
    await expect(linearProbe(x, y, x, y, { l2: -1 })).rejects.toThrow('linearProbe: options.l2 must be a finite number ≥ 0, got -1');
    await expect(linearProbe(tf.zeros([10]) as never, y, x, y)).rejects.toThrow(
      'linearProbe: trainFeatures must be a rank-2 tensor [N, D], got rank 1 with shape [10]',
    );
    tf.dispose([x, y]);
  });
});
