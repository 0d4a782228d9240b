/**
 * The code of docs/losses.md, runnable:
 * `npx tsx examples/guides/losses.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * what the snippets take as given (a projection, two views, a MoCo queue, a
 * DINO teacher output) is set up outside them.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { dinoLoss, grayscaleAugment, l2Normalize, loadFashionMnistSubset, twoViews, useBackend } from 'selfsup';
import { BACKEND } from '../lib/cli.js';

await useBackend(BACKEND);
const { images, labels } = loadFashionMnistSubset({ limit: 64 });
const [view1, view2] = twoViews(images, grayscaleAugment(), { seed: 0 });
const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 32 })] });
const project = (x: tf.Tensor4D) => model.apply(x) as tf.Tensor2D;
const optimizer = tf.train.adam(1e-3);

// #region minimize
import { ntXentLoss } from 'selfsup/losses';

optimizer.minimize(() => ntXentLoss(project(view1), project(view2), { temperature: 0.5 }));
// #endregion minimize

console.log(`NT-Xent after one step: ${tf.tidy(() => ntXentLoss(project(view1), project(view2)).dataSync()[0]!).toFixed(3)}`);

// MoCo: keys from the momentum encoder (here the same projection, for brevity) and a queue of past keys.
const keys = project(view2);
const queue = tf.tidy(() => l2Normalize(tf.randomNormal([256, 32], 0, 1, 'float32', 1))) as tf.Tensor2D;

// #region stop-gradient
import { infoNCELoss, stopGradient } from 'selfsup';

// queries from the encoder being trained; keys from the momentum encoder; queue: a tensor, not a variable
const loss = optimizer.minimize(() => infoNCELoss(project(view1), stopGradient(keys), queue), true)!;
// #endregion stop-gradient

console.log(`InfoNCE with a queue of ${queue.shape[0]}: ${loss.dataSync()[0]!.toFixed(3)} (ln(K + 1) = ${Math.log(257).toFixed(3)} at collapse)`);

// DINO: a teacher output for 2 global crops of 8 images over K = 16 prototypes.
const teacherOutput = tf.randomNormal([16, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
const studentOutput = tf.randomNormal([16, 16], 0, 1, 'float32', 3) as tf.Tensor2D;
let center = tf.zeros([1, 16]) as tf.Tensor2D;
const dino = dinoLoss(studentOutput, teacherOutput, center, { numGlobalCrops: 2 });

// #region dino-center
import { updateDinoCenter } from 'selfsup';

const next = updateDinoCenter(center, teacherOutput);
center.dispose();
center = next;
// #endregion dino-center

console.log(`DINO loss ${dino.dataSync()[0]!.toFixed(3)}, new center mean ${tf.tidy(() => tf.mean(center).dataSync()[0]!).toFixed(4)}`);
tf.dispose([images, labels, view1, view2, keys, queue, loss, teacherOutput, studentOutput, center, dino]);
model.dispose();
optimizer.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
