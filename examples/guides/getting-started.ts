/**
 * The code of docs/getting-started.md, runnable:
 * `npx tsx examples/guides/getting-started.ts` (`--quick` changes nothing here).
 *
 * Each `#region` is one snippet of the guide, shown there as written here
 * (its imports included); "Pretrain an encoder" is a region of
 * examples/pretrain-simclr.ts. "Your own images" reads a folder of PNG and
 * JPEG files written first (crops of the vendored photographs, one subfolder
 * per photograph) and writes into a temporary folder.
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

const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { writePhotoFolder } = await import('../lib/photo-folder.js');
const out = mkdtempSync(join(tmpdir(), 'selfsup-getting-started-'));
const folder = join(out, 'photos');
writePhotoFolder(folder, { perClass: 8, size: 48 }); // photos/astronaut/astronaut-0.jpg, photos/chelsea/…

// #region own-images
import { convEncoder, embedDataset, imageFolder, ProgressBar, saveEmbeddings, saveModel, SimCLR, trainLoop } from 'selfsup';

// folder/<class>/*.png|jpg: the subfolder names become labels (pretraining ignores them)
const photos = await imageFolder(folder, { size: 32 }); // decoded on other threads, cached; bad files skipped with a warning
console.log(`${photos.length} images, classes ${photos.classNames?.join(', ')}`);
const cnn = convEncoder({ inputShape: [32, 32, 3], seed: 0 });
const method = new SimCLR(cnn, { seed: 1 });
const bar = new ProgressBar({ steps: 10, label: 'SimCLR', batchSize: 16 }); // a bar on a terminal, log lines when piped
await trainLoop({
  steps: 10,
  batchSize: 16,
  batches: photos.batches({ batchSize: 16, seed: 0, epochs: Infinity }), // seeded, reshuffled every epoch
  step: (_, batch) => method.step(batch!.images),
  onProgress: (p) => bar.update(p),
});
bar.done();
await saveModel(cnn, join(out, 'encoder')); // encoder/model.json + weights: loadModel, or tf.loadLayersModel(fileSystem(…))
const rows = await embedDataset(photos, (x) => method.embed(x)); // every image, in folder order
const { names, labels: classes, classNames } = rows;
await saveEmbeddings(join(out, 'embeddings.npy'), rows.embeddings, { names, labels: classes, classNames }); // + embeddings.meta.json
// #endregion own-images

console.log(`embeddings ${rows.embeddings.shape.join('×')} of ${rows.names.length} files saved`);
rows.embeddings.dispose();
method.dispose();
cnn.dispose();
photos.dispose();
rmSync(out, { recursive: true, force: true });
console.log(`tensors left: ${tf.memory().numTensors}`);
