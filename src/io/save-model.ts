import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { isNode } from '../core/node.js';
import { describeValue } from '../core/validate.js';
import { MaeDecoder, maeDecoderFromConfig, type MaeDecoderConfig } from '../heads/mae-decoder.js';
import { registerHeadsLayers } from '../heads/register-layers.js';
import { tinyVit, VisionTransformer, type TinyVitConfig } from '../heads/vit.js';
import { fileSystemHandler } from './file-system.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** A model {@link saveModel} writes and {@link loadModel} reads back. */
export type SavableModel = tfl.LayersModel | VisionTransformer | MaeDecoder;

/** The `format` of selfsup's own model files (the ViT and the MAE decoder are not tfjs-layers models). */
export const SELFSUP_MODEL_FORMAT = 'selfsup-model';

/** The `modelTopology` of a selfsup model file. */
interface SelfsupTopology {
  selfsup: { className: 'VisionTransformer' | 'MaeDecoder'; version: 1; config: TinyVitConfig | MaeDecoderConfig };
}

function isLayersModel(x: unknown): x is tfl.LayersModel {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as tfl.LayersModel).save === 'function' &&
    typeof (x as tfl.LayersModel).getWeights === 'function' &&
    Array.isArray((x as tfl.LayersModel).layers)
  );
}

/** A save or load handler for a path or URL: tfjs's routers for `scheme://` URLs, {@link fileSystem} for plain paths in Node. */
function handlerFor(destination: string | tf.io.IOHandler, kind: 'save' | 'load', fn: string): tf.io.IOHandler {
  if (typeof destination === 'object' && destination !== null && typeof destination[kind] === 'function') return destination;
  if (typeof destination !== 'string' || destination.length === 0) {
    throw new InvalidArgumentError(
      fn,
      kind === 'save' ? 'destination' : 'source',
      'be a folder path (Node), a tfjs URL (indexeddb://, downloads://, localstorage://, http(s)://) or a tfjs IOHandler',
      describeValue(destination),
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(destination)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') {
    if (!isNode()) {
      throw new InvalidArgumentError(fn, kind === 'save' ? 'destination' : 'source', 'be a tfjs URL such as indexeddb://name in a browser', JSON.stringify(destination));
    }
    return fileSystemHandler(destination, fn, fn);
  }
  const handlers = kind === 'save' ? tf.io.getSaveHandlers(destination) : tf.io.getLoadHandlers(destination);
  if (handlers.length !== 1 || typeof handlers[0]![kind] !== 'function') {
    throw new InvalidArgumentError(
      fn,
      kind === 'save' ? 'destination' : 'source',
      `name a place tfjs can ${kind} to${kind === 'save' ? '' : ' from'} here (indexeddb:// and downloads:// exist in browsers only)`,
      `${JSON.stringify(destination)} (${handlers.length} handlers for '${scheme}://')`,
    );
  }
  return handlers[0]!;
}

/** Model artifacts of a ViT or MAE decoder: the architecture as JSON, the weights by name. */
async function storedWeightsArtifacts(model: VisionTransformer | MaeDecoder): Promise<tf.io.ModelArtifacts> {
  const className = model instanceof VisionTransformer ? 'VisionTransformer' : 'MaeDecoder';
  const topology: SelfsupTopology = { selfsup: { className, version: 1, config: model.getConfig() } };
  const names = model.weightNames;
  const named = model.variables.map((v, i) => ({ name: names[i]!, tensor: v as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    modelTopology: topology as unknown as object,
    format: SELFSUP_MODEL_FORMAT,
    generatedBy: `selfsup (tfjs ${tf.version_core})`,
    convertedBy: null,
    weightSpecs: specs,
    weightData: data,
  };
}

/**
 * Saves a model to a file or a tfjs destination: in Node a folder path (or
 * `file://…`) gets `model.json` and a weights file, written atomically with
 * {@link fileSystem} (no tfjs-node needed); in a browser a tfjs URL such as
 * `indexeddb://encoder` or `downloads://encoder`; anywhere a tfjs IOHandler.
 *
 * A tfjs-layers model (every encoder and head of `selfsup/heads` but the ViT
 * and its decoder, custom layers included) is saved in the tfjs-layers
 * format, which stock `tf.loadLayersModel` reads (after `registerHeadsLayers()`
 * when it has selfsup's custom layers). A `VisionTransformer`
 * (`tinyVit`) or `MaeDecoder` is saved as `format: 'selfsup-model'`
 * with its architecture (`getConfig()`) as the topology and its weights by
 * name in the same weights-manifest layout; {@link loadModel} reads both kinds.
 * The optimizer state is not saved (a checkpoint holds it).
 *
 * @returns tfjs's save result (`modelArtifactsInfo`: sizes, date).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { convEncoder, loadModel, saveModel } from 'selfsup';
 *
 * const dir = join(mkdtempSync(join(tmpdir(), 'selfsup-')), 'encoder');
 * const encoder = convEncoder({ inputShape: [16, 16, 3], channels: [8, 16], seed: 0 });
 * await saveModel(encoder, dir); // dir/model.json + dir/weights.<digest>.bin
 * const loaded = (await loadModel(dir)) as typeof encoder;
 * const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1);
 * const same = tf.tidy(() => tf.max(tf.abs(tf.sub(encoder.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0]);
 * console.log(same); // 0
 * ```
 */
export async function saveModel(model: SavableModel, destination: string | tf.io.IOHandler): Promise<tf.io.SaveResult> {
  const fn = 'saveModel';
  const isStored = model instanceof VisionTransformer || model instanceof MaeDecoder;
  if (!isStored && !isLayersModel(model)) {
    throw new InvalidArgumentError(fn, 'model', 'be a tfjs-layers model, a VisionTransformer (tinyVit) or a MaeDecoder', describeValue(model));
  }
  if (isStored && model.isDisposed) throw new InvalidArgumentError(fn, 'model', 'not be disposed', 'a disposed model');
  const handler = handlerFor(destination, 'save', fn);
  if (isStored) return handler.save!(await storedWeightsArtifacts(model));
  return (model as tfl.LayersModel).save(handler);
}

/** Rebuilds a ViT or MAE decoder from its file's topology and weights. */
function loadStoredWeightsModel(artifacts: tf.io.ModelArtifacts, fn: string): VisionTransformer | MaeDecoder {
  const topology = (artifacts.modelTopology as Partial<SelfsupTopology> | undefined)?.selfsup;
  if (typeof topology !== 'object' || topology === null || topology.version !== 1) {
    throw new SelfsupError(`${fn}: the model file says format '${SELFSUP_MODEL_FORMAT}' but has no selfsup topology of version 1`);
  }
  let model: VisionTransformer | MaeDecoder;
  try {
    if (topology.className === 'VisionTransformer') model = tinyVit({ ...(topology.config as TinyVitConfig), seed: 0 });
    else if (topology.className === 'MaeDecoder') model = maeDecoderFromConfig(topology.config as MaeDecoderConfig, 'MaeDecoder config');
    else throw new SelfsupError(`unknown model class ${JSON.stringify(topology.className)}`);
  } catch (e) {
    throw new SelfsupError(`${fn}: the model file's ${String(topology.className)} architecture is invalid: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const specs = artifacts.weightSpecs ?? [];
    const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : artifacts.weightData;
    const decoded = tf.io.decodeWeights(weightData, specs);
    try {
      const names = model.weightNames;
      const missing = names.filter((n) => decoded[n] === undefined);
      const extra = Object.keys(decoded).filter((n) => !names.includes(n));
      if (missing.length > 0 || extra.length > 0) {
        throw new SelfsupError(
          `${fn}: the weights do not match the ${topology.className} architecture` +
            `${missing.length ? ` (missing: ${missing.slice(0, 5).join(', ')})` : ''}${extra.length ? ` (unexpected: ${extra.slice(0, 5).join(', ')})` : ''}`,
        );
      }
      model.setWeights(names.map((n) => decoded[n]!));
    } finally {
      tf.dispose(Object.values(decoded));
    }
  } catch (e) {
    model.dispose();
    if (e instanceof SelfsupError) throw e;
    throw new SelfsupError(`${fn}: the weights could not be loaded into the ${topology.className}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return model;
}

/**
 * Loads a model saved by {@link saveModel} (or any tfjs-layers model): from a
 * folder or `model.json` path in Node, from a tfjs URL (`indexeddb://…`,
 * `http(s)://…`) or from a tfjs IOHandler. tfjs-layers models come back as
 * `tf.LayersModel` (selfsup's custom layers are registered first), the ViT
 * and the MAE decoder as `VisionTransformer` / `MaeDecoder`, with
 * the saved weights: they give the same outputs as the saved model.
 *
 * @throws MissingDataError when the files are not there; SelfsupError when they are damaged or do not fit together.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { loadModel, saveModel, tinyVit, VisionTransformer } from 'selfsup';
 *
 * const dir = join(mkdtempSync(join(tmpdir(), 'selfsup-')), 'vit');
 * const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * await saveModel(vit, dir);
 * const loaded = await loadModel(dir);
 * console.log(loaded instanceof VisionTransformer); // true
 * const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
 * console.log(tf.tidy(() => tf.max(tf.abs(tf.sub(vit.apply(x), (loaded as VisionTransformer).apply(x)))).dataSync()[0])); // 0
 * ```
 */
export async function loadModel(source: string | tf.io.IOHandler): Promise<SavableModel> {
  const fn = 'loadModel';
  assertBackendReady(fn);
  const handler = handlerFor(source, 'load', fn);
  const artifacts = await handler.load!();
  if (artifacts.format === SELFSUP_MODEL_FORMAT) return loadStoredWeightsModel(artifacts, fn);
  registerHeadsLayers();
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new SelfsupError(`${fn}: the model could not be rebuilt by tfjs-layers: ${e instanceof Error ? e.message : String(e)}`);
  }
}
