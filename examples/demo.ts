/**
 * The selfsup demo: `npm run demo`, a few-second tour that trains nothing.
 *
 * Sets up the wasm backend (SIMD, gradients, selfsup's training kernels),
 * loads real data (the vendored photos; Fashion-MNIST from Debian when
 * installed, else the vendored subset) and shows the two halves of every SSL
 * method on it: an augmentation pipeline that makes two views of each image,
 * and a loss that scores whether two embeddings come from the same image.
 * Pass `--quick` for the short version the tests run, `--backend=cpu` to
 * compare backends. Training is in examples/pretrain-simclr.ts and the
 * browser demo.
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
console.log(`selfsup demo: the two halves of every self-supervised method, on real data. It trains nothing.
  1. an augmentation pipeline turns each image into two random "views";
  2. a contrastive loss (NT-Xent, SimCLR's) scores whether two embeddings come from the same image.
Training puts them together: an encoder learns to embed the views of one image alike. To see that, run
  npx tsx examples/pretrain-simclr.ts   (SimCLR on Fashion-MNIST, kNN accuracy before and after)
  npm run demo:browser                  (the same live in a browser, with plots)
`);
console.log(
  `Backend: ${info.backend}${info.simd ? ' with SIMD' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}, ` +
    `gradients ${info.gradients ? 'registered' : 'missing'}, ${info.kernels.length} selfsup kernels ` +
    `(tfjs ${info.tfjsVersion}, ${info.environment}).`,
);

// 1. SimCLR's augmentation on the four vendored colour photographs.
const photos = loadPhotos({ size: 64 });
const [viewA, viewB] = twoViews(photos.images, simclrAugment(), { seed: 1 });
const change = tf.tidy(() => tf.mean(tf.abs(tf.sub(viewA, viewB))).dataSync()[0] as number);
console.log(
  `\n1. Augmentation: simclrAugment made two views of each of ${photos.names.length} photos (${photos.names.join(', ')}), ` +
    `${viewA.shape.slice(1, 3).join('×')} pixels.\n   The two views of a photo differ by ${change.toFixed(3)} per pixel on average ` +
    `(0 = identical, pixels in [0, 1]): crops, flips and colour changes.`,
);
tf.dispose([photos.images, viewA, viewB]);

// 2. Fashion-MNIST: the full test split from Debian's package, or the vendored subset.
let fashion;
try {
  fashion = loadFashionMnist({ split: 'test', limit: QUICK ? 512 : 4096 });
  console.log(`\n2. Data: ${fashion.images.shape[0]} Fashion-MNIST test images from Debian's dataset-fashion-mnist package.`);
} catch (e) {
  if (!(e instanceof MissingDataError)) throw e;
  fashion = loadFashionMnistSubset({ split: 'test' });
  console.log(
    `\n2. Data: the ${fashion.images.shape[0]} Fashion-MNIST test images that ship with selfsup ` +
      `(apt-get install dataset-fashion-mnist for the full set).`,
  );
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
  `\n3. Loss: NT-Xent on batches of ${batch} images, with the raw pixels of each view as its "embedding" (τ = 0.1):\n` +
    `   views of the same image paired ${matched.toFixed(3)}, views of different images paired ${shuffled.toFixed(3)}; ` +
    `a score that cannot tell them apart is log(2·${batch} − 1) = ${Math.log(2 * batch - 1).toFixed(3)}.\n` +
    `   Lower is better: even raw pixels carry some of the signal; training an encoder drives the paired value down.`,
);

tf.dispose([fashion.images, fashion.labels]);
console.log(`\nTensors left in memory at the end: ${tf.memory().numTensors} (every selfsup function frees what it does not return).`);
