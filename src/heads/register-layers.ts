import { l2NormalizeLayerClass } from './l2-normalize-layer.js';
import { prototypeLayerClass } from './prototype-layer.js';
import { bagOfTokensClass } from './token-encoder.js';
import { weightNormDenseClass } from './weight-norm-dense.js';

/**
 * Registers selfsup's custom tfjs-layers layers (`SelfsupL2Normalize`,
 * `SelfsupPrototypes`, `SelfsupWeightNormDense`, `SelfsupBagOfTokens`) with tfjs's serialization
 * registry, so `tf.loadLayersModel` / `tf.models.modelFromJSON` can rebuild a
 * saved model that contains them. The layer builders register their class on
 * first use; call this before loading a model in a fresh process. Idempotent;
 * importing selfsup registers nothing by itself.
 *
 * @returns the registered class names.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { dinoHead, registerHeadsLayers } from 'selfsup';
 *
 * const head = dinoHead({ inputDim: 8, hiddenDim: 16, bottleneckDim: 4, outputDim: 10, seed: 0 });
 * let saved: tf.io.ModelArtifacts | undefined;
 * await head.save(tf.io.withSaveHandler(async (artifacts) => {
 *   saved = artifacts;
 *   return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
 * }));
 * registerHeadsLayers(); // in a new process, before loading
 * const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
 * console.log(loaded.layers.map((l) => l.getClassName()));
 * ```
 */
export function registerHeadsLayers(): string[] {
  return [l2NormalizeLayerClass(), prototypeLayerClass(), weightNormDenseClass(), bagOfTokensClass()].map(
    (cls) => (cls as unknown as { className: string }).className,
  );
}
