/**
 * The code of the README, runnable: `npx tsx examples/guides/readme.ts`
 * (`--quick` changes nothing here). The `quick-start` region is copied into
 * README.md by `npm run docs:code`; tests/package/pack-install.test.ts runs it
 * from the packed package in a fresh project.
 */

// #region quick-start
import * as tf from '@tensorflow/tfjs-core'; // or '@tensorflow/tfjs' with the union package
import { grayscaleAugment, loadDigits, mlpEncoder, ntXentLoss, twoViews, useBackend } from 'selfsup';

const info = await useBackend('wasm'); // tfjs's WebAssembly backend with SIMD, gradients and selfsup's kernels
console.log(`backend: ${info.backend}, SIMD: ${info.simd}; an untrained encoder scores log(511) = 6.236`);
const { images } = loadDigits({ limit: 256 }); // 8×8 handwritten digits that ship with selfsup; no labels used
const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [128, 32], seed: 0 }); // any tfjs-layers model works
const optimizer = tf.train.adam(1e-2);
for (let step = 0; step <= 40; step++) {
  const [view1, view2] = twoViews(images, grayscaleAugment(), { seed: step }); // two random views of each image
  const loss = optimizer.minimize(() => ntXentLoss(encoder.apply(view1) as tf.Tensor2D, encoder.apply(view2) as tf.Tensor2D), true)!;
  if (step % 10 === 0) console.log(`step ${step}: NT-Xent loss ${loss.dataSync()[0]!.toFixed(3)}`);
  tf.dispose([view1, view2, loss]);
}
// #endregion quick-start

tf.dispose(images);
encoder.dispose();
optimizer.dispose();
