import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { knnClassifier } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';

interface KnnFixture {
  dim: number;
  numClasses: number;
  trainFeatures: number[];
  trainLabels: number[];
  testFeatures: number[];
  testLabels: number[];
  cases: { k: number; temperature: number; predictions: number[]; accuracy: number }[];
}

const fx = loadFixture<KnnFixture>('eval-knn');

describeBackends('knnClassifier', (backend) => {
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

  for (const c of fx.cases) {
    it(`matches the numpy weighted vote, k = ${c.k}, τ = ${c.temperature}`, async () => {
      const before = tf.memory().numTensors;
      const result = await knnClassifier(train, trainLabels, test, testLabels, {
        k: c.k,
        temperature: c.temperature,
        batchSize: 37, // uneven batches
      });
      expect(tf.memory().numTensors, 'no tensor is left behind').toBe(before);
      expect(Array.from(result.predictions), backend).toEqual(c.predictions);
      expect(result.accuracy).toBeCloseTo(c.accuracy, 10);
      expect(result.k).toBe(c.k);
    });
  }

  it('defaults to k = 200, τ = 0.07 and caps k at N; without test labels accuracy is null', async () => {
    const r = await knnClassifier(train, trainLabels, test);
    expect(r.accuracy).toBeNull();
    expect(Array.from(r.predictions)).toEqual(fx.cases[0]!.predictions);
    const few = tf.slice(train, [0, 0], [50, -1]) as tf.Tensor2D;
    const fewLabels = tf.slice(trainLabels, [0], [50]) as tf.Tensor1D;
    expect((await knnClassifier(few, fewLabels, test)).k).toBe(50);
    tf.dispose([few, fewLabels]);
  });

  it('stays finite at a tiny temperature (votes are shifted by the top similarity)', async () => {
    const r = await knnClassifier(train, trainLabels, test, testLabels, { k: 5, temperature: 1e-4 });
    // At τ → 0 the nearest neighbour dominates: 1-NN predictions.
    expect(Array.from(r.predictions)).toEqual(fx.cases.find((c) => c.k === 1)!.predictions);
  });

  it('explains bad input', async () => {
    await expect(knnClassifier(train, tf.tensor1d([0, 1], 'int32'), test)).rejects.toThrow(
      'knnClassifier: trainLabels must have N = 300 entries, one per row of trainFeatures, got [2]',
    );
    await expect(knnClassifier(train, tf.cast(trainLabels, 'float32') as tf.Tensor1D, test)).rejects.toThrow(
      'knnClassifier: trainLabels must have dtype int32, got float32',
    );
    await expect(knnClassifier(train, trainLabels, tf.zeros([3, 4]) as tf.Tensor2D)).rejects.toThrow(
      'knnClassifier: testFeatures must have D = 16 columns like trainFeatures, got [3, 4]',
    );
    await expect(knnClassifier(train, trainLabels, test, undefined, { k: 0 })).rejects.toThrow('options.k must be an integer ≥ 1, got 0');
    await expect(knnClassifier(train, trainLabels, test, undefined, { numClasses: 3 })).rejects.toThrow(
      'knnClassifier: options.numClasses must exceed the largest label (4), got 3',
    );
    await expect(knnClassifier(train, trainLabels, test, undefined, { temprature: 1 } as never)).rejects.toThrow(
      /options.temprature must be one of the known options/,
    );
  });
});
