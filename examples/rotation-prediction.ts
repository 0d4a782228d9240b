/**
 * Rotation prediction (RotNet) on Fashion-MNIST: `npx tsx examples/rotation-prediction.ts [--quick] [--backend=cpu]`.
 *
 * Every image is shown at 0°, 90°, 180° and 270°; the encoder learns to tell
 * which, and its features are then probed with a linear classifier against
 * the same encoder with random weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, ProgressBar, RotationPrediction, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const channels = QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128];
const encoder = convEncoder({ inputShape: [28, 28, 1], channels, seed: 0 });
// The same encoder with random weights, the baseline every pretext task must beat.
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new RotationPrediction(encoder, { learningRate: 2e-3, seed: 1 });
const steps = QUICK ? 10 : 150;
const batchSize = 32;
const bar = new ProgressBar({ steps, label: 'rotation', batchSize });
const run = await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images), // 4 × 32 rotated images per step
  onProgress: (p) => bar.update(p, { chance: 'ln 4 = 1.386' }),
});
bar.done(`loss ${run.losses.at(-1)!.toFixed(3)}`);

// How often does it recognise the rotation of unseen images?
const { images, labels } = task.rotationBatch(tf.slice(test.images, 0, 100) as tf.Tensor4D);
const predicted = tf.argMax(task.predict(images), 1);
const rotationAccuracy = tf.mean(tf.cast(tf.equal(predicted, labels), 'float32')).dataSync()[0]!;
console.log(`rotation accuracy on test images: ${percent(rotationAccuracy)} (chance 25 %)`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([images, labels, predicted]);
task.dispose();
encoder.dispose();
