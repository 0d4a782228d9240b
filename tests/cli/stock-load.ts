/**
 * Run in a fresh process by pretrain.test.ts: loads a saved encoder with
 * stock tfjs-layers (`tf.loadLayersModel` and selfsup's `fileSystem` handler,
 * nothing else of selfsup's model code) on the backend `useBackend('wasm')` sets up, embeds a folder's images with
 * `model.predict`, and writes the embeddings as .npy.
 * `npx tsx tests/cli/stock-load.ts MODEL_DIR DATA_DIR SIZE OUT.npy`
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../../src/backend/use-backend.js';
import { imageFolder } from '../../src/data/image-folder.js';
import { fileSystem } from '../../src/io/file-system.js';
import { encodeNpy } from '../../src/io/npy.js';

const [modelDir, dataDir, size, out] = process.argv.slice(2) as [string, string, string, string];
// selfsup's wasm backend set-up (its kernels), as the command uses: the same arithmetic on both sides.
await useBackend('wasm');
const model = await tfl.loadLayersModel(fileSystem(modelDir));
const dataset = await imageFolder(dataDir, { size: Number(size), onWarning: () => {} });
const { images, labels } = await dataset.load();
const embeddings = model.predict(images) as tf.Tensor2D;
writeFileSync(out, encodeNpy(embeddings));
console.log(JSON.stringify({ shape: embeddings.shape, layers: model.layers.map((l) => l.getClassName()) }));
tf.dispose([images, embeddings]);
labels?.dispose();
dataset.dispose();
process.exit(0);
