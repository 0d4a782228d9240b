/**
 * Exemplar CNN (Dosovitskiy et al. 2014) on Fashion-MNIST:
 * `npx tsx examples/exemplar-cnn.ts [--quick] [--backend=cpu] [--non-parametric]`.
 *
 * N images become N classes; the encoder learns to recognise heavily
 * augmented copies of each. `--non-parametric` replaces the N-way classifier
 * by a memory bank of the exemplars' own features.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, ExemplarCnn, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const variant = process.argv.includes('--non-parametric') ? 'non-parametric' : 'parametric';
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const numExemplars = QUICK ? 64 : 2000;
const task = new ExemplarCnn(encoder, { numExemplars, variant, learningRate: 1e-3, seed: 1 });
const steps = QUICK ? 6 : 300;
const batchSize = 128;
const bar = new ProgressBar({ steps, label: `exemplar CNN (${variant}, ${numExemplars} classes)`, batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  // the first batches become the exemplars
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p, { exemplars: task.exemplarCount, chance: `ln N = ${Math.log(numExemplars).toFixed(2)}` }),
});
bar.done();

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
task.dispose();
encoder.dispose();
tf.dispose([train.images, train.labels, test.images, test.labels]);
