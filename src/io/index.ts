/**
 * Encoders out: save and load models as files in Node without tfjs-node ({@link fileSystem},
 * {@link saveModel}, {@link loadModel}; the tfjs URL handlers such as `indexeddb://` in browsers),
 * including selfsup's ViT and MAE decoder, and export embeddings for other tools ({@link saveEmbeddings},
 * {@link encodeNpy}).
 *
 * `import { saveModel, loadModel } from 'selfsup/io'`
 *
 * @module io
 */
export { fileSystem } from './file-system.js';
export { saveModel, loadModel } from './save-model.js';
export type { SavableModel } from './save-model.js';
export { encodeNpy, decodeNpy } from './npy.js';
export type { NpyArray, NpyData } from './npy.js';
export { saveEmbeddings } from './embeddings.js';
export type { SaveEmbeddingsOptions, SavedEmbeddings } from './embeddings.js';
