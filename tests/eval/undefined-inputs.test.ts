/**
 * Undefined inputs are errors (issue 16, reproduction 7): a NaN or infinite
 * feature made kMeans return NaN centroids and inertia and knnClassifier an
 * accuracy; now every evaluation refuses it with a ValueRangeError naming
 * the argument and the first bad value, and leaks nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { ValueRangeError, alignment, detectCollapse, embeddingStd, kMeans, knnClassifier, linearProbe, rankMe, uniformity } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';

function features(bad: number): tf.Tensor2D {
  return tf.tensor2d([
    [0.1, 0.2],
    [0.3, bad],
    [0.5, 0.1],
    [0.9, 0.4],
  ]);
}

describeBackends('NaN and infinite features are refused', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`${bad}: kMeans, knnClassifier, linearProbe and the collapse metrics throw, naming the argument`, async () => {
      const x = features(bad);
      const good = features(0.5);
      const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
      const before = tf.memory().numTensors;
      const where = `got ${Number.isNaN(bad) ? 'NaN' : String(bad)} at flat index 3 (row 1)`;
      expect(() => kMeans(x, { k: 2, seed: 1 })).toThrow(ValueRangeError);
      expect(() => kMeans(x, { k: 2, seed: 1 })).toThrow(`kMeans: features must hold finite features (no NaN or infinity), ${where}`);
      expect(() => kMeans(good, { k: 2, init: tf.slice(x, [0, 0], [2, 2]) as tf.Tensor2D })).toThrow('kMeans: options.init must hold finite centroids');
      await expect(knnClassifier(x, labels, good, labels, { k: 2 })).rejects.toThrow(`knnClassifier: trainFeatures must hold finite features (no NaN or infinity), ${where}`);
      await expect(knnClassifier(good, labels, x, labels, { k: 2 })).rejects.toThrow('knnClassifier: testFeatures must hold finite features');
      await expect(linearProbe(x, labels, good, labels, { epochs: 1 })).rejects.toThrow('linearProbe: trainFeatures must hold finite features');
      expect(() => embeddingStd(x)).toThrow('embeddingStd: z must hold finite features');
      expect(() => rankMe(x)).toThrow('rankMe: z must hold finite features');
      expect(() => uniformity(x)).toThrow('uniformity: x must hold finite features');
      expect(() => alignment(x, good)).toThrow('alignment: x must hold finite features');
      expect(() => alignment(good, x)).toThrow('alignment: y must hold finite features');
      const ints = tf.zeros(good.shape, 'int32') as tf.Tensor2D;
      expect(() => alignment(good, ints)).toThrow('alignment: y must');
      ints.dispose();
      expect(() => detectCollapse({ embeddings: x })).toThrow('detectCollapse: stats.embeddings must hold finite features');
      expect(tf.memory().numTensors).toBe(before + 1); // the init slice above
      tf.dispose([x, good, labels]);
    });
  }
});
