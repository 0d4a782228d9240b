/**
 * Solving jigsaw puzzles (Noroozi & Favaro 2016) on Fashion-MNIST:
 * `npx tsx examples/jigsaw.ts [--quick] [--backend=cpu]`.
 *
 * 3×3 tiles go through the same encoder; the head names which of 100
 * maximally different permutations shuffled them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, Jigsaw, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new Jigsaw(encoder, { grid: 3, numPermutations: 100, learningRate: 1e-3, seed: 1 });
console.log(`permutation set: ${task.permutations.length} permutations of 9 tiles (${task.tileSize}×${task.tileSize} in ${task.cellSize}×${task.cellSize} cells); the first two: ${task.permutations[0]!.join('')}, ${task.permutations[1]!.join('')}`);
const steps = QUICK ? 5 : 300;
const batchSize = 64;
const bar = new ProgressBar({ steps, label: 'jigsaw', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p, { chance: 'ln 100 = 4.605' }),
});
bar.done();

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
task.dispose();
encoder.dispose();
tf.dispose([train.images, train.labels, test.images, test.labels]);
