/**
 * Context prediction (Doersch et al. 2015) on Fashion-MNIST:
 * `npx tsx examples/context-prediction.ts [--quick] [--backend=cpu]`.
 *
 * Given a patch and one of its eight neighbours (with a gap and jitter), the
 * network says where the neighbour lies.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ContextPrediction, convEncoder, embedImages, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new ContextPrediction(encoder, { patchSize: 7, gap: 2, jitter: 1, learningRate: 1e-3, seed: 1 });
const steps = QUICK ? 5 : 300;
const batchSize = 128;
const bar = new ProgressBar({ steps, label: 'context prediction', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p, { chance: 'ln 8 = 2.079' }),
});
bar.done();

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
task.dispose();
encoder.dispose();
tf.dispose([train.images, train.labels, test.images, test.labels]);
