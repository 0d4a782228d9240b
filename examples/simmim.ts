/**
 * SimMIM on a convolutional encoder, Fashion-MNIST: `npx tsx examples/simmim.ts [--quick] [--backend=cpu]`.
 *
 * Masked image modelling for a conv network: 60 % of the 7×7 patches of each
 * image are replaced by a learned value, and one linear layer predicts their
 * pixels from the encoder's last feature map. The encoder is then judged by a
 * linear probe and kNN next to its random initialisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, ProgressBar, SimMIM, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
// The learning benchmark's encoder: 28 → 14 → 7 → 4, so one feature-map position covers 7×7 pixels.
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2, seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new SimMIM(encoder, { maskRatio: 0.6, learningRate: 3e-3, seed: 1 });
console.log(`SimMIM on a conv encoder: stride ${task.stride}, ${task.maskPatchSize}×${task.maskPatchSize} mask patches`);
const steps = QUICK ? 4 : 300;
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: 'SimMIM', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();

const sample = tf.slice(test.images, 0, 16) as tf.Tensor4D;
const { masked, prediction, mask } = task.reconstruct(sample);
const maskedError = tf.tidy(() => tf.div(tf.sum(tf.mul(tf.abs(tf.sub(prediction, sample)), mask)), tf.sum(mask)).dataSync()[0]!);
console.log(`mean |error| on the masked 60 % of unseen images: ${maskedError.toFixed(4)} (learned mask value ${task.maskToken.dataSync()[0]!.toFixed(3)})`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([sample, masked, prediction, mask, train.images, train.labels, test.images, test.labels]);
task.dispose();
encoder.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
