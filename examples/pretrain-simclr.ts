/**
 * Pretrain a small conv encoder with SimCLR on unlabeled Fashion-MNIST, then
 * measure what it learned with a kNN classifier (labels are used only there).
 * `npx tsx examples/pretrain-simclr.ts` (add `--quick` for a few-second run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, knnClassifier, loadFashionMnist, loadFashionMnistSubset, SimCLR, useBackend } from 'selfsup';
import { progress, QUICK } from './lib/cli.js';

await useBackend('wasm');
const [steps, batch, n] = QUICK ? [6, 48, 400] : [300, 256, 20_000];
let train, test;
try {
  [train, test] = [loadFashionMnist({ limit: n }), loadFashionMnist({ split: 'test', limit: QUICK ? 200 : 10_000 })];
} catch {
  [train, test] = [loadFashionMnistSubset(), loadFashionMnistSubset({ split: 'test' })]; // Debian package not installed
}

const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed: 0 });
const knn = async (label: string) => {
  const [a, b] = [embedImages(encoder, train.images), embedImages(encoder, test.images)];
  const { accuracy } = await knnClassifier(a, train.labels, b, test.labels, { k: 20 });
  console.log(`${label}: kNN accuracy ${(100 * accuracy!).toFixed(1)}%`);
  tf.dispose([a, b]);
};
await knn('random encoder');

const simclr = new SimCLR(encoder, { temperature: 0.1, hiddenDim: 256, projectionDim: 64, learningRate: 3e-3, seed: 1 });
const bar = progress('SimCLR', steps);
for (let step = 0; step < steps; step++) {
  const ids = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => (step * batch + i) % train.images.shape[0]), 'int32');
  const images = tf.gather(train.images, ids) as tf.Tensor4D;
  const loss = simclr.step(images); // two augmented views → encoder → projector → NT-Xent → Adam
  tf.dispose([ids, images]);
  bar.tick(`loss ${loss.toFixed(3)}`);
}
bar.done();
await knn('after SimCLR');
simclr.dispose();
encoder.dispose();
