/**
 * A denoising autoencoder on Fashion-MNIST: `npx tsx examples/denoising-autoencoder.ts [--quick] [--backend=cpu]`.
 *
 * A quarter of the pixels are set to zero and the network restores them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, DenoisingAutoencoder, embedImages, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new DenoisingAutoencoder(encoder, { dropProbability: 0.25, learningRate: 2e-3, seed: 1 });
const steps = QUICK ? 5 : 150;
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: 'denoising autoencoder', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();

// Denoise unseen images: the error on the dropped pixels before and after.
const clean = tf.slice(test.images, 0, 64) as tf.Tensor4D;
const noisy = task.corrupt(clean);
const restored = task.reconstruct(noisy);
const before = tf.mean(tf.squaredDifference(noisy, clean)).dataSync()[0]!;
const after = tf.mean(tf.squaredDifference(restored, clean)).dataSync()[0]!;
console.log(`test MSE: corrupted ${before.toFixed(4)} → restored ${after.toFixed(4)}`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([clean, noisy, restored]);
task.dispose();
encoder.dispose();
