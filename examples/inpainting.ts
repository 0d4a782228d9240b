/**
 * Inpainting with a Context Encoder on Fashion-MNIST: `npx tsx examples/inpainting.ts [--quick] [--backend=cpu] [--mask=center|random-rectangle|irregular]`.
 *
 * Regions of each image are removed (a centred square, random rectangles or free-form strokes); an encoder–decoder paints it back,
 * trained with 0.999 × masked L2 + 0.001 × adversarial loss against a patch
 * discriminator updated in alternation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ContextEncoder, convEncoder, embedImages, type InpaintingMaskKind, ProgressBar, tensorDataset, trainLoop, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const mask = (process.argv.find((a) => a.startsWith('--mask='))?.split('=')[1] ?? 'random-rectangle') as InpaintingMaskKind;
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new ContextEncoder(encoder, { mask, learningRate: 1e-3, seed: 1 });
const steps = QUICK ? 4 : 120;
const batchSize = QUICK ? 32 : 128;
const bar = new ProgressBar({ steps, label: `context encoder (${mask})`, batchSize });
await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => task.step(batch!.images),
  onProgress: (p) => bar.update(p, { discriminator: task.lastDiscriminatorLoss }),
});
bar.done();

// Fill holes in unseen images: the error inside the hole, against filling it with the mean.
const sample = tf.slice(test.images, 0, 64) as tf.Tensor4D;
const holes = task.sampleMask(64);
const filled = task.inpaint(sample, holes);
const meanFill = task.maskImages(sample, holes);
const holeError = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(tf.squaredDifference(x, sample), holes)), tf.sum(holes)).dataSync()[0]!;
console.log(`MSE inside the holes: mean fill ${holeError(meanFill).toFixed(4)} → inpainted ${holeError(filled).toFixed(4)}`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
tf.dispose([sample, holes, filled, meanFill]);
task.dispose();
encoder.dispose();
