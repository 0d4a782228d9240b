/**
 * The code of docs/augmentations.md, runnable:
 * `npx tsx examples/guides/augmentations.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here.
 */
import { useBackend } from 'selfsup';
import { BACKEND } from '../lib/cli.js';

await useBackend(BACKEND);
const maxDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

// #region sample-apply-replay
import * as tf from '@tensorflow/tfjs-core';
import { applyColorJitter, colorJitter, createRng, loadPhotos, sampleColorJitter } from 'selfsup';

const { images } = loadPhotos({ size: 32 }); // [4, 32, 32, 3] float32 in [0, 1]

// 1. sample: plain typed arrays, one entry per image
const params = sampleColorJitter(images.shape, createRng(0), { brightness: 0.4, hue: 0.1 });
// 2. apply: a pure function of the images and the parameters
const jittered = applyColorJitter(images, params);
// 3. or both in one call, asking for the parameters back
const { images: same, params: again } = colorJitter(images, { brightness: 0.4, hue: 0.1, seed: 0, returnParams: true });
// #endregion sample-apply-replay

console.log(`brightness factors ${Array.from(params.brightness, (v) => v.toFixed(2)).join(', ')}`);
console.log(`colorJitter with the same seed draws the same factors: ${String(again.brightness) === String(params.brightness)} (max pixel difference ${maxDifference(jittered, same)})`);

// #region pipeline
import { ColorJitter, compose, GaussianBlur, RandomGrayscale, RandomHorizontalFlip, RandomResizedCrop } from 'selfsup';

const pipeline = compose([
  new RandomResizedCrop({ size: 32, scale: [0.2, 1] }),
  new RandomHorizontalFlip(),
  new ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }),
  new RandomGrayscale({ p: 0.2 }),
  new GaussianBlur({ sigma: [0.1, 2], p: 0.5 }),
]);
const { images: view, params: viewParams } = pipeline.run(images, { seed: 1 });
const replayed = pipeline.apply(images, viewParams); // identical to view
// #endregion pipeline

console.log(`pipeline view ${view.shape.join('×')}, replay differs by ${maxDifference(view, replayed)}`);

// #region presets
import { byolAugment, simclrAugment, twoViews } from 'selfsup';

const [a, b] = twoViews(images, simclrAugment({ strength: 0.5 }), { seed: 0 });
const [online, target] = byolAugment({ size: 32 });
const [v1, v2] = twoViews(images, online, target, { seed: 0 });
// #endregion presets

console.log(`SimCLR views ${a.shape.join('×')} (mean |a − b| ${tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0]!).toFixed(3)}), BYOL views ${v1.shape.join('×')}`);
tf.dispose([images, jittered, same, view, replayed, a, b, v1, v2]);
console.log(`tensors left: ${tf.memory().numTensors}`);
