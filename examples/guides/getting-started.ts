/**
 * The code of docs/getting-started.md, runnable:
 * `npx tsx examples/guides/getting-started.ts` (`--quick` changes nothing here).
 *
 * Each `#region` is one snippet of the guide, shown there as written here
 * (its imports included); "Pretrain an encoder" is a region of
 * examples/pretrain-simclr.ts.
 */

// #region use-backend
import { useBackend } from 'selfsup';

const info = await useBackend('wasm');
console.log(info); // { backend: 'wasm', simd: true, threads: 1, gradients: true, kernels: [...], ... }
// #endregion use-backend

// #region import-a-loss
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { grayscaleAugment, loadFashionMnistSubset, ntXentLoss, twoViews } from 'selfsup';

const { images, labels } = loadFashionMnistSubset({ limit: 64 }); // [64, 28, 28, 1]; the labels go unused
const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 32 })] });
const optimizer = tf.train.adam(1e-3);
const [view1, view2] = twoViews(images, grayscaleAugment(), { seed: 0 }); // two augmented views of each image
const loss = optimizer.minimize(() => ntXentLoss(encoder.apply(view1) as tf.Tensor2D, encoder.apply(view2) as tf.Tensor2D), true);
console.log(`NT-Xent loss after one step: ${loss!.dataSync()[0]!.toFixed(3)}`);
// #endregion import-a-loss

tf.dispose([images, labels, view1, view2, loss!]);
encoder.dispose();
optimizer.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
