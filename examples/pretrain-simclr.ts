/**
 * Pretrain a small conv encoder with SimCLR on unlabeled Fashion-MNIST, then
 * measure what it learned with a kNN classifier (labels are used only there).
 * `npx tsx examples/pretrain-simclr.ts` (add `--quick` for a few-second run).
 *
 * The regions `pretrain-imports`, `sizes` and `pretrain` make the "Pretrain
 * an encoder" snippet of docs/getting-started.md.
 */
import { QUICK } from './lib/cli.js';

// #region pretrain-imports
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, knnClassifier, loadFashionMnist, loadFashionMnistSubset, ProgressBar, SimCLR, tensorDataset, trainLoop, useBackend } from 'selfsup';

// #endregion pretrain-imports
// #region sizes
let [steps, batchSize, trainSize, testSize] = [300, 256, 20_000, 10_000]; // try fewer steps first for a quick look
// #endregion sizes
if (QUICK) [steps, batchSize, trainSize, testSize] = [6, 48, 400, 200];

// #region pretrain
await useBackend('wasm');
let train, test;
try { // the full dataset, from Debian's dataset-fashion-mnist package
  [train, test] = [loadFashionMnist({ limit: trainSize }), loadFashionMnist({ split: 'test', limit: testSize })];
} catch { // not installed: the 800-image subset that ships inside selfsup
  [train, test] = [loadFashionMnistSubset(), loadFashionMnistSubset({ split: 'test' })];
}
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed: 0 });
const knn = async (label: string) => { // the labels are used only here, to measure what the encoder learned
  const [a, b] = [embedImages(encoder, train.images), embedImages(encoder, test.images)];
  const { accuracy } = await knnClassifier(a, train.labels, b, test.labels, { k: 20 });
  console.log(`${label}: kNN accuracy ${(100 * accuracy!).toFixed(1)}%`);
  tf.dispose([a, b]);
};
await knn('random encoder');

const simclr = new SimCLR(encoder, { temperature: 0.1, hiddenDim: 256, projectionDim: 64, learningRate: 3e-3, seed: 1 });
const batches = tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }); // unlabeled, reshuffled every epoch
const bar = new ProgressBar({ steps, label: 'SimCLR', batchSize }); // redrawn on a terminal, log lines when piped
// Each step: two augmented views → encoder → projector → NT-Xent → Adam.
await trainLoop({ steps, batchSize, batches, step: (_, batch) => simclr.step(batch!.images), onProgress: (p) => bar.update(p) });
bar.done();
await knn('after SimCLR');
simclr.dispose();
encoder.dispose();
// #endregion pretrain

tf.dispose([train.images, train.labels, test.images, test.labels]);
console.log(`tensors left: ${tf.memory().numTensors}`);
