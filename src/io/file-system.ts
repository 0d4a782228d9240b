import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, MissingDataError, SelfsupError } from '../core/errors.js';
import { nodeBuiltin, writeFileAtomic } from '../core/node.js';
import { describeValue } from '../core/validate.js';

/** Bytes per value of each weight dtype (strings have none fixed). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** The weight bytes the specs describe, or `null` when they cannot be counted (strings). */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const per = spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype];
    if (per === undefined) return null;
    total += size * per;
  }
  return total;
}

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffer = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : (data as ArrayBuffer);
  return new Uint8Array(buffer);
}

/** Where a model lives: the folder and the model.json path. */
function locate(path: string, fn: string): { dir: string; modelPath: string } {
  const { resolve, dirname, join } = nodeBuiltin('node:path', fn, 'in a browser save to indexeddb:// or downloads://');
  const full = resolve(path);
  if (full.toLowerCase().endsWith('.json')) return { dir: dirname(full), modelPath: full };
  return { dir: full, modelPath: join(full, 'model.json') };
}

/** A weights file name carrying a digest of its bytes, so a new save never overwrites the file an old model.json names. */
function weightsFileName(bytes: Uint8Array, fn: string): string {
  const digest = nodeBuiltin('node:crypto', fn).createHash('sha256').update(bytes).digest('hex');
  return `weights.${digest.slice(0, 16)}.bin`;
}

/** The weight files a model.json names (empty when there is none or it cannot be read). */
async function referencedWeights(modelPath: string, fn: string): Promise<string[]> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  try {
    const json = JSON.parse(await fsp.readFile(modelPath, 'utf8')) as tf.io.ModelJSON;
    return (json.weightsManifest ?? []).flatMap((group) => group.paths);
  } catch {
    return [];
  }
}

/**
 * Saves model artifacts to `path` (a folder, or a `.json` file path): the
 * weights first, under a name derived from their bytes, then `model.json`,
 * each written to a temporary file and renamed; weight files the previous
 * model.json named are removed last. A crash at any point leaves the old
 * model or the new one, complete.
 */
async function saveArtifacts(path: string, artifacts: tf.io.ModelArtifacts, fn: string): Promise<tf.io.SaveResult> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  const { join, basename, dirname } = nodeBuiltin('node:path', fn);
  const { dir, modelPath } = locate(path, fn);
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new InvalidArgumentError(fn, 'model', 'have a JSON topology (a tfjs-layers model or a selfsup model)', 'a binary (GraphDef) topology');
  }
  await fsp.mkdir(dir, { recursive: true });
  const previous = await referencedWeights(modelPath, fn);
  const weights = joinWeightData(artifacts.weightData);
  const weightsName = weightsFileName(weights, fn);
  await writeFileAtomic(join(dir, weightsName), weights, fn);
  const manifest: tf.io.WeightsManifestConfig = [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }];
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: manifest,
  };
  for (const key of ['trainingConfig', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature'] as const) {
    if (artifacts[key] !== undefined) modelJson[key] = artifacts[key];
  }
  await writeFileAtomic(modelPath, JSON.stringify(modelJson), fn);
  for (const old of previous) {
    // Only files in the model's own folder that the old model.json named; never the new weights.
    if (old === weightsName || basename(old) !== old || dirname(join(dir, old)) !== dir) continue;
    await fsp.rm(join(dir, old), { force: true });
  }
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData: weights.buffer as ArrayBuffer }) };
}

/** Reads `model.json` and its weight files back into model artifacts, checking that nothing is missing or truncated. */
async function loadArtifacts(path: string, fn: string): Promise<tf.io.ModelArtifacts> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  const { join, dirname } = nodeBuiltin('node:path', fn);
  let { modelPath } = locate(path, fn);
  const info = await fsp.stat(modelPath).catch(() => null);
  if (info?.isDirectory()) modelPath = join(modelPath, 'model.json');
  let text: string;
  try {
    text = await fsp.readFile(modelPath, 'utf8');
  } catch {
    throw new MissingDataError(`${fn}: no saved model at ${path} (${modelPath} does not exist)`);
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (e) {
    throw new SelfsupError(`${fn}: ${modelPath} is not valid JSON (${e instanceof Error ? e.message : String(e)}); the file is damaged`);
  }
  if (typeof json !== 'object' || json === null || json.modelTopology === undefined) {
    throw new SelfsupError(`${fn}: ${modelPath} is not a model.json (it has no modelTopology)`);
  }
  const dir = dirname(modelPath);
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = tf.io.getWeightSpecs(manifest);
    const parts: Uint8Array[] = [];
    for (const file of manifest.flatMap((group) => group.paths)) {
      try {
        parts.push(await fsp.readFile(join(dir, file)));
      } catch {
        throw new MissingDataError(`${fn}: the weights file ${join(dir, file)} named by ${modelPath} is missing`);
      }
    }
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const expected = expectedWeightBytes(specs);
    if (expected !== null && expected !== total) {
      throw new SelfsupError(`${fn}: the weights of ${modelPath} hold ${total} bytes where its manifest describes ${expected}; the files are truncated or do not belong to this model.json`);
    }
    const data = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.byteLength;
    }
    return [specs, data.buffer];
  });
}

/**
 * A tfjs IO handler for model files in Node, without tfjs-node: `model.json`
 * plus one weights file in the tfjs-layers format, at `path` (a folder, or
 * the path of a `.json` file). Saving is atomic (temporary files renamed into
 * place, the weights file named by a digest of its bytes, so a crash leaves
 * the old model or the new one, complete). Loading checks that every weights
 * file is there and has the size the manifest describes.
 *
 * Pass it where tfjs takes a handler: `model.save(fileSystem(dir))`,
 * `tf.loadLayersModel(fileSystem(dir))` (stock tfjs-layers; for models with
 * selfsup's custom layers call `registerHeadsLayers()` first), or use
 * {@link saveModel} / {@link loadModel}, which also handle selfsup's ViT and
 * MAE decoder.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { fileSystem } from 'selfsup';
 *
 * const dir = join(mkdtempSync(join(tmpdir(), 'model-')), 'encoder');
 * const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
 * await model.save(fileSystem(dir)); // dir/model.json + dir/weights.<digest>.bin
 * const loaded = await tfl.loadLayersModel(fileSystem(dir));
 * console.log(loaded.outputs[0]!.shape); // [null, 2]
 * ```
 */
export function fileSystem(path: string): tf.io.IOHandler {
  const fn = 'fileSystem';
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError(fn, 'path', 'be a folder (or model.json) path', describeValue(path));
  }
  return fileSystemHandler(path, `${fn}(${JSON.stringify(path)}).save`, `${fn}(${JSON.stringify(path)}).load`);
}

/** @internal {@link fileSystem} with the names its errors give (`saveModel`, `loadModel` use their own). */
export function fileSystemHandler(path: string, saveFn: string, loadFn: string): tf.io.IOHandler {
  nodeBuiltin('node:fs', saveFn, 'in a browser use indexeddb:// or downloads://');
  const target = path.startsWith('file://') ? path.slice('file://'.length) : path;
  return {
    save: (artifacts) => saveArtifacts(target, artifacts, saveFn),
    load: () => loadArtifacts(target, loadFn),
  };
}
