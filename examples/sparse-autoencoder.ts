/**
 * A sparse autoencoder on Fashion-MNIST: `npx tsx examples/sparse-autoencoder.ts [--quick] [--backend=cpu]`.
 *
 * The conv encoder's pooled features are the code; a decoder reconstructs
 * the image from it while an L1 (or KL) penalty keeps the code sparse.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, ProgressBar, SparseAutoencoder, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const kind = process.argv.includes('--kl') ? 'kl' : 'l1';
const task = new SparseAutoencoder(encoder, { sparsity: kind, sparsityWeight: 0.01, learningRate: 2e-3, seed: 1 });
const steps = QUICK ? 5 : 150;
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: `sparse autoencoder (${kind})`, batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();

// How sparse is the code, and how good is the reconstruction of unseen images?
const sample = tf.slice(test.images, 0, 64) as tf.Tensor4D;
const code = task.embed(sample);
const zeroFraction = tf.mean(tf.cast(tf.lessEqual(code, 1e-3), 'float32')).dataSync()[0]!;
const reconstruction = task.reconstruct(sample);
const mse = tf.mean(tf.squaredDifference(reconstruction, sample)).dataSync()[0]!;
console.log(`code units at zero: ${percent(zeroFraction)}; test reconstruction MSE ${mse.toFixed(4)}`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([sample, code, reconstruction]);
task.dispose();
encoder.dispose();
