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
import { convEncoder, createRng, CrossModalCorrespondence, mlpEncoder, useBackend } from 'selfsup';
import { BACKEND, progress, QUICK } from './lib/cli.js';
import { sensorReadings } from './lib/paired-fashion.js';
import { batches, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const rng = createRng(0);
const trainReadings = sensorReadings(train.images, rng);
const testReadings = sensorReadings(test.images, rng);

const vision = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const sensor = mlpEncoder({ inputShape: [56], units: [128, 128], seed: 1 });
const task = new CrossModalCorrespondence(vision, sensor, { hiddenDim: 128, learningRate: 1e-3, seed: 2 });

const steps = QUICK ? 5 : 250;
const n = train.images.shape[0];
const pick = batches(tf.tidy(() => tf.reshape(tf.range(0, n), [n, 1, 1, 1])) as tf.Tensor4D, QUICK ? 32 : 128);
const bar = progress('correspondence', steps);
for (let s = 0; s < steps; s++) {
  const idx = pick();
  const ids = tf.cast(tf.reshape(idx, [-1]), 'int32');
  const images = tf.gather(train.images, ids) as tf.Tensor4D;
  const readings = tf.gather(trainReadings, ids);
  const loss = task.step(images, readings); // half aligned pairs, half shuffled negatives
  tf.dispose([idx, ids, images, readings]);
  bar.tick(`loss ${loss.toFixed(3)} (ln 2 = 0.693 is chance)`);
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
