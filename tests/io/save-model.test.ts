/**
 * Every encoder and head of selfsup/heads round-trips through saveModel /
 * loadModel with identical outputs (all weights randomised first, so batch
 * norm statistics and frozen tables are covered too); the files load in a
 * fresh process with stock tfjs-layers and the fileSystem handler; saving is
 * atomic and damaged files are clear errors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { MissingDataError, SelfsupError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import {
  classificationHead,
  convDecoder,
  convEncoder,
  correspondenceHead,
  dinoHead,
  featureMapModel,
  l2NormalizeLayer,
  maeDecoder,
  mlpEncoder,
  patchDiscriminator,
  pixelClassifier,
  predictionMlp,
  projectionMlp,
  prototypeLayer,
  siameseHead,
  tinyVit,
  tokenEncoder,
  weightNormDense,
} from '../../src/heads/index.js';
import { MaeDecoder } from '../../src/heads/mae-decoder.js';
import { VisionTransformer } from '../../src/heads/vit.js';
import { fileSystem } from '../../src/io/file-system.js';
import { loadModel, saveModel, type SavableModel } from '../../src/io/save-model.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await useBackend('cpu');
});

/** Sets every weight (trainable or not: batch-norm statistics, frozen norms, sine-cosine tables) to fresh random values. */
function randomizeWeights(model: SavableModel, seed: number): void {
  const rng = createRng(seed);
  const weights = model.getWeights();
  // Variances must stay positive; everything else any value.
  const fresh = weights.map((w) => tf.tensor(rng.uniformArray(w.size, 0.1, 1), w.shape, w.dtype));
  model.setWeights(fresh);
  // A ViT hands out copies; a tfjs-layers model its variables themselves.
  if (model instanceof VisionTransformer || model instanceof MaeDecoder) tf.dispose(weights);
  tf.dispose(fresh);
}

type Case = { build: () => SavableModel; input: () => tf.Tensor | tf.Tensor[]; run?: (m: SavableModel, x: tf.Tensor | tf.Tensor[]) => tf.Tensor };
const images = (shape: number[]) => () => tf.randomUniform(shape, 0, 1, 'float32', 7);
const vectors = (n: number, d: number) => () => tf.randomNormal([n, d], 0, 1, 'float32', 8);

const vitOf = (m: SavableModel) => m as VisionTransformer;
const CASES: Record<string, Case> = {
  'projectionMlp (simclr)': { build: () => projectionMlp({ inputDim: 8, hiddenDim: 16, outputDim: 4, seed: 0 }), input: vectors(3, 8) },
  'projectionMlp (byol)': { build: () => projectionMlp({ inputDim: 8, hiddenDim: 16, outputDim: 4, variant: 'byol', seed: 0 }), input: vectors(3, 8) },
  predictionMlp: { build: () => predictionMlp({ inputDim: 8, variant: 'simsiam', seed: 0 }), input: vectors(3, 8) },
  classificationHead: { build: () => classificationHead({ inputDim: 8, numClasses: 4, hiddenDims: [6], seed: 0 }), input: vectors(3, 8) },
  'dinoHead (weightNormDense, l2NormalizeLayer)': { build: () => dinoHead({ inputDim: 8, hiddenDim: 16, bottleneckDim: 4, outputDim: 12, seed: 0 }), input: vectors(3, 8) },
  'prototypeLayer + l2NormalizeLayer': {
    build: () => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 6 }), l2NormalizeLayer(), prototypeLayer({ numPrototypes: 5, seed: 0 })] }),
    input: vectors(3, 8),
  },
  'weightNormDense (frozen norm)': {
    build: () => tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [8] }), weightNormDense({ units: 5, frozenNorm: true, seed: 0 })] }),
    input: vectors(3, 8),
  },
  mlpEncoder: { build: () => mlpEncoder({ inputShape: [6, 6, 1], units: [8, 4], seed: 0 }), input: images([2, 6, 6, 1]) },
  'convEncoder (batch norm)': { build: () => convEncoder({ inputShape: [16, 16, 3], channels: [4, 8], batchNorm: true, seed: 0 }), input: images([2, 16, 16, 3]) },
  'convEncoder (outputGrid)': { build: () => convEncoder({ inputShape: [16, 16, 1], channels: [4, 8, 8], outputGrid: 2, seed: 0 }), input: images([2, 16, 16, 1]) },
  featureMapModel: { build: () => featureMapModel(convEncoder({ inputShape: [16, 16, 3], channels: [4, 8], seed: 0 })), input: images([2, 16, 16, 3]) },
  convDecoder: { build: () => convDecoder({ inputDim: 8, outputShape: [16, 16, 1], channels: [8, 4], seed: 0 }), input: vectors(2, 8) },
  patchDiscriminator: { build: () => patchDiscriminator({ inputShape: [16, 16, 1], channels: [4, 8], seed: 0 }), input: images([2, 16, 16, 1]) },
  pixelClassifier: { build: () => pixelClassifier({ inputShape: [4, 4, 8], numClasses: 10, hiddenChannels: [6], seed: 0 }), input: images([2, 4, 4, 8]) },
  siameseHead: { build: () => siameseHead({ branches: 4, inputDim: 8, branchDim: 6, hiddenDims: [10], numClasses: 7, seed: 0 }), input: () => tf.randomNormal([2, 4, 8], 0, 1, 'float32', 3) },
  'tokenEncoder (bag of tokens)': {
    build: () => tokenEncoder({ vocabSize: 12, sequenceLength: 4, outputDim: 6, seed: 0 }),
    input: () => tf.tensor2d([[3, 7, 1, 0], [2, 5, 11, 0]], [2, 4], 'int32'),
  },
  correspondenceHead: { build: () => correspondenceHead({ inputDims: [8, 6], hiddenDim: 10, seed: 0 }), input: () => [vectors(3, 8)(), vectors(3, 6)()] },
  'tinyVit (learned positions, class token)': {
    build: () => tinyVit({ imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 2, heads: 2, seed: 0 }),
    input: images([2, 8, 8, 3]),
    run: (m, x) => vitOf(m).apply(x as tf.Tensor4D),
  },
  'tinyVit (sine-cosine, mean pool, no class token, [8, 12])': {
    build: () => tinyVit({ imageSize: [8, 12], channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, classToken: false, positionalEmbedding: 'sincos', seed: 0 }),
    input: images([2, 8, 12, 1]),
    run: (m, x) => vitOf(m).apply(x as tf.Tensor4D),
  },
  maeDecoder: {
    build: () => {
      const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
      const decoder = maeDecoder(encoder, { dim: 8, depth: 1, heads: 2, seed: 1 });
      encoder.dispose();
      return decoder;
    },
    input: () => tf.randomNormal([2, 3, 16], 0, 1, 'float32', 5),
    run: (m, x) => (m as MaeDecoder).decode(x as tf.Tensor3D, tf.tensor2d([[0, 3], [2, 1]], [2, 2], 'int32')),
  },
};

function outputOf(c: Case, model: SavableModel, x: tf.Tensor | tf.Tensor[]): Float32Array {
  return tf.tidy(() => {
    const y = c.run ? c.run(model, x) : ((model as tfl.LayersModel).predict(x) as tf.Tensor);
    return y.dataSync() as Float32Array;
  });
}

describe('saveModel / loadModel round trip (identical outputs after reload)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const model = c.build();
      randomizeWeights(model, 3);
      const x = c.input();
      const before = outputOf(c, model, x);
      const path = join(dir, name.replace(/[^a-z0-9]+/gi, '-'));
      const result = await saveModel(model, path);
      expect(result.modelArtifactsInfo.weightDataBytes).toBeGreaterThan(0);
      const loaded = await loadModel(path);
      expect(loaded.constructor.name).toBe(model.constructor.name);
      const after = outputOf(c, loaded, x);
      expect(Array.from(after)).toEqual(Array.from(before));
      const count = tf.memory().numTensors;
      model.dispose();
      loaded.dispose();
      tf.dispose(x);
      expect(tf.memory().numTensors).toBeLessThan(count);
    });
  }

  it('a loaded ViT keeps its architecture, can be saved again and cloned', async () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 4, mlpRatio: 2, layerNormEps: 1e-5, seed: 4 });
    await saveModel(vit, join(dir, 'vit-config'));
    const loaded = (await loadModel(join(dir, 'vit-config', 'model.json'))) as VisionTransformer;
    expect(loaded.getConfig()).toEqual(vit.getConfig());
    expect(loaded.weightNames).toEqual(vit.weightNames);
    await saveModel(loaded, join(dir, 'vit-config'));
    vit.dispose();
    loaded.dispose();
  });
});

describe('model files', () => {
  it('load in a fresh process with stock tfjs-layers and the fileSystem handler', async () => {
    const encoder = convEncoder({ inputShape: [12, 12, 3], channels: [4, 8], batchNorm: true, seed: 2 });
    const head = dinoHead({ inputDim: 8, hiddenDim: 16, bottleneckDim: 4, outputDim: 12, seed: 0 });
    randomizeWeights(encoder, 1);
    randomizeWeights(head, 2);
    const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 9);
    const expected = tf.tidy(() => {
      const h = encoder.predict(x) as tf.Tensor;
      return { features: Array.from(h.dataSync()), logits: Array.from((head.predict(h) as tf.Tensor).dataSync()) };
    });
    await encoder.save(fileSystem(join(dir, 'fresh', 'encoder')));
    await saveModel(head, join(dir, 'fresh', 'head'));
    writeFileSync(join(dir, 'fresh', 'input.json'), JSON.stringify(Array.from(x.dataSync())));
    // Inside the repository, so the script resolves the installed tfjs packages as a user's code would.
    mkdirSync(join(root, 'test-output'), { recursive: true });
    const script = join(root, 'test-output', `fresh-load-${process.pid}.mts`);
    writeFileSync(
      script,
      `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { fileSystem } from '${join(root, 'src/io/file-system.ts')}';
import { registerHeadsLayers } from '${join(root, 'src/heads/register-layers.ts')}';
await tf.setBackend('cpu');
const x = tf.tensor4d(JSON.parse(readFileSync('${join(dir, 'fresh', 'input.json')}', 'utf8')), [2, 12, 12, 3]);
const encoder = await tfl.loadLayersModel(fileSystem('${join(dir, 'fresh', 'encoder')}'));
registerHeadsLayers(); // the head has selfsup's custom layers
const head = await tfl.loadLayersModel(fileSystem('${join(dir, 'fresh', 'head', 'model.json')}'));
const h = encoder.predict(x);
console.log(JSON.stringify({ features: Array.from(h.dataSync()), logits: Array.from(head.predict(h).dataSync()) }));
`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    rmSync(script, { force: true });
    const got = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(got.features).toEqual(expected.features);
    expect(got.logits).toEqual(expected.logits);
    tf.dispose([x]);
    encoder.dispose();
    head.dispose();
  });

  it('saving is atomic: the folder holds model.json and the one weights file it names, old weights removed', async () => {
    const path = join(dir, 'atomic');
    const a = mlpEncoder({ inputShape: [4], units: [3], seed: 0 });
    const b = mlpEncoder({ inputShape: [4], units: [3], seed: 1 });
    await saveModel(a, path);
    const first = readdirSync(path).sort();
    expect(first).toEqual(['model.json', expect.stringMatching(/^weights\.[0-9a-f]{16}\.bin$/)]);
    await saveModel(b, path);
    const second = readdirSync(path).sort();
    expect(second).toHaveLength(2);
    expect(second[1]).not.toBe(first[1]);
    const manifest = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')).weightsManifest;
    expect(manifest[0].paths).toEqual([second[1]]);
    a.dispose();
    b.dispose();
  });

  it('missing, truncated, foreign and damaged files are clear errors', async () => {
    await expect(loadModel(join(dir, 'no-such-model'))).rejects.toThrow(MissingDataError);
    await expect(loadModel(join(dir, 'no-such-model'))).rejects.toThrow(/loadModel.*no saved model at/);
    const path = join(dir, 'damaged');
    const model = mlpEncoder({ inputShape: [4], units: [3], seed: 0 });
    await saveModel(model, path);
    const weights = readdirSync(path).find((f) => f.endsWith('.bin'))!;
    truncateSync(join(path, weights), 8);
    await expect(loadModel(path)).rejects.toThrow(/hold 8 bytes where its manifest describes 60; the files are truncated/);
    rmSync(join(path, weights));
    await expect(loadModel(path)).rejects.toThrow(/the weights file .* is missing/);
    writeFileSync(join(path, 'model.json'), '{"modelTopology": ');
    await expect(loadModel(path)).rejects.toThrow(/is not valid JSON/);
    // A ViT file whose weights belong to another architecture.
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    await saveModel(vit, join(dir, 'vit-a'));
    const json = JSON.parse(readFileSync(join(dir, 'vit-a', 'model.json'), 'utf8'));
    json.modelTopology.selfsup.config.depth = 2;
    writeFileSync(join(dir, 'vit-a', 'model.json'), JSON.stringify(json));
    await expect(loadModel(join(dir, 'vit-a'))).rejects.toThrow(SelfsupError);
    await expect(loadModel(join(dir, 'vit-a'))).rejects.toThrow(/weights do not match the VisionTransformer architecture \(missing: block1/);
    json.modelTopology.selfsup.config.heads = 3;
    writeFileSync(join(dir, 'vit-a', 'model.json'), JSON.stringify(json));
    await expect(loadModel(join(dir, 'vit-a'))).rejects.toThrow(/VisionTransformer architecture is invalid: tinyVit: options.heads must divide options.dim/);
    model.dispose();
    vit.dispose();
  });

  it('checks its arguments', async () => {
    await expect(saveModel({} as SavableModel, join(dir, 'x'))).rejects.toThrow(/saveModel: model must be a tfjs-layers model, a VisionTransformer/);
    const vit = tinyVit({ imageSize: 4, channels: 1, patchSize: 2, dim: 4, depth: 0, heads: 1, seed: 0 });
    vit.dispose();
    await expect(saveModel(vit, join(dir, 'x'))).rejects.toThrow(/model must not be disposed/);
    const m = mlpEncoder({ inputShape: [4], units: [3], seed: 0 });
    await expect(saveModel(m, '')).rejects.toThrow(/saveModel: destination must be a folder path/);
    await expect(saveModel(m, 'indexeddb://encoder')).rejects.toThrow(/saveModel: destination must name a place tfjs can save to here/);
    await expect(loadModel(42 as unknown as string)).rejects.toThrow(/loadModel: source must be a folder path/);
    expect(() => fileSystem('')).toThrow(/fileSystem: path must be a folder/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    m.dispose();
  });
});
