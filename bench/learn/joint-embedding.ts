import { BarlowTwins, BYOL, DINO, grayscaleAugment, MoCoV2, NNCLR, SimCLR, SimSiam, SwAV, VICReg } from 'selfsup';
import type { LearnContext, LearnEntry } from './entry.js';

/**
 * Joint-embedding methods of the learning benchmark (issue 6). Every method
 * trains the same reference encoder (bench/learn/protocol.ts) with Adam, the
 * same augmentation (`grayscaleAugment`: crop scale [0.3, 1], flip,
 * brightness/contrast 0.4) and the same batch size, for its step budget; the
 * hyperparameters listed are the ones that differ from the class defaults
 * or matter for the comparison.
 */
const BATCH = 256;
const STEPS = 150;
const QUICK_STEPS = 25;

const augment = () => grayscaleAugment({ cropScale: [0.3, 1] });

function common(ctx: LearnContext, steps: number) {
  return { augment: augment(), seed: ctx.seed + 1, totalSteps: ctx.quick ? QUICK_STEPS : steps };
}

export const JOINT_EMBEDDING_ENTRIES: LearnEntry[] = [
  {
    name: 'simclr',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { temperature: 0.1, projector: '512→256→64 (BN)', learningRate: 3e-3 },
    build: (ctx) =>
      new SimCLR(ctx.makeEncoder(), { ...common(ctx, STEPS), temperature: 0.1, hiddenDim: 256, projectionDim: 64, learningRate: 3e-3 }),
  },
  {
    name: 'moco-v2',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { temperature: 0.1, momentum: 0.99, queueSize: 4096, projector: '512→256→64', learningRate: 3e-3 },
    build: (ctx) =>
      new MoCoV2(ctx.makeEncoder(), {
        ...common(ctx, STEPS),
        temperature: 0.1,
        momentum: 0.99,
        queueSize: 4096,
        hiddenDim: 256,
        projectionDim: 64,
        learningRate: 3e-3,
      }),
  },
  {
    name: 'byol',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { momentum: '0.99→1 (cosine)', projector: '512→512→128 (BN)', predictor: '128→512→128', learningRate: 3e-3 },
    build: (ctx) => new BYOL(ctx.makeEncoder(), { ...common(ctx, STEPS), hiddenDim: 512, projectionDim: 128, learningRate: 3e-3 }),
  },
  {
    name: 'simsiam',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { projector: '512→512→512 (BN, output BN)', predictor: '512→128→512', learningRate: 3e-3 },
    build: (ctx) => new SimSiam(ctx.makeEncoder(), { ...common(ctx, STEPS), projectionDim: 512, learningRate: 3e-3 }),
  },
  {
    name: 'barlow-twins',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { lambda: 5e-3, projector: '512→1024→1024→1024 (BN)', learningRate: 3e-3 },
    build: (ctx) => new BarlowTwins(ctx.makeEncoder(), { ...common(ctx, STEPS), projectionDim: 1024, learningRate: 3e-3 }),
  },
  {
    name: 'vicreg',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { weights: '25/25/1', projector: '512→1024→1024→1024 (BN)', learningRate: 3e-3 },
    build: (ctx) => new VICReg(ctx.makeEncoder(), { ...common(ctx, STEPS), projectionDim: 1024, learningRate: 3e-3 }),
  },
  {
    name: 'dino',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: {
      outputDim: 1024,
      head: '512→512→512→128→1024',
      teacherTemperature: '0.04→0.07 (30 % warm-up)',
      momentum: '0.99→1 (cosine)',
      crops: '2 global [0.4, 1] + 2 local [0.1, 0.4] at 28 px',
      learningRate: 3e-3,
    },
    notes: 'local crops at full size: the 2×2-grid encoder has a fixed input size',
    build: (ctx) =>
      new DINO(ctx.makeEncoder(), {
        seed: ctx.seed + 1,
        totalSteps: ctx.quick ? QUICK_STEPS : STEPS,
        crops: {
          global: { count: 2, size: 28, scale: [0.4, 1], transforms: augmentPhotometric() },
          local: { count: 2, size: 28, scale: [0.1, 0.4], transforms: augmentPhotometric() },
        },
        outputDim: 1024,
        hiddenDim: 512,
        bottleneckDim: 128,
        learningRate: 3e-3,
      }),
  },
  {
    name: 'swav',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { numPrototypes: 100, temperature: 0.1, epsilon: 0.05, queue: 'off', projector: '512→256→64 (BN)', learningRate: 3e-3 },
    build: (ctx) =>
      new SwAV(ctx.makeEncoder(), { ...common(ctx, STEPS), numPrototypes: 100, hiddenDim: 256, projectionDim: 64, learningRate: 3e-3 }),
  },
  {
    name: 'nnclr',
    family: 'joint-embedding',
    steps: STEPS,
    quickSteps: QUICK_STEPS,
    batchSize: BATCH,
    hyperparameters: { temperature: 0.1, supportSetSize: 4096, projector: '512→512→128 (BN)', predictor: '128→512→128', learningRate: 3e-3 },
    build: (ctx) =>
      new NNCLR(ctx.makeEncoder(), {
        ...common(ctx, STEPS),
        supportSetSize: 4096,
        hiddenDim: 512,
        projectionDim: 128,
        learningRate: 3e-3,
      }),
  },
];

/** The photometric half of the benchmark augmentation (flip + brightness/contrast), for DINO's crops. */
function augmentPhotometric() {
  return grayscaleAugment({ crop: false });
}
