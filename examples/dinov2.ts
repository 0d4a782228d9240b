/**
 * DINOv2 on Fashion-MNIST: `npx tsx examples/dinov2.ts [--quick] [--backend=cpu]`.
 *
 * A tiny ViT is trained with DINOv2's three objectives — DINO on the class
 * token, iBOT on masked patch tokens and the KoLeo regulariser — then its
 * class-token features are probed next to the same ViT at initialisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DINOv2, embedImages, grayscaleAugment, ProgressBar, tensorDataset, tinyVit, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: QUICK ? 32 : 64, depth: QUICK ? 2 : 4, heads: 4, seed: 0 });
const baseline = await evaluate((x) => embedImages(vit, x), train, test);

const steps = QUICK ? 3 : 200;
const dinov2 = new DINOv2(vit, {
  // Two global crops at the ViT's size (its input size is fixed: no local crops).
  crops: { global: { count: 2, size: 28, scale: [0.3, 1], transforms: grayscaleAugment({ crop: false }) } },
  outputDim: 256,
  hiddenDim: 256,
  bottleneckDim: 64,
  totalSteps: steps,
  seed: 1,
});
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: 'DINOv2', batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }),
  step: (_, batch) => dinov2.step(batch!.images), // DINO + iBOT + 0.1·KoLeo, one Adam step, centers, EMA teacher
  onProgress: (p) => bar.update(p),
});
bar.done();

const learned = await evaluate((x) => dinov2.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([train.images, train.labels, test.images, test.labels]);
dinov2.dispose();
vit.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
