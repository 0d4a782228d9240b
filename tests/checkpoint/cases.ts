/**
 * Every method and pretext task of selfsup/tasks in a tiny configuration,
 * for the checkpoint tests (in-process and in child processes). Each case
 * builds its task and encoders from one seed and steps it on inputs that
 * depend only on the step index, so that two processes see the same data.
 *
 * Every exported subclass of BasePretextTask must have a case here
 * (tests/checkpoint/continuation.test.ts checks): that is what proves its
 * checkpoints continue exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BarlowTwins,
  BYOL,
  Clip,
  Colorization,
  ContextEncoder,
  ContextPrediction,
  convEncoder,
  CrossModalCorrespondence,
  DCL,
  DeepCluster,
  DenoisingAutoencoder,
  DINO,
  DINOv2,
  ExemplarCnn,
  FastSiam,
  IJEPA,
  Jigsaw,
  MaskedAutoencoder,
  MMCR,
  mlpEncoder,
  MoCoV2,
  MSN,
  NNCLR,
  PMSN,
  RotationPrediction,
  SimCLR,
  SimMIM,
  SimSiam,
  SparseAutoencoder,
  SplitBrainAutoencoder,
  SwAV,
  TiCo,
  tinyVit,
  tokenEncoder,
  VICReg,
  VICRegL,
  type BasePretextTask,
} from 'selfsup';

/** A task ready to step, with what it needs to be freed. */
export interface CaseRun {
  task: BasePretextTask;
  /** Runs step `i` (its inputs depend only on `i`) and returns the loss. */
  step(i: number): number;
  /** Frees the task and its encoders. */
  dispose(): void;
}

export interface CheckpointCase {
  /** The task class's name (`task.constructor.name`), plus a variant when there are several. */
  name: string;
  make(seed: number): CaseRun;
}

const BATCH = 8;
const images = (i: number, h: number, w: number, c: number) => tf.randomUniform([BATCH, h, w, c], 0, 1, 'float32', 1000 + i) as tf.Tensor4D;
const mlp = (size: number, seed: number) => mlpEncoder({ inputShape: [size, size, 1], units: [16], seed });
const conv = (size: number, channels: number, seed: number, widths = [4, 8], batchNorm = false) =>
  convEncoder({ inputShape: [size, size, channels], channels: widths, batchNorm, seed });

/** A case whose step takes one image batch of `[h, w, c]`. */
function imageCase(
  name: string,
  shape: [number, number, number],
  build: (seed: number) => { task: BasePretextTask; models: { dispose(): unknown }[] },
): CheckpointCase {
  return {
    name,
    make(seed) {
      const { task, models } = build(seed);
      return {
        task,
        step: (i) => {
          const x = images(i, ...shape);
          try {
            return task.step(x);
          } finally {
            x.dispose();
          }
        },
        dispose: () => {
          task.dispose();
          for (const m of models) m.dispose();
        },
      };
    },
  };
}

function withEncoder<T extends BasePretextTask>(encoder: { dispose(): unknown }, task: (e: never) => T): { task: T; models: { dispose(): unknown }[] } {
  return { task: task(encoder as never), models: [encoder] };
}

const DINO_CROPS = { global: { count: 2, size: 8, scale: [0.4, 1] as [number, number] }, local: { count: 2, size: 8, scale: [0.1, 0.4] as [number, number] } };

export const CASES: CheckpointCase[] = [
  imageCase('SimCLR', [8, 8, 1], (s) => withEncoder(conv(8, 1, s, [4, 8], true), (e) => new SimCLR(e, { projectionDim: 8, seed: s }))),
  imageCase('MoCoV2', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new MoCoV2(e, { projectionDim: 8, queueSize: 12, symmetric: true, seed: s }))),
  imageCase('BYOL', [8, 8, 1], (s) =>
    withEncoder(conv(8, 1, s, [4, 8], true), (e) => new BYOL(e, { projectionDim: 8, hiddenDim: 16, totalSteps: 10, seed: s })),
  ),
  imageCase('SimSiam', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new SimSiam(e, { seed: s }))),
  imageCase('BarlowTwins', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new BarlowTwins(e, { projectionDim: 16, seed: s }))),
  imageCase('VICReg', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new VICReg(e, { projectionDim: 16, seed: s }))),
  imageCase('DINO', [8, 8, 1], (s) =>
    withEncoder(
      mlp(8, s),
      (e) => new DINO(e, { crops: DINO_CROPS, outputDim: 16, hiddenDim: 16, bottleneckDim: 8, totalSteps: 10, freezeLastLayerSteps: 3, seed: s }),
    ),
  ),
  imageCase('SwAV', [8, 8, 1], (s) =>
    withEncoder(mlp(8, s), (e) => new SwAV(e, { numPrototypes: 8, projectionDim: 8, queueSize: 16, freezePrototypesSteps: 1, seed: s })),
  ),
  imageCase('NNCLR', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new NNCLR(e, { projectionDim: 8, hiddenDim: 16, supportSetSize: 20, seed: s }))),
  imageCase('DCL', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new DCL(e, { projectionDim: 8, seed: s }))),
  imageCase('DCL weighted', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new DCL(e, { projectionDim: 8, weighted: true, seed: s }))),
  imageCase('MMCR', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new MMCR(e, { numViews: 3, projectionDim: 8, seed: s }))),
  imageCase('TiCo', [8, 8, 1], (s) => withEncoder(conv(8, 1, s, [4, 8], true), (e) => new TiCo(e, { projectionDim: 8, hiddenDim: 16, seed: s }))),
  imageCase('FastSiam', [8, 8, 1], (s) => withEncoder(mlp(8, s), (e) => new FastSiam(e, { numViews: 3, seed: s }))),
  imageCase('VICRegL', [16, 16, 1], (s) =>
    withEncoder(
      convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], strides: [2, 2], seed: s }),
      (e) => new VICRegL(e, { projectionDim: 16, localProjectionDim: 8, numMatches: [8, 4], seed: s }),
    ),
  ),
  imageCase('DINOv2', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, seed: s }), (e) =>
      new DINOv2(e, { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, totalSteps: 10, seed: s }),
    ),
  ),
  imageCase('DINOv2 sinkhornKnopp', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, seed: s }), (e) =>
      new DINOv2(e, { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, centering: 'sinkhornKnopp', headBatchNorm: true, seed: s }),
    ),
  ),
  imageCase('IJEPA', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, classToken: false, pool: 'mean', seed: s }), (e) =>
      new IJEPA(e, { masks: { numTargets: 2, targetScale: [0.2, 0.3], minKeep: 1 }, totalSteps: 10, seed: s }),
    ),
  ),
  imageCase('MSN', [8, 8, 1], (s) =>
    withEncoder(mlp(8, s), (e) => new MSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, totalSteps: 10, seed: s })),
  ),
  imageCase('MSN vit', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, seed: s }), (e) =>
      new MSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.3, seed: s }),
    ),
  ),
  imageCase('PMSN', [8, 8, 1], (s) =>
    withEncoder(mlp(8, s), (e) => new PMSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, seed: s })),
  ),
  imageCase('SparseAutoencoder', [8, 8, 1], (s) =>
    withEncoder(conv(8, 1, s), (e) => new SparseAutoencoder(e, { sparsity: 'kl', sparsityWeight: 0.1, learningRate: 0.01, seed: s })),
  ),
  imageCase('DenoisingAutoencoder', [8, 8, 1], (s) => withEncoder(conv(8, 1, s), (e) => new DenoisingAutoencoder(e, { learningRate: 0.01, seed: s }))),
  imageCase('MaskedAutoencoder', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, seed: s }), (e) => new MaskedAutoencoder(e, { seed: s })),
  ),
  imageCase('MaskedAutoencoder conv', [8, 8, 1], (s) =>
    withEncoder(convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], strides: [2, 2], seed: s }), (e) => new MaskedAutoencoder(e, { maskRatio: 0.5, seed: s })),
  ),
  imageCase('SimMIM', [16, 16, 1], (s) =>
    withEncoder(convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], strides: [2, 2], seed: s }), (e) => new SimMIM(e, { maskRatio: 0.5, seed: s })),
  ),
  imageCase('SimMIM vit', [8, 8, 1], (s) =>
    withEncoder(tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, seed: s }), (e) => new SimMIM(e, { seed: s })),
  ),
  imageCase('ContextEncoder', [16, 16, 1], (s) => withEncoder(conv(16, 1, s), (e) => new ContextEncoder(e, { learningRate: 0.005, seed: s }))),
  imageCase('Colorization', [8, 8, 3], (s) => withEncoder(conv(8, 1, s), (e) => new Colorization(e, { priorSteps: 3, learningRate: 0.01, seed: s }))),
  imageCase('SplitBrainAutoencoder', [16, 16, 3], (s) => {
    const l = conv(16, 1, s, [4, 8, 8], true);
    const ab = conv(16, 2, s + 1, [4, 8, 6]);
    return { task: new SplitBrainAutoencoder(l, ab, { learningRate: 0.01, seed: s }), models: [l, ab] };
  }),
  imageCase('RotationPrediction', [8, 8, 1], (s) => withEncoder(conv(8, 1, s, [4, 8], true), (e) => new RotationPrediction(e, { seed: s }))),
  imageCase('Jigsaw', [12, 12, 1], (s) => withEncoder(conv(12, 1, s), (e) => new Jigsaw(e, { grid: 2, numPermutations: 6, seed: s }))),
  imageCase('ContextPrediction', [16, 16, 1], (s) =>
    withEncoder(conv(16, 1, s), (e) => new ContextPrediction(e, { patchSize: 4, gap: 1, jitter: 1, normalizePatches: true, seed: s })),
  ),
  imageCase('DeepCluster', [8, 8, 1], (s) =>
    withEncoder(conv(8, 1, s, [4, 16]), (e) => new DeepCluster(e, { numClusters: 6, pcaDim: 4, memorySize: 32, clusterEvery: 3, seed: s })),
  ),
  imageCase('ExemplarCnn', [8, 8, 1], (s) => withEncoder(conv(8, 1, s), (e) => new ExemplarCnn(e, { numExemplars: 12, seed: s }))),
  imageCase('ExemplarCnn non-parametric', [8, 8, 1], (s) =>
    withEncoder(conv(8, 1, s), (e) => new ExemplarCnn(e, { numExemplars: 12, variant: 'non-parametric', seed: s })),
  ),
  {
    name: 'Clip',
    make(s) {
      const imageEncoder = mlp(6, s);
      const textEncoder = tokenEncoder({ vocabSize: 9, sequenceLength: 2, embeddingDim: 8, hiddenDims: [], outputDim: 16, seed: s + 1 });
      const task = new Clip(imageEncoder, textEncoder, { embedDim: 8, seed: s });
      return {
        task,
        step: (i) => {
          const x = images(i, 6, 6, 1);
          const texts = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([BATCH, 2], 0, 9, 'float32', 2000 + i)), 'int32'));
          try {
            return task.step(x, texts);
          } finally {
            tf.dispose([x, texts]);
          }
        },
        dispose: () => {
          task.dispose();
          imageEncoder.dispose();
          textEncoder.dispose();
        },
      };
    },
  },
  {
    name: 'CrossModalCorrespondence',
    make(s) {
      const vision = mlp(6, s);
      const other = mlpEncoder({ inputShape: [12], units: [16], seed: s + 1 });
      const task = new CrossModalCorrespondence(vision, other, { hiddenDim: 16, seed: s });
      return {
        task,
        step: (i) => {
          const x = images(i, 6, 6, 1);
          const signal = tf.randomUniform([BATCH, 12], 0, 1, 'float32', 3000 + i);
          try {
            return task.step(x, signal);
          } finally {
            tf.dispose([x, signal]);
          }
        },
        dispose: () => {
          task.dispose();
          vision.dispose();
          other.dispose();
        },
      };
    },
  },
];

/** SimCLR with a checkpoint of about 5 MB, more than one 4 MiB piece (for the kill-mid-write test). */
export const BIG_SIMCLR: CheckpointCase = imageCase('SimCLR', [32, 32, 1], (s) =>
  withEncoder(mlpEncoder({ inputShape: [32, 32, 1], units: [400], seed: s }), (e) => new SimCLR(e, { projectionDim: 8, hiddenDim: 16, seed: s })),
);

/** Steps `from … to − 1` of `run`, returning the losses. */
export function stepRange(run: CaseRun, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(run.step(i));
  return out;
}

/**
 * A fingerprint of a task's whole state: every tensor's bytes (hex of a
 * CRC-32 per tensor, with its name, dtype and shape) and the JSON pieces,
 * the optimizer slots' cosmetic names removed (they embed process-local
 * variable names).
 */
export function stateFingerprint(task: BasePretextTask): { tensors: Record<string, string>; pieces: string } {
  const state = task.getState();
  try {
    const tensors: Record<string, string> = {};
    for (const [name, t] of Object.entries(state.tensors)) {
      const data = t.dataSync() as Float32Array | Int32Array | Uint8Array;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let h = 0x811c9dc5;
      for (let k = 0; k < bytes.length; k++) h = Math.imul(h ^ bytes[k]!, 16777619) >>> 0;
      tensors[name] = `${t.dtype}[${t.shape.join(',')}]:${h.toString(16)}`;
    }
    const pieces = JSON.stringify(state.pieces, (key, value: unknown) => (key === 'name' && typeof value === 'string' ? undefined : value));
    return { tensors, pieces };
  } finally {
    tf.dispose(Object.values(state.tensors));
  }
}
