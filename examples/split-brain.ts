/**
 * A split-brain autoencoder (Zhang et al. 2017) on crops of the vendored
 * colour photos: `npx tsx examples/split-brain.ts [--quick] [--backend=cpu]`.
 *
 * One half predicts colour from lightness, the other lightness from colour,
 * both as classification; the representation is the two halves' features side by side.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, loadPhotos, ProgressBar, SplitBrainAutoencoder, useBackend } from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { photoCrops } from './lib/pretext.js';

await useBackend(BACKEND);
const size = 32;
const { images: photos } = loadPhotos({ size: 128 });
const crops = photoCrops(photos, 0);
const half = QUICK ? [4, 8, 8, 16] : [16, 32, 64, 64];
const lNetwork = convEncoder({ inputShape: [size, size, 1], channels: half, seed: 0 });
const abNetwork = convEncoder({ inputShape: [size, size, 2], channels: half, seed: 1 });
const task = new SplitBrainAutoencoder(lNetwork, abNetwork, { learningRate: 1e-3, seed: 2 });

const steps = QUICK ? 5 : 300;
const bar = new ProgressBar({ steps, label: 'split-brain', batchSize: QUICK ? 16 : 64 });
for (let i = 0; i < steps; i++) {
  const batch = crops(QUICK ? 16 : 64, size);
  const loss = task.step(batch);
  batch.dispose();
  bar.record(loss);
}
bar.done();

const heldOut = crops(64, size);
const { lToAb, abToL } = task.losses(heldOut);
console.log(`held-out crops: L→ab loss ${lToAb.dataSync()[0]!.toFixed(3)} (uniform: ln 313 = 5.746), ab→L loss ${abToL.dataSync()[0]!.toFixed(3)} (uniform: ln 100 = 4.605)`);
const features = task.embed(heldOut);
console.log(`representation: [F₁(L) | F₂(ab)] = ${features.shape[1]} features per image`);
tf.dispose([photos, heldOut, lToAb, abToL, features]);
task.dispose();
lNetwork.dispose();
abNetwork.dispose();
