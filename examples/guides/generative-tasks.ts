/**
 * The code of docs/generative-tasks.md, runnable:
 * `npx tsx examples/guides/generative-tasks.ts [--quick]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * what the snippets take as given (a batch of `images`, colour `photos`) is
 * set up outside them. The full training runs are the top-level examples
 * (denoising-autoencoder.ts, masked-autoencoder.ts, …).
 */
import { Colorization, ContextEncoder, loadPhotos, MaskedAutoencoder, SimMIM, SparseAutoencoder, SplitBrainAutoencoder, tinyVit } from 'selfsup';
import { QUICK } from '../lib/cli.js';
import { photoCrops } from '../lib/pretext.js';

const steps = QUICK ? 2 : 9; // 9 batches of 64: one pass over the 600 training images

// #region how-used
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, DenoisingAutoencoder, loadFashionMnistSubset, useBackend } from 'selfsup';

await useBackend('wasm');
const train = loadFashionMnistSubset();  // unlabeled NHWC images in [0, 1] (its labels go unused)
const encoder = convEncoder({ inputShape: [28, 28, 1], seed: 0 });
const task = new DenoisingAutoencoder(encoder, { dropProbability: 0.25, seed: 1 });
for (let step = 0; step < steps; step++) {
  const batch = tf.slice(train.images, step * 64, 64) as tf.Tensor4D;
  const loss = task.step(batch);         // one optimizer step, returns the loss
  console.log(`step ${step}: loss ${loss.toFixed(4)}`);
  batch.dispose();
}
const features = task.embed(train.images); // the encoder's representation, for a probe
task.dispose();                          // frees the heads and optimizer it owns, not your encoder
// #endregion how-used

console.log(`denoising autoencoder: ${steps} steps, features ${features.shape.join('×')}`);
features.dispose();
const images = tf.slice(train.images, 0, 16) as tf.Tensor4D;
const show = (label: string, loss: number) => console.log(`${label}: loss ${loss.toFixed(4)}`);

{
  // #region sparse
  const task = new SparseAutoencoder(encoder, { sparsity: 'l1', sparsityWeight: 0.01 });
  // or { sparsity: 'kl', target: 0.05 }
  // #endregion sparse
  show('sparse autoencoder', task.step(images));
  task.dispose();
}

{
  // #region denoising
  const task = new DenoisingAutoencoder(encoder, { dropProbability: 0.25 });
  const noisy = task.corrupt(images);     // a fraction ν of the pixels set to zero
  const restored = task.reconstruct(noisy);
  // #endregion denoising
  show('denoising autoencoder', task.step(images));
  tf.dispose([noisy, restored]);
  task.dispose();
}

{
  // #region mae
  const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: 64, depth: 4, heads: 4, pool: 'mean' });
  const task = new MaskedAutoencoder(vit, { maskRatio: 0.75, normPixLoss: true });
  const { prediction, mask, pasted } = task.reconstruct(images); // for display (pixel units with normPixLoss: false)
  // A conv encoder works too: its 4×4 feature map makes 16 patches of 7×7 pixels.
  const conv = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2 });
  const onConv = new MaskedAutoencoder(conv, { maskRatio: 0.75, learningRate: 3e-3 });
  // #endregion mae
  show('masked autoencoder (ViT)', task.step(images));
  show('masked autoencoder (conv encoder)', onConv.step(images));
  tf.dispose([prediction, mask, pasted]);
  task.dispose();
  onConv.dispose();
  conv.dispose();
  vit.dispose();
}

{
  // #region simmim
  // A conv encoder: masked in the input, 7×7 patches (its stride: 28 → 4×4 map).
  const conv = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2 });
  const onConv = new SimMIM(conv, { maskRatio: 0.6 });
  // A ViT: masked tokens replaced by a learned token (SimMIM's own setting).
  const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: 64, depth: 4, heads: 4, pool: 'mean' });
  const onVit = new SimMIM(vit, { maskRatio: 0.6 });
  const { masked, prediction, mask } = onConv.reconstruct(images); // what the encoder saw, its guess, the mask
  // #endregion simmim
  show('SimMIM (conv encoder)', onConv.step(images));
  show('SimMIM (ViT)', onVit.step(images));
  tf.dispose([masked, prediction, mask]);
  onConv.dispose();
  onVit.dispose();
  conv.dispose();
  vit.dispose();
}

{
  // #region inpainting
  const task = new ContextEncoder(encoder, { mask: 'random-rectangle' });   // or 'center', 'irregular', or your sampler
  task.step(images);                              // generator update, then discriminator update
  console.log(task.lastDiscriminatorLoss);
  const holes = task.sampleMask(images.shape[0]); // [B, H, W, 1], 1 = removed
  const filled = task.inpaint(images, holes);
  // #endregion inpainting
  tf.dispose([holes, filled]);
  task.dispose();
}

const { images: allPhotos } = loadPhotos({ size: 128 });
const crops = photoCrops(allPhotos, 0); // random crops of the four colour photos
const [trainingPhotos, rgbBatch, photos] = [crops(32, 32), crops(8, 32), crops(4, 32)];

{
  // #region colorization
  const encoder = convEncoder({ inputShape: [32, 32, 1], seed: 0 });   // takes (L − 50)/100
  const task = new Colorization(encoder, { lambda: 0.5, temperature: 0.38 });
  task.estimatePrior(trainingPhotos);   // optional: otherwise estimated from the first batches
  task.step(rgbBatch);                  // RGB in [0, 1]
  const colourised = task.colorize(photos); // annealed mean, T = 0.38
  const logits = task.predict(photos);      // [B, h, w, 313]
  // #endregion colorization
  console.log(`colorization: colourised ${colourised.shape.join('×')}, logits ${logits.shape.join('×')}`);
  tf.dispose([colourised, logits]);
  task.dispose();
  encoder.dispose();
}

{
  const images = photos;
  // #region split-brain
  const lNetwork = convEncoder({ inputShape: [32, 32, 1], channels: [16, 32, 64, 64] });   // (L − 50)/100 in
  const abNetwork = convEncoder({ inputShape: [32, 32, 2], channels: [16, 32, 64, 64] });  // ab/110 in
  const task = new SplitBrainAutoencoder(lNetwork, abNetwork, { lBins: 100 });
  task.step(rgbBatch);
  const { lToAb, abToL } = task.losses(rgbBatch);
  const features = task.embed(images);   // [F₁(L) | F₂(ab)]
  // #endregion split-brain
  console.log(`split-brain: L→ab ${lToAb.dataSync()[0]!.toFixed(3)}, ab→L ${abToL.dataSync()[0]!.toFixed(3)}, features ${features.shape.join('×')}`);
  tf.dispose([lToAb, abToL, features]);
  task.dispose();
  lNetwork.dispose();
  abNetwork.dispose();
}

tf.dispose([train.images, train.labels, images, allPhotos, trainingPhotos, rgbBatch, photos]);
encoder.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
