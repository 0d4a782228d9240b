/**
 * Every selfsup method (joint-embedding and pretext tasks) with tiny models
 * and a matching batch, for the tests that must hold for all of them
 * (guarded steps, lifetimes, async steps).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Clip,
  Colorization,
  ContextEncoder,
  ContextPrediction,
  convEncoder,
  CrossModalCorrespondence,
  DeepCluster,
  DenoisingAutoencoder,
  DINOv2,
  IJEPA,
  MSN,
  PMSN,
  ExemplarCnn,
  Jigsaw,
  MaskedAutoencoder,
  mlpEncoder,
  RotationPrediction,
  SimMIM,
  SparseAutoencoder,
  SplitBrainAutoencoder,
  tinyVit,
  tokenEncoder,
  VICRegL,
  type BasePretextTask,
} from 'selfsup';
import { METHODS, tinyEncoder } from './methods.js';
import { structuredImages, tinyConv } from './pretext-helpers.js';

/** A built task, the batch (and paired input) it trains on, and everything to free afterwards. */
export interface BuiltTask {
  name: string;
  task: BasePretextTask;
  images: tf.Tensor4D;
  paired?: tf.Tensor;
  /** The first trainable weight of the encoder (to poison it). */
  firstWeight: tf.Variable;
  dispose(): void;
}

export interface TaskCase {
  name: string;
  /** Builds the task with `extra` options merged into its options. */
  build(extra?: Record<string, unknown>): BuiltTask;
}

function firstTrainable(task: BasePretextTask): tf.Variable {
  const vars = (task as unknown as { trainableVariables: tf.Variable[] }).trainableVariables;
  return vars[0]!;
}

function finish(name: string, task: BasePretextTask, images: tf.Tensor4D, owned: { dispose(): void }[], paired?: tf.Tensor): BuiltTask {
  return {
    name,
    task,
    images,
    ...(paired !== undefined ? { paired } : {}),
    firstWeight: firstTrainable(task),
    dispose: () => {
      task.dispose();
      for (const o of owned) o.dispose();
    },
  };
}

function single(name: string, make: (extra: Record<string, unknown>, own: (x: { dispose(): void }) => void) => BasePretextTask, rgb = false): TaskCase {
  return {
    name,
    build: (extra = {}) => {
      const owned: { dispose(): void }[] = [];
      const images = structuredImages(4, 8, rgb ? 3 : 1);
      owned.push(images);
      try {
        return finish(name, make(extra, (x) => owned.push(x)), images, owned);
      } catch (e) {
        for (const o of owned) o.dispose();
        throw e;
      }
    },
  };
}

const conv = (own: (x: { dispose(): void }) => void, channels = 1) => {
  const e = tinyConv(8, channels, 0, [2, 4]);
  own(e);
  return e;
};

/** A conv encoder with strides (a 2×2 feature map for 8×8 images): for the methods that read the map. */
const strided = (own: (x: { dispose(): void }) => void) => {
  const e = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], strides: [2, 2], seed: 0 });
  own(e);
  return e;
};

const vitGrid = (own: (x: { dispose(): void }) => void, classToken: boolean) => {
  const v = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, classToken, pool: classToken ? 'cls' : 'mean', seed: 0 });
  own(v);
  return v;
};

const vit8 = (own: (x: { dispose(): void }) => void) => {
  const v = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
  own(v);
  return v;
};

/**
 * Every method selfsup ships, each with a tiny model (a name before " (" is
 * the class; tests/tasks/lifetimes.test.ts checks that every exported task
 * class appears here).
 */
export const ALL_TASKS: TaskCase[] = [
  ...METHODS.map(
    (m): TaskCase => ({
      name: m.name,
      build: (extra = {}) => {
        const encoder = tinyEncoder(0);
        const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
        try {
          return finish(m.name, m.make(encoder, extra), images, [images, encoder]);
        } catch (e) {
          tf.dispose([images]);
          encoder.dispose();
          throw e;
        }
      },
    }),
  ),
  single('SparseAutoencoder', (x, own) => new SparseAutoencoder(conv(own), { seed: 1, ...x })),
  single('DenoisingAutoencoder', (x, own) => new DenoisingAutoencoder(conv(own), { seed: 1, ...x })),
  single('MaskedAutoencoder', (x, own) => new MaskedAutoencoder(vit8(own), { seed: 1, ...x })),
  single('MaskedAutoencoder (conv)', (x, own) => new MaskedAutoencoder(strided(own), { seed: 1, ...x })),
  single('SimMIM', (x, own) => new SimMIM(strided(own), { maskRatio: 0.5, seed: 1, ...x })),
  single('SimMIM (ViT)', (x, own) => new SimMIM(vit8(own), { maskRatio: 0.5, seed: 1, ...x })),
  // The ViT methods (patch 2 on 8×8: a 4×4 grid), as tests/tasks/vit-methods.test.ts builds them.
  single('DINOv2', (x, own) => new DINOv2(vitGrid(own, true), { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, totalSteps: 50, seed: 1, ...x })),
  single('IJEPA', (x, own) => new IJEPA(vitGrid(own, false), { masks: { numTargets: 2, targetScale: [0.2, 0.3], minKeep: 1 }, totalSteps: 50, seed: 1, ...x })),
  single('MSN', (x, own) => new MSN(vitGrid(own, true), { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.3, seed: 1, ...x })),
  single('PMSN', (x, own) => new PMSN(vitGrid(own, true), { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.3, seed: 1, ...x })),
  single('VICRegL', (x, own) => new VICRegL(strided(own), { projectionDim: 8, localProjectionDim: 4, numMatches: [2, 1], seed: 1, ...x })),
  single('ContextEncoder', (x, own) => new ContextEncoder(conv(own), { mask: 'center', seed: 1, ...x })),
  single('Colorization', (x, own) => new Colorization(conv(own), { priorSteps: 1, seed: 1, ...x }), true),
  single('SplitBrainAutoencoder', (x, own) => new SplitBrainAutoencoder(conv(own), conv(own, 2), { seed: 1, ...x }), true),
  single('RotationPrediction', (x, own) => new RotationPrediction(conv(own), { seed: 1, ...x })),
  single('Jigsaw', (x, own) => new Jigsaw(conv(own), { grid: 2, numPermutations: 6, seed: 1, ...x })),
  single('ContextPrediction', (x, own) => new ContextPrediction(conv(own), { patchSize: 2, gap: 1, jitter: 0, seed: 1, ...x })),
  single('DeepCluster', (x, own) => new DeepCluster(conv(own), { numClusters: 2, pcaDim: 2, memorySize: 8, clusterEvery: 1, seed: 1, ...x })),
  single('ExemplarCnn', (x, own) => new ExemplarCnn(conv(own), { numExemplars: 6, seed: 1, ...x })),
  {
    name: 'Clip',
    build: (extra = {}) => {
      const images = structuredImages(4, 8);
      const tokens = tf.tensor2d([[1, 2], [3, 4], [1, 4], [2, 3]], [4, 2], 'int32');
      const text = tokenEncoder({ vocabSize: 5, sequenceLength: 2, embeddingDim: 4, hiddenDims: [], outputDim: 4, seed: 0 });
      const imageNet = mlpEncoder({ inputShape: [8, 8, 1], units: [4], seed: 0 });
      const owned = [images, tokens, text, imageNet];
      try {
        return finish('Clip', new Clip(imageNet, text, { embedDim: 4, seed: 1, ...extra }), images, owned, tokens);
      } catch (e) {
        for (const o of owned) o.dispose();
        throw e;
      }
    },
  },
  {
    name: 'CrossModalCorrespondence',
    build: (extra = {}) => {
      const owned: { dispose(): void }[] = [];
      const images = structuredImages(4, 8);
      const signal = tf.tidy(() => tf.reshape(tf.mean(images, 1), [4, 8]));
      const signalNet = mlpEncoder({ inputShape: [8], units: [4], seed: 0 });
      owned.push(images, signal, signalNet);
      try {
        const task = new CrossModalCorrespondence(conv((o) => owned.push(o)), signalNet, { hiddenDim: 4, seed: 1, ...extra });
        return finish('CrossModalCorrespondence', task, images, owned, signal);
      } catch (e) {
        for (const o of owned) o.dispose();
        throw e;
      }
    },
  },
];

/**
 * A fingerprint of every live tf.Variable (weights, batch-norm statistics,
 * optimizer slots, EMA targets, queues, centres): equal fingerprints mean
 * the state is bit-for-bit the same.
 */
export function stateFingerprint(only?: ReadonlySet<string>): string {
  const vars = Object.values(tf.engine().registeredVariables)
    .filter((v) => !v.isDisposed && (only === undefined || only.has(v.name)))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  let h = 0x811c9dc5;
  const parts: string[] = [];
  for (const v of vars) {
    const bytes = new Uint8Array((v.dataSync() as Float32Array).slice().buffer);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    parts.push(`${v.name}:${v.shape.join('x')}`);
  }
  return `${vars.length} variables, fnv ${(h >>> 0).toString(16)} over ${parts.join(',').length} chars of names`;
}

/** Names of the live variables now (to fingerprint the same set later). */
export function liveVariableNames(): Set<string> {
  return new Set(Object.values(tf.engine().registeredVariables).filter((v) => !v.isDisposed).map((v) => v.name));
}
