/**
 * I-JEPA on Fashion-MNIST: `npx tsx examples/ijepa.ts [--quick] [--backend=cpu]`.
 *
 * A tiny ViT without a class token sees a context block of 4×4-pixel
 * patches; a narrow predictor fills in, in representation space, four target
 * blocks the context never shows, against an EMA target encoder. The mean of
 * the patch tokens is then probed next to the same ViT at initialisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { embedImages, IJEPA, ProgressBar, tensorDataset, tinyVit, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 4, dim: QUICK ? 32 : 64, depth: QUICK ? 2 : 4, heads: 4, classToken: false, seed: 0 });
const baseline = await evaluate((x) => embedImages(vit, x), train, test);

const steps = QUICK ? 3 : 200;
// The 7×7 patch grid: four target blocks of 15–20 % of the patches, a square context block of 85–100 %.
const ijepa = new IJEPA(vit, { totalSteps: steps, seed: 1 });
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: 'I-JEPA', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }),
  step: (_, batch) => ijepa.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();

const learned = await evaluate((x) => ijepa.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([train.images, train.labels, test.images, test.labels]);
ijepa.dispose();
vit.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
