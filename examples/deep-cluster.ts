/**
 * DeepCluster (Caron et al. 2018) on Fashion-MNIST: `npx tsx examples/deep-cluster.ts [--quick] [--backend=cpu]`.
 *
 * Each round clusters the encoder's (PCA-whitened, normalised) features with
 * k-means and trains the encoder to predict the clusters; here with an
 * explicit loop over a fixed image set, as the paper does per epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, createRng, DeepCluster, embedImages, ProgressBar, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { evaluate, fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const baseline = await evaluate((x) => embedImages(encoder, x), train, test);

const task = new DeepCluster(encoder, { numClusters: QUICK ? 20 : 100, pcaDim: QUICK ? 16 : 32, learningRate: 1e-3, seed: 1 });
const rounds = QUICK ? 2 : 5;
const stepsPerRound = QUICK ? 3 : 40;
const batch = 128;
const rng = createRng(2);
const labels = (y: tf.Tensor1D) => Array.from(y.dataSync());
const bar = new ProgressBar({ steps: rounds * stepsPerRound, label: 'deepcluster', batchSize: batch });
for (let round = 0; round < rounds; round++) {
  const clustering = task.recluster(train.images); // features → PCA + whitening → L2 → k-means; head re-initialised
  const members: number[][] = Array.from({ length: clustering.k }, () => []);
  clustering.assignments.forEach((c, i) => members[c]!.push(i));
  const nonEmpty = members.filter((m) => m.length > 0);
  for (let s = 0; s < stepsPerRound; s++) {
    // Uniform over clusters, then over the images of the cluster (DeepCluster's sampler).
    const ids = Array.from({ length: batch }, () => {
      const m = nonEmpty[rng.int(0, nonEmpty.length)]!;
      return m[rng.int(0, m.length)]!;
    });
    const images = tf.tidy(() => tf.gather(train.images, tf.tensor1d(ids, 'int32'))) as tf.Tensor4D;
    const pseudo = tf.tensor1d(ids.map((i) => clustering.assignments[i]!), 'int32');
    const loss = task.trainStep(images, pseudo);
    tf.dispose([images, pseudo]);
    bar.record(loss, { extras: { round: `${round + 1}/${rounds}`, clusters: `${nonEmpty.length}` } });
  }
}
bar.done();

// How well do the final clusters match the classes? (purity: majority class per cluster)
const final = task.recluster(train.images);
const y = labels(train.labels);
const counts = new Map<number, Map<number, number>>();
final.assignments.forEach((c, i) => {
  const m = counts.get(c) ?? new Map<number, number>();
  m.set(y[i]!, (m.get(y[i]!) ?? 0) + 1);
  counts.set(c, m);
});
const purity = [...counts.values()].reduce((s, m) => s + Math.max(...m.values()), 0) / y.length;
console.log(`cluster purity against the (unused) labels: ${percent(purity)} with k = ${final.k}`);

const learned = await evaluate((x) => task.embed(x), train, test);
console.log(`${source}: linear probe ${percent(learned.linear)} (random init ${percent(baseline.linear)}), kNN ${percent(learned.knn)} (random init ${percent(baseline.knn)})`);
task.dispose();
encoder.dispose();
tf.dispose([train.images, train.labels, test.images, test.labels]);
