/**
 * The selfsup demo: `npm run demo`.
 *
 * Sets up the wasm backend (SIMD, gradients, selfsup's training kernels),
 * loads real data (scikit-learn's digits, vendored; Fashion-MNIST from Debian
 * when installed) and reports what the library does on it. Pass `--quick` for
 * the short version the tests run, `--backend=cpu` to compare backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize, loadDigits, loadFashionMnist, loadFashionMnistSubset, MissingDataError, useBackend } from 'selfsup';
import { BACKEND, progress, QUICK } from './lib/cli.js';

const info = await useBackend(BACKEND);
console.log('selfsup demo');
console.log(
  `backend: ${info.backend}  SIMD: ${info.simd ?? 'n/a'}  threads: ${info.threads}  ` +
    `gradients: ${info.gradients}  tfjs ${info.tfjsVersion}  (${info.environment})`,
);
console.log(`selfsup training kernels: ${info.kernels.length > 0 ? info.kernels.join(', ') : 'none needed'}`);

const digits = loadDigits({ limit: QUICK ? 256 : undefined });
console.log(`\ndigits: ${digits.images.shape.join('×')} images, ${digits.classNames.length} classes`);

let fashion;
try {
  fashion = loadFashionMnist({ split: 'test', limit: QUICK ? 512 : 10_000 });
  console.log(`Fashion-MNIST (Debian package): ${fashion.images.shape.join('×')} test images`);
} catch (e) {
  if (!(e instanceof MissingDataError)) throw e;
  fashion = loadFashionMnistSubset({ split: 'test' });
  console.log(`Fashion-MNIST package not installed; using the vendored subset: ${fashion.images.shape.join('×')}`);
}

// How separable are the raw pixels? Mean cosine similarity of normalised digits
// within a class against across classes, computed in batches with a progress bar.
const flat = tf.tidy(() => l2Normalize(tf.reshape(digits.images, [digits.images.shape[0], -1])));
const labels = Array.from(digits.labels.dataSync());
const batch = 64;
const batches = Math.ceil(flat.shape[0]! / batch);
let within = 0;
let withinCount = 0;
let across = 0;
let acrossCount = 0;
const bar = progress('cosine similarity', batches);
for (let b = 0; b < batches; b++) {
  const start = b * batch;
  const size = Math.min(batch, flat.shape[0]! - start);
  const sims = tf.tidy(() => tf.matMul(tf.slice(flat, [start, 0], [size, -1]), tf.transpose(flat)).arraySync() as number[][]);
  sims.forEach((row, i) =>
    row.forEach((s, j) => {
      if (j === start + i) return;
      if (labels[j] === labels[start + i]) {
        within += s;
        withinCount++;
      } else {
        across += s;
        acrossCount++;
      }
    }),
  );
  bar.tick();
}
bar.done();
console.log(
  `raw-pixel cosine similarity: within class ${(within / withinCount).toFixed(3)}, across classes ${(across / acrossCount).toFixed(3)}`,
);

tf.dispose([flat, digits.images, digits.labels, fashion.images, fashion.labels]);
console.log(`\ntensors alive at exit: ${tf.memory().numTensors}`);
