/**
 * Four joint-embedding methods designed for small batches, side by side on
 * Fashion-MNIST: `npx tsx examples/small-batch-methods.ts [--quick] [--backend=cpu]`.
 *
 * - DCLW: a contrastive loss without the positive pair in the denominator;
 * - TiCo: invariance plus a contrast against a moving covariance of past embeddings;
 * - FastSiam: SimSiam where each view predicts the mean of three others;
 * - MMCR: the nuclear norm of the views' centroids, maximised.
 *
 * Each pretrains a fresh copy of the same small conv encoder on batches of 64
 * images, then the frozen encoder is judged by kNN (labels are used only there).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  convEncoder,
  DCL,
  embedImages,
  FastSiam,
  grayscaleAugment,
  MMCR,
  ProgressBar,
  tensorDataset,
  TiCo,
  trainLoop,
  useBackend,
  type ImageEncoder,
  type JointEmbeddingTask,
} from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const makeEncoder = () => convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2, seed: 0 });
const steps = QUICK ? 2 : 150;
const shared = { augment: grayscaleAugment({ cropScale: [0.3, 1] }), learningRate: 3e-3, totalSteps: steps, seed: 1 };

const random = makeEncoder();
const baseline = await evaluate((x) => embedImages(random, x), train, test);
random.dispose();
console.log(`${source}: random init kNN ${percent(baseline.knn)}, linear probe ${percent(baseline.linear)}`);

const methods: [string, (encoder: ImageEncoder) => JointEmbeddingTask][] = [
  ['DCLW', (e) => new DCL(e, { ...shared, weighted: true, temperature: 0.2, hiddenDim: 256, projectionDim: 64 })],
  ['TiCo', (e) => new TiCo(e, { ...shared, momentum: 0.99, hiddenDim: 256, projectionDim: 64 })],
  ['FastSiam', (e) => new FastSiam(e, { ...shared, numViews: 4, projectionDim: 256 })],
  ['MMCR', (e) => new MMCR(e, { ...shared, numViews: 4, hiddenDim: 256, projectionDim: 64 })],
];
for (const [name, make] of methods) {
  const encoder = makeEncoder();
  const task = make(encoder);
  // The four-view methods see 32 images × 4 views: the same encoder passes as 64 images × 2 views.
  const batchSize = name === 'FastSiam' || name === 'MMCR' ? 32 : 64;
  const bar = new ProgressBar({ steps, label: name, batchSize });
  await trainLoop({
    steps,
    batchSize,
    batches: tensorDataset(train.images).batches({ batchSize, seed: 0, epochs: Infinity }),
    step: (_, batch) => task.step(batch!.images),
    onProgress: (p) => bar.update(p),
  });
  bar.done();
  const result = await evaluate((x) => task.embed(x), train, test);
  console.log(`${name}: kNN ${percent(result.knn)}, linear probe ${percent(result.linear)}`);
  task.dispose();
  encoder.dispose();
}
tf.dispose([train.images, train.labels, test.images, test.labels]);
console.log(`tensors left: ${tf.memory().numTensors}`);
