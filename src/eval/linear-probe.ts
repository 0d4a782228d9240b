import * as tf from '@tensorflow/tfjs-core';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import {
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  assertPositive,
} from '../core/validate.js';
import { assertFeatures, assertSameWidth, readLabels } from './features.js';

/** Options of {@link linearProbe}. */
export interface LinearProbeOptions {
  /**
   * Maximum passes over the training split.
   * @default 100
   */
  epochs?: number;
  /**
   * Rows per Adam step; a value ≥ the training split trains full-batch.
   * @default 256
   */
  batchSize?: number;
  /**
   * Adam's learning rate.
   * @default 0.01
   */
  learningRate?: number;
  /**
   * L2 penalty λ on the weights (not the bias): the objective is
   * `mean cross-entropy + (λ/2)·‖W‖²`. scikit-learn's `LogisticRegression(C)`
   * on N rows is the same problem with `λ = 1 / (C·N)`.
   * @default 1e-4
   */
  l2?: number;
  /**
   * Standardise every feature to zero mean and unit variance (statistics of the
   * training split; constant features are left unscaled, as scikit-learn's
   * `StandardScaler`). The returned weights apply to raw features either way.
   * @default true
   */
  standardize?: boolean;
  /**
   * Fraction of the training features held out for early stopping (0 turns it
   * off and returns the last epoch's weights).
   * @default 0.1
   */
  validationFraction?: number;
  /**
   * Epochs without a lower validation loss before training stops.
   * @default 10
   */
  patience?: number;
  /**
   * Number of classes C.
   * @default the largest label (train or test) + 1
   */
  numClasses?: number;
  /**
   * Seed of the hold-out split and the mini-batch order.
   * @default 0
   */
  seed?: Seed;
}

/** What {@link linearProbe} returns. Dispose `weights` and `bias` when done. */
export interface LinearProbeResult {
  /** Accuracy on the test features. */
  accuracy: number;
  /** Predicted class of every test row. */
  predictions: Int32Array;
  /** Accuracy on the rows the classifier was fitted on. */
  trainAccuracy: number;
  /** Accuracy on the held-out rows; `null` without a hold-out. */
  validationAccuracy: number | null;
  /** The training objective (mean cross-entropy + L2 term, standardised space) of the returned weights on the fitted rows. */
  objective: number;
  /** Epochs run. */
  epochs: number;
  /** The (1-based) epoch whose weights are returned: the lowest validation loss, or the last epoch. */
  bestEpoch: number;
  /** `[D, C]` weights for raw features (standardisation folded in): `logits = features · weights + bias`. */
  weights: tf.Tensor2D;
  /** `[C]` bias. */
  bias: tf.Tensor1D;
}

/**
 * The linear evaluation protocol (Zhang et al. 2016; Kolesnikov et al. 2019;
 * every SSL paper since): a multinomial logistic-regression classifier is
 * trained on frozen features, and its test accuracy measures how linearly
 * separable the representation makes the classes.
 *
 * Trained with tfjs: Adam on `mean cross-entropy + (λ/2)‖W‖²`, mini-batch or
 * full-batch, optionally on standardised features. A seeded fraction of the
 * training features is held out; after every epoch the validation loss is
 * measured and training stops after `patience` epochs without improvement,
 * returning the best epoch's weights. The test set is never used for any
 * choice. Weights start at zero, so a seed fixes the whole run.
 *
 * @param trainFeatures float32 `[N, D]` frozen features of the labelled training set.
 * @param trainLabels int32 `[N]` class indices.
 * @param testFeatures float32 `[M, D]` features to evaluate on.
 * @param testLabels int32 `[M]` class indices.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { linearProbe } from 'selfsup';
 *
 * const x = tf.tensor2d([[0, 1], [0.2, 0.9], [1, 0], [0.9, 0.1], [0.1, 1.1], [1.1, 0.2]]);
 * const y = tf.tensor1d([0, 0, 1, 1, 0, 1], 'int32');
 * const probe = await linearProbe(x, y, x, y, { epochs: 50, learningRate: 0.1, validationFraction: 0 });
 * console.log(probe.accuracy, probe.weights.shape); // 1 [2, 2]
 * probe.weights.dispose();
 * probe.bias.dispose();
 * ```
 */
export async function linearProbe(
  trainFeatures: tf.Tensor2D,
  trainLabels: tf.Tensor1D,
  testFeatures: tf.Tensor2D,
  testLabels: tf.Tensor1D,
  options: LinearProbeOptions = {},
): Promise<LinearProbeResult> {
  const fn = 'linearProbe';
  assertKnownOptions(
    options,
    ['epochs', 'batchSize', 'learningRate', 'l2', 'standardize', 'validationFraction', 'patience', 'numClasses', 'seed'],
    fn,
  );
  assertFeatures(trainFeatures, fn, 'trainFeatures');
  assertFeatures(testFeatures, fn, 'testFeatures');
  assertSameWidth(testFeatures, trainFeatures, fn, 'testFeatures', 'trainFeatures');
  const n = trainFeatures.shape[0];
  const dim = trainFeatures.shape[1];
  const train = readLabels(trainLabels, n, fn, 'trainLabels', 'trainFeatures');
  const test = readLabels(testLabels, testFeatures.shape[0], fn, 'testLabels', 'testFeatures');
  const {
    epochs = 100,
    batchSize = 256,
    learningRate = 0.01,
    l2 = 1e-4,
    standardize = true,
    validationFraction = 0.1,
    patience = 10,
    seed = 0,
  } = options;
  assertInteger(epochs, fn, 'options.epochs', { min: 1 });
  assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
  assertPositive(learningRate, fn, 'options.learningRate');
  assertNonNegative(l2, fn, 'options.l2');
  assertOneOf(standardize, [true, false], fn, 'options.standardize');
  assertInRange(validationFraction, 0, 1, fn, 'options.validationFraction', [false, true]);
  assertInteger(patience, fn, 'options.patience', { min: 1 });
  const largest = Math.max(train.numClasses, test.numClasses);
  const numClasses = options.numClasses ?? largest;
  assertInteger(numClasses, fn, 'options.numClasses', { min: 1 });
  if (largest > numClasses) {
    throw new ValueRangeError(fn, 'options.numClasses', `exceed the largest label (${largest - 1})`, String(numClasses));
  }
  const rng = createRng(seed, fn, 'options.seed');

  // Hold-out split, seeded.
  const order = rng.permutation(n);
  const nVal = validationFraction > 0 ? Math.round(n * validationFraction) : 0;
  if (validationFraction > 0 && (nVal < 1 || nVal >= n)) {
    throw new ValueRangeError(
      fn,
      'options.validationFraction',
      `leave at least one row on each side of the hold-out split (N = ${n})`,
      String(validationFraction),
    );
  }
  const fitIds = order.slice(nVal);
  const valIds = order.slice(0, nVal);
  const nFit = fitIds.length;

  interface ProbeData {
    mean: tf.Tensor;
    std: tf.Tensor;
    fitX: tf.Tensor2D;
    fitY: tf.Tensor2D;
    valX: tf.Tensor2D | null;
    valY: tf.Tensor2D | null;
  }
  const data = tf.tidy((): tf.TensorContainer => {
    const labelsOneHot = tf.cast(tf.oneHot(trainLabels, numClasses), 'float32');
    const fitX = tf.gather(trainFeatures, tf.tensor1d(fitIds, 'int32'));
    const fitY = tf.gather(labelsOneHot, tf.tensor1d(fitIds, 'int32'));
    let mean: tf.Tensor = tf.zeros([dim]);
    let std: tf.Tensor = tf.ones([dim]);
    if (standardize) {
      const moments = tf.moments(fitX, 0);
      mean = moments.mean;
      const s = tf.sqrt(moments.variance);
      // Constant columns stay unscaled (scikit-learn's StandardScaler does the same).
      std = tf.where(tf.greater(s, 1e-12), s, tf.onesLike(s));
    }
    const scale = (x: tf.Tensor) => tf.div(tf.sub(x, mean), std);
    return {
      mean,
      std,
      fitX: scale(fitX) as tf.Tensor2D,
      fitY: fitY as tf.Tensor2D,
      valX: nVal > 0 ? (scale(tf.gather(trainFeatures, tf.tensor1d(valIds, 'int32'))) as tf.Tensor2D) : null,
      valY: nVal > 0 ? (tf.gather(labelsOneHot, tf.tensor1d(valIds, 'int32')) as tf.Tensor2D) : null,
    } as unknown as tf.TensorContainer;
  }) as unknown as ProbeData;
  const w = tf.tidy(() => tf.variable(tf.zeros([dim, numClasses]), true));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true));
  const optimizer = tf.train.adam(learningRate);
  let best: { w: tf.Tensor; b: tf.Tensor } | null = null;
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let epochsRun = 0;
  const crossEntropy = (x: tf.Tensor2D, y: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, w), b));
  const objective = (x: tf.Tensor2D, y: tf.Tensor2D) =>
    tf.tidy(() => tf.add(crossEntropy(x, y), tf.mul(l2 / 2, tf.sum(tf.square(w))))) as tf.Scalar;

  try {
    const fullBatch = batchSize >= nFit;
    let stale = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (fullBatch) {
        optimizer.minimize(() => objective(data.fitX, data.fitY), false, [w, b]);
      } else {
        const perm = rng.permutation(nFit);
        for (let start = 0; start < nFit; start += batchSize) {
          tf.tidy(() => {
            const ids = tf.tensor1d(perm.subarray(start, Math.min(start + batchSize, nFit)), 'int32');
            const xb = tf.gather(data.fitX, ids) as tf.Tensor2D;
            const yb = tf.gather(data.fitY, ids) as tf.Tensor2D;
            optimizer.minimize(() => objective(xb, yb), false, [w, b]);
          });
        }
      }
      epochsRun = epoch;
      if (data.valX !== null && data.valY !== null) {
        const lossTensor = tf.tidy(() => crossEntropy(data.valX!, data.valY!));
        const valLoss = (await lossTensor.data())[0]!;
        lossTensor.dispose();
        if (valLoss < bestLoss) {
          bestLoss = valLoss;
          bestEpoch = epoch;
          stale = 0;
          if (best !== null) tf.dispose([best.w, best.b]);
          best = { w: tf.clone(w), b: tf.clone(b) };
        } else if (++stale >= patience) {
          break;
        }
      }
    }
    if (best !== null) {
      w.assign(best.w);
      b.assign(best.b);
    } else {
      bestEpoch = epochsRun;
    }

    const finalObjective = objective(data.fitX, data.fitY);
    const objectiveValue = (await finalObjective.data())[0]!;
    finalObjective.dispose();
    const [weights, bias] = tf.tidy(() => {
      const rawW = tf.div(w, tf.expandDims(data.std, 1));
      const rawB = tf.sub(b, tf.squeeze(tf.matMul(tf.expandDims(tf.div(data.mean, data.std), 0), w), [0]));
      return [rawW as tf.Tensor2D, rawB as tf.Tensor1D];
    });
    const predict = async (x: tf.Tensor2D) => {
      const t = tf.tidy(() => tf.argMax(tf.add(tf.matMul(x, weights), bias), 1));
      const out = new Int32Array(await t.data());
      t.dispose();
      return out;
    };
    const accuracyOf = (pred: Int32Array, truth: ArrayLike<number>) => {
      let ok = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) ok++;
      return ok / pred.length;
    };
    const predictions = await predict(testFeatures);
    const subset = (ids: Int32Array) => tf.tidy(() => tf.gather(trainFeatures, tf.tensor1d(ids, 'int32')) as tf.Tensor2D);
    const fitRaw = subset(fitIds);
    const trainAccuracy = accuracyOf(await predict(fitRaw), Array.from(fitIds, (i) => train.values[i]!));
    fitRaw.dispose();
    let validationAccuracy: number | null = null;
    if (nVal > 0) {
      const valRaw = subset(valIds);
      validationAccuracy = accuracyOf(await predict(valRaw), Array.from(valIds, (i) => train.values[i]!));
      valRaw.dispose();
    }
    return {
      accuracy: accuracyOf(predictions, test.values),
      predictions,
      trainAccuracy,
      validationAccuracy,
      objective: objectiveValue,
      epochs: epochsRun,
      bestEpoch,
      weights,
      bias,
    };
  } finally {
    optimizer.dispose();
    tf.dispose([w, b, data.mean, data.std, data.fitX, data.fitY]);
    if (data.valX !== null) tf.dispose([data.valX, data.valY!]);
    if (best !== null) tf.dispose([best.w, best.b]);
  }
}
