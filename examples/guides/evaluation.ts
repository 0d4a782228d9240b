/**
 * The code of docs/evaluation.md, runnable:
 * `npx tsx examples/guides/evaluation.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * the encoder (a small conv net) and the Fashion-MNIST data are set up
 * outside them.
 */
import { convEncoder, loadFashionMnistSubset, ntXentLoss, useBackend } from 'selfsup';
import { BACKEND, QUICK } from '../lib/cli.js';

await useBackend(BACKEND);
const train = loadFashionMnistSubset(); // 600 images, 60 per class
const test = loadFashionMnistSubset({ split: 'test' }); // 200 images
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [8, 16, 16, 32], seed: 0 });
const images = train.images;

// #region features
import * as tf from '@tensorflow/tfjs-core';
import { embedImages } from 'selfsup';

const features = tf.tidy(() => encoder.predict(images) as tf.Tensor2D); // [N, D]
const sameFeatures = embedImages(encoder, images, { batchSize: 256 });  // the same, 256 images at a time
// #endregion features

console.log(`features ${features.shape.join('×')}`);
tf.dispose([features, sameFeatures]);
const trainFeatures = embedImages(encoder, train.images);
const testFeatures = embedImages(encoder, test.images);
const [trainLabels, testLabels] = [train.labels, test.labels];

// #region knn
import { knnClassifier } from 'selfsup';

const { accuracy, predictions } = await knnClassifier(trainFeatures, trainLabels, testFeatures, testLabels);
// #endregion knn

console.log(`random-init encoder: kNN accuracy ${(100 * accuracy!).toFixed(1)}% (${predictions.length} test images)`);

// #region linear-probe
import { linearProbe } from 'selfsup';

const probe = await linearProbe(trainFeatures, trainLabels, testFeatures, testLabels, { seed: 0 });
console.log(probe.accuracy, probe.validationAccuracy, probe.bestEpoch);
probe.weights.dispose();
probe.bias.dispose();
// #endregion linear-probe

tf.dispose([trainFeatures, testFeatures]);

// A collapsed projector: every image maps to the same embedding.
const batchSize = 64;
const z = tf.tidy(() => tf.tile(tf.randomNormal([1, 32], 0, 1, 'float32', 0), [batchSize, 1])) as tf.Tensor2D;
const loss = tf.tidy(() => ntXentLoss(z, z).dataSync()[0]!);

// #region detect-collapse
import { detectCollapse } from 'selfsup';

const warnings = detectCollapse({ loss, uniformLoss: Math.log(2 * batchSize - 1), embeddings: z });
for (const w of warnings) console.warn(w.message);
// #endregion detect-collapse

console.log(`a collapsed batch raises ${warnings.length} warnings: ${warnings.map((w) => w.kind).join(', ')}`);
z.dispose();
const steps = QUICK ? 3 : 100;

// #region train-loop
import { ProgressBar, SimCLR, tensorDataset, trainLoop } from 'selfsup';

const simclr = new SimCLR(encoder, { seed: 0 });
const bar = new ProgressBar({ steps, label: 'SimCLR', batchSize }); // a bar on a terminal, log lines in a pipe
const result = await trainLoop({
  steps,
  batchSize,
  batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }), // or imageFolder(…).batches(…)
  step: (_, batch) => {
    const loss = simclr.step(batch!.images); // the loop runs each step in tf.tidy and disposes the batch
    return { loss, embeddings: simclr.project(batch!.images, false) };
  },
  collapse: { uniformLoss: Math.log(2 * batchSize - 1) },
  onWarning: (w) => console.warn(w.message),
  onProgress: (p) => bar.update(p),
});
bar.done();
// #endregion train-loop

console.log(`SimCLR: ${result.stepsRun} steps, last loss ${result.losses.at(-1)?.toFixed(3)}, ${result.warnings.length} collapse warnings`);
simclr.dispose();
encoder.dispose();
tf.dispose([train.images, train.labels, test.images, test.labels]);
console.log(`tensors left: ${tf.memory().numTensors}`);
