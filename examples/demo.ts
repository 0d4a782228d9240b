/**
 * The selfsup demo: `npm run demo`.
 *
 * Sets up the wasm backend (SIMD, gradients, selfsup's training kernels),
 * loads real data (the vendored photos and digits; Fashion-MNIST from Debian
 * when installed) and shows the two halves of every SSL method on it: an
 * augmentation pipeline that makes two views of each image, and a loss that
 * scores how well the views' embeddings match. Pass `--quick` for the short
 * version the tests run, `--backend=cpu` to compare backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  compose,
  l2Normalize,
  loadFashionMnist,
  loadFashionMnistSubset,
  loadPhotos,
  MissingDataError,
  ntXentLoss,
  ProgressBar,
  RandomHorizontalFlip,
  RandomResizedCrop,
  simclrAugment,
  tensorDataset,
  twoViews,
  useBackend,
} from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';

const info = await useBackend(BACKEND);
console.log('selfsup demo');
console.log(
  `backend: ${info.backend}  SIMD: ${info.simd ?? 'n/a'}  threads: ${info.threads}  ` +
    `gradients: ${info.gradients}  tfjs ${info.tfjsVersion}  (${info.environment})`,
);
console.log(`selfsup training kernels: ${info.kernels.length > 0 ? info.kernels.join(', ') : 'none needed'}`);

// 1. SimCLR's augmentation on the four vendored colour photographs.
const photos = loadPhotos({ size: 64 });
const [viewA, viewB] = twoViews(photos.images, simclrAugment(), { seed: 1 });
const change = tf.tidy(() => tf.mean(tf.abs(tf.sub(viewA, viewB))).dataSync()[0] as number);
console.log(`\nsimclrAugment on ${photos.names.join(', ')}: two views ${viewA.shape.join('×')}, mean |A − B| = ${change.toFixed(3)}`);
tf.dispose([photos.images, viewA, viewB]);

// 2. Fashion-MNIST: the full test split from Debian's package, or the vendored subset.
let fashion;
try {
  fashion = loadFashionMnist({ split: 'test', limit: QUICK ? 512 : 4096 });
  console.log(`Fashion-MNIST (Debian package): ${fashion.images.shape.join('×')} test images`);
} catch (e) {
  if (!(e instanceof MissingDataError)) throw e;
  fashion = loadFashionMnistSubset({ split: 'test' });
  console.log(`Fashion-MNIST package not installed; using the vendored subset: ${fashion.images.shape.join('×')}`);
}

// 3. NT-Xent between two augmented views, with raw pixels as the "embedding":
// matched views (each image with its own second view) against shuffled pairs.
// A good encoder drives the matched loss down; here it shows the signal the
// augmentation leaves in the pixels.
const greyscaleViews = compose([new RandomResizedCrop({ size: 28, scale: [0.5, 1] }), new RandomHorizontalFlip()]);
const batch = 256;
const stream = tensorDataset(fashion.images).batches({ batchSize: batch, shuffle: false, dropLast: true });
const batches = stream.batchesPerEpoch;
let matched = 0;
let shuffled = 0;
const bar = new ProgressBar({ steps: batches, label: 'NT-Xent on augmented views', batchSize: batch });
for await (const { images, batch: b, dispose } of stream) {
  const [m, s] = tf.tidy(() => {
    const [v1, v2] = twoViews(images, greyscaleViews, { seed: 100 + b });
    const z1 = l2Normalize(tf.reshape(v1, [batch, -1])) as tf.Tensor2D;
    const z2 = l2Normalize(tf.reshape(v2, [batch, -1])) as tf.Tensor2D;
    const shuffledZ2 = tf.concat([tf.slice(z2, [1, 0], [-1, -1]), tf.slice(z2, [0, 0], [1, -1])]) as tf.Tensor2D;
    return [
      ntXentLoss(z1, z2, { temperature: 0.1 }).dataSync()[0] as number,
      ntXentLoss(z1, shuffledZ2, { temperature: 0.1 }).dataSync()[0] as number,
    ];
  });
  dispose();
  matched += m / batches;
  shuffled += s / batches;
  bar.record(m);
}
bar.done();
console.log(
  `NT-Xent (τ = 0.1, N = ${batch}): matched views ${matched.toFixed(3)}, shuffled pairs ${shuffled.toFixed(3)}, ` +
    `uniform value log(2N − 1) = ${Math.log(2 * batch - 1).toFixed(3)}`,
);

tf.dispose([fashion.images, fashion.labels]);
console.log(`\ntensors alive at exit: ${tf.memory().numTensors}`);
