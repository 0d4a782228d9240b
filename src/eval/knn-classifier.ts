import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertInteger, assertKnownOptions, assertPositive } from '../core/validate.js';
import { assertFeatures, assertSameWidth, readLabels } from './features.js';
import { ValueRangeError } from '../core/errors.js';

/** Options of {@link knnClassifier}. */
export interface KnnClassifierOptions {
  /**
   * Number of neighbours that vote (capped at the number of training rows).
   * @default 200 (InstDisc; DINO reports k = 20 as well)
   */
  k?: number;
  /**
   * Temperature τ of the vote weights `exp(s / τ)`.
   * @default 0.07
   */
  temperature?: number;
  /**
   * Number of classes C.
   * @default the largest label (train or test) + 1
   */
  numClasses?: number;
  /**
   * Test rows compared with the training set at once (memory: batchSize × N similarities).
   * @default 256
   */
  batchSize?: number;
}

/** What {@link knnClassifier} returns. */
export interface KnnResult {
  /** Predicted class of every test row. */
  predictions: Int32Array;
  /** Fraction of test rows predicted correctly; `null` when no test labels were given. */
  accuracy: number | null;
  /** The number of neighbours actually used (`min(k, N)`). */
  k: number;
}

/**
 * Weighted k-nearest-neighbour classification of frozen features, the
 * label-free-training evaluation of InstDisc (Wu et al. 2018, §3.4) used by
 * DINO and most SSL papers: features are L2-normalised, each test row finds
 * the k training rows of highest cosine similarity `s_i`, and each neighbour
 * votes for its class with weight `exp(s_i / τ)`; the class with the largest
 * total wins (ties go to the lowest class index).
 *
 * Similarities are computed in batches of `batchSize` test rows; the votes are
 * summed in float64 after subtracting each row's largest similarity (the
 * argmax is unchanged, and small temperatures cannot overflow).
 *
 * @param trainFeatures float32 `[N, D]` features of the labelled reference set.
 * @param trainLabels int32 `[N]` class indices.
 * @param testFeatures float32 `[M, D]` features to classify.
 * @param testLabels optional int32 `[M]` class indices, for the accuracy.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { knnClassifier } from 'selfsup';
 *
 * const train = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * const trainLabels = tf.tensor1d([0, 0, 1, 1], 'int32');
 * const test = tf.tensor2d([[0.8, 0.3], [0.2, 1]]);
 * const { predictions, accuracy } = await knnClassifier(train, trainLabels, test, tf.tensor1d([0, 1], 'int32'), { k: 3 });
 * console.log(predictions, accuracy); // Int32Array [0, 1] 1
 * ```
 */
export async function knnClassifier(
  trainFeatures: tf.Tensor2D,
  trainLabels: tf.Tensor1D,
  testFeatures: tf.Tensor2D,
  testLabels?: tf.Tensor1D,
  options: KnnClassifierOptions = {},
): Promise<KnnResult> {
  const fn = 'knnClassifier';
  assertKnownOptions(options, ['k', 'temperature', 'numClasses', 'batchSize'], fn);
  assertFeatures(trainFeatures, fn, 'trainFeatures');
  assertFeatures(testFeatures, fn, 'testFeatures');
  assertSameWidth(testFeatures, trainFeatures, fn, 'testFeatures', 'trainFeatures');
  const n = trainFeatures.shape[0];
  const m = testFeatures.shape[0];
  const train = readLabels(trainLabels, n, fn, 'trainLabels', 'trainFeatures');
  const test = testLabels === undefined ? null : readLabels(testLabels, m, fn, 'testLabels', 'testFeatures');
  const { k = 200, temperature = 0.07, batchSize = 256 } = options;
  assertInteger(k, fn, 'options.k', { min: 1 });
  assertPositive(temperature, fn, 'options.temperature');
  assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
  const numClasses = options.numClasses ?? Math.max(train.numClasses, test?.numClasses ?? 0);
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  const largest = Math.max(train.numClasses, test?.numClasses ?? 0) - 1;
  if (largest >= numClasses) {
    throw new ValueRangeError(fn, 'options.numClasses', `exceed the largest label (${largest})`, String(numClasses));
  }
  const kUsed = Math.min(k, n);
  // The normalised, transposed bank and one batch of similarities with its top-k.
  assertMemoryFits(fn, 'options.batchSize', [{ shape: [n, trainFeatures.shape[1]], count: 2 }, { shape: [Math.min(batchSize, m), n], count: 2 }]);

  // The transposed bank is made once: matMul's transpose flag is slow on wasm.
  const bankT = tf.tidy(() => tf.transpose(normalizeLastAxis(trainFeatures)));
  const predictions = new Int32Array(m);
  const votes = new Float64Array(numClasses);
  try {
    for (let start = 0; start < m; start += batchSize) {
      const rows = Math.min(batchSize, m - start);
      const { values, indices } = tf.tidy(() => {
        const query = normalizeLastAxis(tf.slice(testFeatures, [start, 0], [rows, -1]));
        return tf.topk(tf.matMul(query, bankT), kUsed, true);
      });
      const [sims, ids] = await Promise.all([values.data(), indices.data()]);
      tf.dispose([values, indices]);
      for (let r = 0; r < rows; r++) {
        votes.fill(0);
        const top = sims[r * kUsed]!;
        for (let j = 0; j < kUsed; j++) {
          const label = train.values[ids[r * kUsed + j]!]!;
          votes[label] = votes[label]! + Math.exp((sims[r * kUsed + j]! - top) / temperature);
        }
        let best = 0;
        for (let c = 1; c < numClasses; c++) if (votes[c]! > votes[best]!) best = c;
        predictions[start + r] = best;
      }
    }
  } finally {
    bankT.dispose();
  }
  let accuracy: number | null = null;
  if (test !== null) {
    let correct = 0;
    for (let i = 0; i < m; i++) if (predictions[i] === test.values[i]) correct++;
    accuracy = correct / m;
  }
  return { predictions, accuracy, k: kUsed };
}
