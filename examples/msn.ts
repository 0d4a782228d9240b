/**
 * MSN and PMSN on Fashion-MNIST: `npx tsx examples/msn.ts [--quick] [--backend=cpu]`.
 *
 * Masked Siamese Networks train the benchmark's conv encoder: the anchor view
 * has 30 % of its 4×4-pixel patches zeroed, and its prototype assignment must
 * match the sharpened one of an unmasked target view (EMA network). PMSN is
 * the same with a power-law prior on the prototypes in place of MSN's
 * uniform one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, embedImages, grayscaleAugment, MSN, PMSN, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const makeEncoder = () => convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2, seed: 0 });
const random = makeEncoder();
const baseline = await evaluate((x) => embedImages(random, x), train, test);
random.dispose();

const steps = QUICK ? 3 : 120;
for (const Method of [MSN, PMSN]) {
  const encoder = makeEncoder();
  const method = new Method(encoder, {
    augment: grayscaleAugment({ cropScale: [0.3, 1] }),
    maskRatio: 0.3,
    numPrototypes: 256,
    projectionDim: 128,
    hiddenDim: 512,
    totalSteps: steps,
    learningRate: 3e-3,
    seed: 1,
  });
  const batchSize = QUICK ? 32 : 256;
  const bar = new ProgressBar({ steps, label: method.name, batchSize });
  await trainLoop({
    steps,
    batchSize,
    batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }),
    step: (_, batch) => method.step(batch!.images),
    onProgress: (p) => bar.update(p),
  });
  bar.done();
  const learned = await evaluate((x) => method.embed(x), train, test);
  console.log(`${method.name} on ${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
  method.dispose();
  encoder.dispose();
}
tf.dispose([train.images, train.labels, test.images, test.labels]);
console.log(`tensors left: ${tf.memory().numTensors}`);
