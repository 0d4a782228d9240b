/**
 * The code of docs/joint-embedding-methods.md, runnable:
 * `npx tsx examples/guides/joint-embedding-methods.ts [--quick]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * `nextBatch` and `testImages` (unlabeled Fashion-MNIST) are set up outside
 * them. The methods' full runs are bench/learn (`npm run bench:learn`).
 */
import { DCL, FastSiam, loadFashionMnistSubset, MMCR, nuclearNorm, SimCLR, TiCo, useBackend as setUpBackend } from 'selfsup';
import { BACKEND, QUICK } from '../lib/cli.js';

await setUpBackend(BACKEND);
const steps = QUICK ? 2 : 50;
const train = loadFashionMnistSubset(); // 600 images; the labels go unused
const test = loadFashionMnistSubset({ split: 'test' });
const testImages = test.images;
let cursor = 0;
const nextBatch = () => {
  cursor = (cursor + 64) % (train.images.shape[0] - 64);
  return tf.slice(train.images, cursor, 64) as tf.Tensor4D;
};

// #region shared-step
import * as tf from '@tensorflow/tfjs-core';
import { BYOL, convEncoder, useBackend } from 'selfsup';

await useBackend('wasm');
const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed: 0 });
const byol = new BYOL(encoder, { totalSteps: steps, seed: 1 });
for (let step = 0; step < steps; step++) {
  const batch = nextBatch(); // [B, 28, 28, 1] float32 in [0, 1], no labels
  const loss = byol.step(batch);
  if (step % 10 === 0) console.log(`step ${step}: BYOL loss ${loss.toFixed(3)}`);
  batch.dispose();
}
const features = byol.embed(testImages); // [N, F]: the encoder's output, no projector
byol.dispose(); // heads, target network, owned optimizer; never your encoder
// #endregion shared-step

console.log(`BYOL features ${features.shape.join('×')}`);
features.dispose();
const images = nextBatch();

// #region own-loop
const simclr = new SimCLR(encoder, { seed: 0 });
const optimizer = tf.train.adam(1e-3);
const [v1, v2] = simclr.views(images);                  // seeded views
optimizer.minimize(() => simclr.computeLoss(v1, v2), false, simclr.trainableVariables);
tf.dispose([v1, v2]);
// #endregion own-loop

console.log(`SimCLR, own loop: ${simclr.trainableVariables.length} variables updated`);

// #region small-batch
const dclw = new DCL(encoder, { weighted: true, temperature: 0.2 });  // DCLW: no positive in the denominator
const tico = new TiCo(encoder, { totalSteps: steps });                // covariance contrast against a moving C
const fastSiam = new FastSiam(encoder, { numViews: 4 });              // each view predicts the mean of the other three
const mmcr = new MMCR(encoder, { numViews: 4 });                      // maximise ‖centroids‖_*
for (const method of [dclw, tico, fastSiam, mmcr]) console.log(method.name, method.step(images).toFixed(3));
console.log(tico.covariance.shape);                                   // [256, 256]: TiCo's state, updated once per step
// #endregion small-batch
for (const method of [dclw, tico, fastSiam, mmcr]) method.dispose();

// #region nuclear-norm
const centroids = tf.randomNormal([64, 16]) as tf.Tensor2D;
const norm = nuclearNorm(centroids);                                  // Σ singular values, differentiable
const gradient = tf.grad((c: tf.Tensor) => nuclearNorm(c as tf.Tensor2D))(centroids); // U Vᵀ
// #endregion nuclear-norm
console.log(`‖C‖_* = ${norm.dataSync()[0]!.toFixed(2)}, gradient ${gradient.shape.join('×')}`);
tf.dispose([centroids, norm, gradient]);
simclr.dispose();
optimizer.dispose();
encoder.dispose();

// #region dinov2
import { DINOv2, grayscaleAugment, tinyVit } from 'selfsup';

const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: 64, depth: 4, heads: 4, seed: 0 });
const dinov2 = new DINOv2(vit, {
  crops: { global: { count: 2, size: 28, scale: [0.3, 1], transforms: grayscaleAugment({ crop: false }) } },
  outputDim: 256, hiddenDim: 256, bottleneckDim: 64, // one head for class and patch tokens
  centering: 'center',                               // or 'sinkhornKnopp'
  momentum: 0.99, teacherTemperature: 0.04,          // short runs: a constant teacher (the learning benchmark's row)
  totalSteps: steps,
  seed: 1,
});
for (let step = 0; step < steps; step++) {
  const batch = nextBatch();
  dinov2.step(batch); // DINO(class tokens) + iBOT(masked patch tokens) + 0.1·KoLeo
  batch.dispose();
}
// The three terms of one step, for logging:
const crops = dinov2.crops(images);
const masks = dinov2.sampleMasks(2 * images.shape[0]); // [2B, 16]: half the crops masked, 10–50 % of patches
const teacher = dinov2.teacherOutput(crops.global, masks);
const terms = dinov2.computeTerms(crops, masks, teacher);
console.log(`DINO ${terms.dino.dataSync()[0]!.toFixed(3)}, iBOT ${terms.ibot.dataSync()[0]!.toFixed(3)}, KoLeo ${terms.koleo.dataSync()[0]!.toFixed(3)}`);
tf.dispose([...crops.global, masks, teacher.classTokens, teacher.patchTokens, terms.dino, terms.ibot, terms.koleo]);
dinov2.dispose();
vit.dispose();
// #endregion dinov2

// #region msn
import { MSN, PMSN } from 'selfsup';

for (const Method of [MSN, PMSN]) {
  const conv = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2, seed: 0 });
  // A conv net cannot drop tokens: MSN zeroes 30 % of its 4×4-pixel patches in the anchor view instead.
  const method = new Method(conv, { maskRatio: 0.3, numPrototypes: 256, projectionDim: 128, totalSteps: steps, seed: 1 });
  for (let step = 0; step < steps; step++) {
    const batch = nextBatch();
    const loss = method.step(batch);
    if (step === steps - 1) console.log(`${method.name} (prior: ${String(method.lossOptions.prior)}): loss ${loss.toFixed(3)}`);
    batch.dispose();
  }
  method.dispose();
  conv.dispose();
}
// #endregion msn

// #region ijepa
import { IJEPA } from 'selfsup';

const jepaVit = tinyVit({ imageSize: 28, channels: 1, patchSize: 4, dim: 64, depth: 4, heads: 4, classToken: false, seed: 0 });
const ijepa = new IJEPA(jepaVit, {
  masks: { numTargets: 4, targetScale: [0.15, 0.2], contextScale: [0.85, 1] }, // on the 7×7 patch grid
  totalSteps: steps,
  seed: 1,
});
for (let step = 0; step < steps; step++) {
  const batch = nextBatch();
  ijepa.step(batch); // context block → encoder → predictor → target blocks of the EMA encoder
  batch.dispose();
}
const jepaMasks = ijepa.sampleMasks(2);
console.log(`context ${jepaMasks.contextIds.shape[1]} patches, ${jepaMasks.targetIds.shape[0]} targets of ${jepaMasks.targetIds.shape[2]}`);
tf.dispose([jepaMasks.contextIds, jepaMasks.targetIds]);
ijepa.dispose();
jepaVit.dispose();
// #endregion ijepa
tf.dispose([images, train.images, train.labels, test.images, test.labels]);
console.log(`tensors left: ${tf.memory().numTensors}`);
