/**
 * A masked autoencoder (MAE) on Fashion-MNIST: `npx tsx examples/masked-autoencoder.ts [--quick] [--backend=cpu]`.
 *
 * The tiny ViT sees a random quarter of the 7×7 patches; the decoder paints the rest.
 */
import * as tf from '@tensorflow/tfjs-core';
import { embedImages, MaskedAutoencoder, ProgressBar, tensorDataset, tinyVit, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: QUICK ? 32 : 64, depth: QUICK ? 2 : 4, heads: 4, pool: 'mean', seed: 0 });
const baseline = await evaluate((x) => embedImages(vit, x), train, test);

// normPixLoss: false so the decoder's output is in pixel units and can be pasted back for display.
const task = new MaskedAutoencoder(vit, { maskRatio: 0.75, normPixLoss: false, learningRate: 1e-3, seed: 1 });
const steps = QUICK ? 5 : 200;
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: 'MAE', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();

const sample = tf.slice(test.images, 0, 16) as tf.Tensor4D;
const { prediction, mask, pasted } = task.reconstruct(sample);
const maskedError = tf.div(tf.sum(tf.mul(tf.squaredDifference(prediction, sample), mask)), tf.sum(mask)).dataSync()[0]!;
console.log(`MSE on the removed 75 % of unseen images: ${maskedError.toFixed(4)}`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([sample, prediction, mask, pasted]);
task.dispose();
vit.dispose();
