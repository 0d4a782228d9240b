/**
 * Cross-modal correspondence (audio-visual correspondence, L³-Net) on
 * Fashion-MNIST images and a second, sensor-like modality — each garment's
 * line-scan reading (row and column intensity profiles with gain and noise):
 * `npx tsx examples/cross-modal-correspondence.ts [--quick] [--backend=cpu]`.
 *
 * The two sub-networks learn whether a reading belongs to an image; the
 * accuracy is measured on test images never seen, against 50 % chance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, createRng, CrossModalCorrespondence, mlpEncoder, ProgressBar, tensorDataset, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { sensorReadings } from './lib/paired-fashion.js';
import { fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const rng = createRng(0);
const trainReadings = sensorReadings(train.images, rng);
const testReadings = sensorReadings(test.images, rng);

const vision = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const sensor = mlpEncoder({ inputShape: [56], units: [128, 128], seed: 1 });
const task = new CrossModalCorrespondence(vision, sensor, { hiddenDim: 128, learningRate: 1e-3, seed: 2 });

const steps = QUICK ? 5 : 250;
const batchSize = QUICK ? 32 : 128;
const stream = tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity, dropLast: true });
const bar = new ProgressBar({ steps, label: 'correspondence', batchSize });
for (let s = 0; s < steps; s++) {
  const { images, indices, dispose } = (await stream.next()).value!;
  const readings = tf.tidy(() => tf.gather(trainReadings, tf.tensor1d(indices, 'int32'))); // each image's own reading
  const loss = task.step(images, readings); // half aligned pairs, half shuffled negatives
  tf.dispose(readings);
  dispose();
  bar.record(loss, { extras: { chance: 'ln 2 = 0.693' } });
}
bar.done();

// Held-out: each test image with its own reading and with another image's.
const m = test.images.shape[0];
const others = tf.tensor1d(Array.from({ length: m }, (_, i) => (i + 1 + rng.int(0, m - 1)) % m), 'int32');
const positive = task.predict(test.images, testReadings).dataSync();
const negative = task.predict(test.images, tf.gather(testReadings, others)).dataSync();
let correct = 0;
for (let i = 0; i < m; i++) correct += (positive[i]! > 0.5 ? 1 : 0) + (negative[i]! <= 0.5 ? 1 : 0);
console.log(`${source}: correspondence accuracy on ${m} unseen test images ${percent(correct / (2 * m))} (chance 50 %)`);

tf.dispose([trainReadings, testReadings, others]);
task.dispose();
vision.dispose();
sensor.dispose();
