/**
 * The code of docs/discriminative-tasks.md, runnable:
 * `npx tsx examples/guides/discriminative-tasks.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * `encoder` (a small conv encoder), `images` and `dataset` (unlabeled
 * Fashion-MNIST images) are set up outside them. The full training runs are
 * the top-level examples (rotation-prediction.ts, jigsaw.ts, …).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ContextPrediction, convEncoder, DeepCluster, ExemplarCnn, Jigsaw, loadFashionMnistSubset, RotationPrediction, useBackend } from 'selfsup';
import { BACKEND, QUICK } from '../lib/cli.js';

await useBackend(BACKEND);
const data = loadFashionMnistSubset(); // 600 training images [600, 28, 28, 1]
const dataset = data.images;
const images = tf.slice(dataset, 0, 32) as tf.Tensor4D;
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [8, 16, 16, 32], seed: 0 });
const epochs = QUICK ? 1 : 3;

{
  // #region rotation
  const task = new RotationPrediction(encoder, { learningRate: 2e-3 });
  task.step(images);                                 // trains on all 4 rotations of each image
  const { images: rotated, labels } = task.rotationBatch(images);
  const logits = task.predict(rotated);              // [4B, 4]
  // #endregion rotation
  console.log(`rotation: logits ${logits.shape.join('×')} for labels ${labels.shape.join('×')}`);
  tf.dispose([rotated, labels, logits]);
  task.dispose();
}

{
  // #region jigsaw
  const task = new Jigsaw(encoder, { grid: 3, numPermutations: 100 });
  const permutations = task.permutations;            // the maximal-Hamming set: 100 orders of the 9 tiles
  const { tiles, labels } = task.puzzle(images);     // [9B, t, t, C], permutation indices
  // #endregion jigsaw
  console.log(`jigsaw: ${permutations.length} permutations, tiles ${tiles.shape.join('×')}, loss ${task.step(images).toFixed(3)}`);
  tf.dispose([tiles, labels]);
  task.dispose();
}

{
  // #region context
  const task = new ContextPrediction(encoder, { patchSize: 7, gap: 2, jitter: 1 });
  const { patches, labels } = task.pairs(images);   // [2B, p, p, C] (centre, neighbour), positions 0–7
  // #endregion context
  console.log(`context prediction: patches ${patches.shape.join('×')}, loss ${task.step(images).toFixed(3)}`);
  tf.dispose([patches, labels]);
  task.dispose();
}

{
  const batch = images;
  // #region deep-cluster
  // The contract of every method: step(batch). The task keeps a memory of recent
  // images, reclusters it every `clusterEvery` steps, and trains on batches drawn from it.
  const task = new DeepCluster(encoder, { numClusters: 100, pcaDim: 32, memorySize: 4096, clusterEvery: 50 });
  task.step(batch);

  // The paper's loop over a fixed dataset, one round per epoch:
  for (let epoch = 0; epoch < epochs; epoch++) {
    const { assignments } = task.recluster(dataset);         // PCA, k-means, a fresh head: a cluster per image
    for (let start = 0; start + 64 <= dataset.shape[0]; start += 64) {
      const images = tf.slice(dataset, start, 64) as tf.Tensor4D;
      const pseudoLabels = tf.tensor1d(assignments.subarray(start, start + 64), 'int32');
      task.trainStep(images, pseudoLabels);
      tf.dispose([images, pseudoLabels]);
    }
  }
  // #endregion deep-cluster
  console.log(`DeepCluster: last clustering k = ${task.lastClustering?.k}, inertia ${task.lastClustering?.inertia.toFixed(2)}`);
  task.dispose();
}

{
  const seedImages = tf.slice(dataset, 0, 500) as tf.Tensor4D;
  // #region exemplar
  const task = new ExemplarCnn(encoder, { numExemplars: 500 });   // the first 500 images step() sees become the classes
  task.setExemplars(seedImages);                                   // or choose them: [500, H, W, C]
  task.step(images);                                               // a batch of augmented copies of random exemplars
  // Non-parametric: a memory bank of the exemplars' own features instead of N classifier weights.
  const bank = new ExemplarCnn(encoder, { numExemplars: 500, variant: 'non-parametric', temperature: 0.07 });
  // #endregion exemplar
  bank.setExemplars(seedImages);
  console.log(`exemplar CNN: ${task.exemplarCount} exemplars, non-parametric loss ${bank.step(images).toFixed(3)}`);
  tf.dispose(seedImages);
  task.dispose();
  bank.dispose();
}

tf.dispose([data.images, data.labels, images]);
encoder.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
