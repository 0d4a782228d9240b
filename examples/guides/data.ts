/**
 * The code of docs/data.md, runnable:
 * `npx tsx examples/guides/data.ts` (`--quick` changes nothing here).
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * `folder` (a folder of PNG and JPEG crops of the vendored photographs, one
 * subfolder per photograph, plus a broken file) and `out` (a temporary folder)
 * are set up outside them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from 'selfsup';
import { BACKEND } from '../lib/cli.js';
import { writePhotoFolder } from '../lib/photo-folder.js';

await useBackend(BACKEND);
const out = mkdtempSync(join(tmpdir(), 'selfsup-data-guide-'));
const folder = join(out, 'photos');
writePhotoFolder(folder, { perClass: 6, size: 64 });
writeFileSync(join(folder, 'coffee', 'broken.jpg'), 'not a JPEG'); // skipped with a warning

// #region image-folder
import * as tf from '@tensorflow/tfjs-core';
import { imageFolder } from 'selfsup';

const dataset = await imageFolder(folder, {
  size: 32,          // output 32×32 (or [height, width])
  fit: 'cover',      // shorter side to 32, centre crop ('fill': plain resize)
  channels: 3,       // or 1 for grayscale
  onWarning: (w) => console.log(w.message), // default: process.emitWarning (stderr)
});
console.log(dataset.length, dataset.classNames, dataset.imageShape, dataset.decoder); // 24 [astronaut, chelsea, coffee, rocket] [32, 32, 3] 'sharp'
console.log(dataset.names[0], dataset.labels?.[0]); // astronaut/astronaut-0.png 0
// #endregion image-folder

// #region batches
for await (const batch of dataset.batches({ batchSize: 8, seed: 0, epochs: 2 })) {
  // batch.images: [8, 32, 32, 3] float32 in [0, 1]; batch.labels: [8] int32; batch.indices: which files
  console.log(`epoch ${batch.epoch} batch ${batch.batch}:`, Array.from(batch.indices, (i) => dataset.names[i]).slice(0, 2));
  batch.dispose();
}
// #endregion batches

// #region state
const stream = dataset.batches({ batchSize: 8, seed: 0, epochs: Infinity });
(await stream.next()).value!.dispose();
const saved = JSON.stringify(stream.state()); // { kind, seed, epoch: 0, batch: 1, … }: store it with a checkpoint
const resumed = dataset.batches({ batchSize: 8, epochs: Infinity });
resumed.restore(JSON.parse(saved)); // the next batch is the one an uninterrupted run would see
const [a, b] = [(await stream.next()).value!, (await resumed.next()).value!];
console.log(Array.from(a.indices).join() === Array.from(b.indices).join()); // true
a.dispose();
b.dispose();
// #endregion state

// #region tensors
import { loadFashionMnistSubset, tensorDataset } from 'selfsup';

const fashion = loadFashionMnistSubset();
const inMemory = tensorDataset(fashion.images, fashion.labels); // the same interface over tensors you hold
for await (const batch of inMemory.batches({ batchSize: 256, seed: 0, dropLast: true })) {
  console.log(batch.images.shape); // [256, 28, 28, 1], twice (600 images, the last 88 dropped)
  batch.dispose();
}
// #endregion tensors

// #region save-load
import { convEncoder, loadModel, saveModel, tinyVit } from 'selfsup';

const encoder = convEncoder({ inputShape: [32, 32, 3], seed: 0 });
await saveModel(encoder, join(out, 'encoder'));  // encoder/model.json + encoder/weights.<digest>.bin, atomically
const reloaded = (await loadModel(join(out, 'encoder'))) as typeof encoder;
const vit = tinyVit({ imageSize: 32, patchSize: 8, seed: 0 });
await saveModel(vit, join(out, 'vit'));          // the ViT too (a selfsup-model file: its config and weights)
const vitAgain = await loadModel(join(out, 'vit'));
// #endregion save-load

const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
console.log('same output after reload:', tf.tidy(() => tf.max(tf.abs(tf.sub(encoder.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor))).dataSync()[0]));

// #region stock-tfjs
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem } from 'selfsup';

const plain = await tfl.loadLayersModel(fileSystem(join(out, 'encoder'))); // stock tfjs-layers, no tfjs-node
// #endregion stock-tfjs

// #region embeddings
import { embedDataset, embedImages, saveEmbeddings } from 'selfsup';

const rows = await embedDataset(dataset, (images) => embedImages(encoder, images)); // every image, in folder order
const { names, labels, classNames } = rows;
await saveEmbeddings(join(out, 'embeddings.npy'), rows.embeddings, { names, labels, classNames }); // + embeddings.meta.json
await saveEmbeddings(join(out, 'embeddings.csv'), rows.embeddings, { names, labels, classNames }); // name,label,className,e0,…
// #endregion embeddings

console.log(`embeddings ${rows.embeddings.shape.join('×')}; ${plain.layers.length} layers loaded by stock tfjs-layers`);
tf.dispose([x, rows.embeddings, fashion.images, fashion.labels]);
for (const m of [encoder, reloaded, vit, vitAgain, plain]) m.dispose();
dataset.dispose();
rmSync(out, { recursive: true, force: true });
console.log(`tensors left: ${tf.memory().numTensors}`);
