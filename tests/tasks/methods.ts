/** Tiny configurations of every joint-embedding method, shared by the method tests. */
import type * as tf from '@tensorflow/tfjs-core';
import {
  BarlowTwins,
  BYOL,
  DCL,
  DINO,
  FastSiam,
  MMCR,
  TiCo,
  MoCoV2,
  MSN,
  NNCLR,
  PMSN,
  SimCLR,
  SimSiam,
  SwAV,
  VICReg,
  mlpEncoder,
  type ImageEncoder,
  type JointEmbeddingTask,
} from 'selfsup';

export interface MethodCase {
  name: string;
  make(encoder: ImageEncoder, extra?: Record<string, unknown>): JointEmbeddingTask;
}

/** An 8×8×1 → 16 MLP encoder. */
export function tinyEncoder(seed = 0) {
  return mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed });
}

export const METHODS: MethodCase[] = [
  { name: 'SimCLR', make: (e, x = {}) => new SimCLR(e, { projectionDim: 8, seed: 1, ...x }) },
  { name: 'MoCoV2', make: (e, x = {}) => new MoCoV2(e, { projectionDim: 8, queueSize: 32, seed: 1, ...x }) },
  { name: 'BYOL', make: (e, x = {}) => new BYOL(e, { projectionDim: 8, hiddenDim: 16, totalSteps: 50, seed: 1, ...x }) },
  { name: 'SimSiam', make: (e, x = {}) => new SimSiam(e, { seed: 1, ...x }) },
  { name: 'BarlowTwins', make: (e, x = {}) => new BarlowTwins(e, { projectionDim: 16, seed: 1, ...x }) },
  { name: 'VICReg', make: (e, x = {}) => new VICReg(e, { projectionDim: 16, seed: 1, ...x }) },
  {
    name: 'DINO',
    make: (e, x = {}) =>
      new DINO(e, {
        crops: { global: { count: 2, size: 8, scale: [0.4, 1] }, local: { count: 2, size: 8, scale: [0.1, 0.4] } },
        outputDim: 16,
        hiddenDim: 16,
        bottleneckDim: 8,
        totalSteps: 50,
        seed: 1,
        ...x,
      }),
  },
  { name: 'SwAV', make: (e, x = {}) => new SwAV(e, { numPrototypes: 8, projectionDim: 8, queueSize: 16, seed: 1, ...x }) },
  { name: 'NNCLR', make: (e, x = {}) => new NNCLR(e, { projectionDim: 8, hiddenDim: 16, supportSetSize: 32, seed: 1, ...x }) },
  { name: 'DCL', make: (e, x = {}) => new DCL(e, { projectionDim: 8, weighted: true, seed: 1, ...x }) },
  { name: 'MMCR', make: (e, x = {}) => new MMCR(e, { numViews: 3, projectionDim: 8, lambda: 0.01, seed: 1, ...x }) },
  { name: 'TiCo', make: (e, x = {}) => new TiCo(e, { projectionDim: 8, hiddenDim: 16, totalSteps: 50, seed: 1, ...x }) },
  { name: 'FastSiam', make: (e, x = {}) => new FastSiam(e, { numViews: 3, seed: 1, ...x }) },
  // On this MLP encoder MSN masks 4×4 pixel patches (no ViT to drop tokens from).
  { name: 'MSN', make: (e, x = {}) => new MSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, totalSteps: 50, seed: 1, ...x }) },
  { name: 'PMSN', make: (e, x = {}) => new PMSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, seed: 1, ...x }) },
];

/** Disposes a task and its encoder. */
export function disposeTask(task: { dispose(): void; encoder: unknown }): void {
  task.dispose();
  (task.encoder as { dispose(): void }).dispose();
}

/** Every weight of a model as plain arrays. */
export function weightsOf(model: unknown): number[][] {
  return (model as { getWeights(): tf.Tensor[] }).getWeights().map((w) => Array.from(w.dataSync()));
}
