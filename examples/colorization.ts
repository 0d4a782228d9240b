/**
 * Colorization (Zhang et al. 2016) on crops of the vendored colour photos:
 * `npx tsx examples/colorization.ts [--quick] [--backend=cpu]`.
 *
 * The network sees lightness only and predicts a distribution over the 313
 * ab colour bins per pixel, with the class-rebalanced loss; annealed-mean
 * decoding (T = 0.38) turns it back into colours.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Colorization, convEncoder, loadPhotos, ProgressBar, rgbToLab, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { photoCrops } from './lib/pretext.js';

await useBackend(BACKEND);
const size = 32;
const { images: photos, names } = loadPhotos({ size: 128 });
const crops = photoCrops(photos, 0);
const encoder = convEncoder({ inputShape: [size, size, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const task = new Colorization(encoder, { learningRate: 1e-3, seed: 1 });

// The rebalancing prior, estimated from training data as in the paper.
const priorSample = crops(QUICK ? 32 : 256, size);
task.estimatePrior(priorSample);
const prior = task.prior!;
const top = tf.topk(prior, 3);
console.log(`photos: ${names.join(', ')}; most frequent ab bins ${Array.from(top.indices.dataSync()).join(', ')} hold ${(100 * tf.sum(top.values).dataSync()[0]!).toFixed(1)} % of the pixels`);

const steps = QUICK ? 5 : 300;
const bar = new ProgressBar({ steps, label: 'colorization', batchSize: QUICK ? 16 : 64 });
for (let i = 0; i < steps; i++) {
  const batch = crops(QUICK ? 16 : 64, size);
  const loss = task.step(batch);
  batch.dispose();
  bar.record(loss);
}
bar.done();

// Colourise held-out crops and compare their ab with the truth (and with predicting gray, ab = 0).
const heldOut = crops(64, size);
const colourised = task.colorize(heldOut);
const abError = (rgb: tf.Tensor4D) =>
  tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.slice(rgbToLab(rgb), [0, 0, 0, 1], [-1, -1, -1, 2]), tf.slice(rgbToLab(heldOut), [0, 0, 0, 1], [-1, -1, -1, 2])))).dataSync()[0]!);
const gray = tf.tidy(() => tf.tile(tf.mean(heldOut, 3, true), [1, 1, 1, 3])) as tf.Tensor4D;
console.log(`mean |ab error| of the colourised crops: ${abError(colourised).toFixed(2)} (gray: ${abError(gray).toFixed(2)})`);
tf.dispose([photos, priorSample, prior, top.values, top.indices, heldOut, colourised, gray]);
task.dispose();
encoder.dispose();
