/**
 * The methods and pretext tasks `selfsup pretrain --method NAME` knows: each
 * name maps to a constructor of selfsup/tasks with settings that train on a
 * small CPU budget (hundreds of steps on a few hundred images). The command
 * line sits above the tasks: nothing here is part of the library's API.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder } from '../heads/conv-encoder.js';
import { tinyVit } from '../heads/vit.js';
import {
  BarlowTwins,
  BYOL,
  Colorization,
  ContextEncoder,
  ContextPrediction,
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
  VICReg,
  VICRegL,
  type BasePretextTask,
  type ImageEncoder,
} from '../tasks/index.js';
import { labChannels, lightnessInput } from '../tasks/internal/lab.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { VisionTransformer } from '../heads/vit.js';

/** Encoder architectures of the command. */
export type EncoderKind = 'conv' | 'vit';

/** How images are fed to the saved encoder: as they are (RGB or gray), or as CIE L (colorization, split-brain). */
export type EncoderInput = 'image' | 'lab-lightness';

/** What a method builder receives. */
export interface BuildContext {
  /** `[size, size, channels]` of the training images. */
  imageShape: [number, number, number];
  /** The encoder kind asked for. */
  encoder: EncoderKind;
  /** Seed of the run (the encoder gets `seed`, the task `seed + 1`). */
  seed: number;
  /** Total steps of the run (schedules). */
  steps: number;
}

/** A method ready to train: the task, the encoder the command saves, and what else to free. */
export interface BuiltMethod {
  task: BasePretextTask;
  /** The encoder saved as OUT/encoder (for split-brain: the L half). */
  encoder: SavedEncoder;
  /** Models the task does not dispose. */
  owned: { dispose(): unknown }[];
}

export type SavedEncoder = tfl.LayersModel | VisionTransformer;

/** One entry of the registry. */
export interface MethodSpec {
  /** The name on the command line. */
  name: string;
  /** The selfsup/tasks class. */
  className: string;
  family: 'joint-embedding' | 'generative' | 'discriminative';
  /** One line for --help. */
  summary: string;
  /** Default images per step. */
  batch: number;
  /** Encoder passes per image and step (views), for the memory check. */
  views: number;
  /** Input channels of the saved encoder (1: it reads lightness). */
  encoderChannels?: 1;
  /** How the saved encoder's input is made from RGB images. */
  input: EncoderInput;
  /** Encoders it supports, the default first (conv only for methods that need a convolutional feature map, vit only for those that read tokens). */
  encoders: readonly EncoderKind[];
  build(ctx: BuildContext): BuiltMethod;
}

/**
 * The command's encoder: a conv net with three stride-2 convolutions (32, 64,
 * 128 channels, batch norm, global average pooling: 128 features) or a tiny
 * ViT (patches of size/8, width 64, depth 2).
 */
export function makeEncoder(kind: EncoderKind, shape: readonly [number, number, number], seed: number): SavedEncoder {
  if (kind === 'vit') {
    return tinyVit({ imageSize: shape[0], channels: shape[2], patchSize: shape[0] / 8, dim: 64, depth: 2, heads: 4, seed });
  }
  return convEncoder({ inputShape: [...shape], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed });
}

/** Preprocessing of the saved encoder's input. */
export function encoderInput(input: EncoderInput, images: tf.Tensor4D): tf.Tensor4D {
  if (input === 'image') return images;
  return tf.tidy(() => lightnessInput(labChannels(images).l));
}

const adam = (lr: number) => ({ learningRate: lr });

function single(
  name: string,
  className: string,
  family: MethodSpec['family'],
  summary: string,
  batch: number,
  views: number,
  make: (encoder: ImageEncoder, ctx: BuildContext) => BasePretextTask,
  extra: Partial<Pick<MethodSpec, 'encoders' | 'encoderChannels' | 'input'>> = {},
): MethodSpec {
  const spec: MethodSpec = {
    name,
    className,
    family,
    summary,
    batch,
    views,
    input: extra.input ?? 'image',
    encoders: extra.encoders ?? ['conv', 'vit'],
    build(ctx) {
      const channels = extra.encoderChannels ?? ctx.imageShape[2];
      const encoder = makeEncoder(ctx.encoder, [ctx.imageShape[0], ctx.imageShape[1], channels], ctx.seed);
      try {
        return { task: make(encoder as ImageEncoder, ctx), encoder, owned: [encoder] };
      } catch (e) {
        encoder.dispose();
        throw e;
      }
    },
  };
  if (extra.encoderChannels !== undefined) spec.encoderChannels = extra.encoderChannels;
  return spec;
}

const JE = 'joint-embedding' as const;
const GEN = 'generative' as const;
const DISC = 'discriminative' as const;
const LR = 2e-3;
const CONV = { encoders: ['conv'] as const };
const VIT = { encoders: ['vit'] as const };

/** Every method and pretext task of selfsup/tasks that trains on a folder of images. */
export const METHODS: readonly MethodSpec[] = [
  single('simclr', 'SimCLR', JE, 'contrastive, two views, NT-Xent (Chen et al. 2020)', 64, 2, (e, c) =>
    new SimCLR(e, { ...adam(LR), temperature: 0.2, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('moco', 'MoCoV2', JE, 'contrastive with a momentum encoder and a queue (He et al. 2020)', 64, 2, (e, c) =>
    new MoCoV2(e, { ...adam(LR), temperature: 0.2, momentum: 0.99, queueSize: 1024, hiddenDim: 256, projectionDim: 64, projectorBatchNorm: true, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('byol', 'BYOL', JE, 'predictor + momentum target, no negatives (Grill et al. 2020)', 64, 2, (e, c) =>
    new BYOL(e, { ...adam(LR), momentum: 0.99, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('simsiam', 'SimSiam', JE, 'predictor + stop-gradient (Chen & He 2021)', 64, 2, (e, c) =>
    new SimSiam(e, { ...adam(LR), projectionDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('barlow-twins', 'BarlowTwins', JE, 'cross-correlation to the identity (Zbontar et al. 2021)', 64, 2, (e, c) =>
    new BarlowTwins(e, { ...adam(LR), projectionDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('vicreg', 'VICReg', JE, 'variance-invariance-covariance (Bardes et al. 2022)', 64, 2, (e, c) =>
    new VICReg(e, { ...adam(LR), projectionDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('dino', 'DINO', JE, 'self-distillation with a centred teacher (Caron et al. 2021); two global crops', 64, 2, (e, c) =>
    new DINO(e, { ...adam(LR), localCrops: 0, outputDim: 256, hiddenDim: 256, bottleneckDim: 64, headBatchNorm: true, momentum: 0.9, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('swav', 'SwAV', JE, 'swapped prototype assignments, Sinkhorn (Caron et al. 2020)', 64, 2, (e, c) =>
    new SwAV(e, { ...adam(LR), numPrototypes: 64, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('nnclr', 'NNCLR', JE, 'nearest neighbours from a support set as positives (Dwibedi et al. 2021)', 64, 2, (e, c) =>
    new NNCLR(e, { ...adam(LR), temperature: 0.2, supportSetSize: 1024, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('dcl', 'DCL', JE, 'decoupled contrastive loss (Yeh et al. 2022)', 64, 2, (e, c) =>
    new DCL(e, { ...adam(LR), temperature: 0.2, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('dclw', 'DCL', JE, 'DCL with von Mises-Fisher weighting (DCLW)', 64, 2, (e, c) =>
    new DCL(e, { ...adam(LR), weighted: true, sigma: 0.5, temperature: 0.2, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('mmcr', 'MMCR', JE, 'maximum manifold capacity, four views (Yerxa et al. 2023)', 32, 4, (e, c) =>
    new MMCR(e, { ...adam(LR), numViews: 4, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('tico', 'TiCo', JE, 'transformation invariance + covariance contrast (Zhu et al. 2022)', 64, 2, (e, c) =>
    new TiCo(e, { ...adam(LR), momentum: 0.99, hiddenDim: 256, projectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('fast-siam', 'FastSiam', JE, 'SimSiam with four views (Pototzky et al. 2022)', 32, 4, (e, c) =>
    new FastSiam(e, { ...adam(LR), numViews: 4, projectionDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('vicregl', 'VICRegL', JE, 'VICReg on the image and on matched feature-map cells (Bardes et al. 2022)', 64, 2, (e, c) =>
    new VICRegL(e, { ...adam(LR), projectionDim: 256, localProjectionDim: 64, totalSteps: c.steps, seed: c.seed + 1 }),
    CONV,
  ),
  single('dinov2', 'DINOv2', JE, 'DINO + iBOT masked-token loss + KoLeo (Oquab et al. 2024); two global crops', 64, 2, (e, c) =>
    new DINOv2(e as unknown as VisionTransformer, { learningRate: 1e-3, localCrops: 0, outputDim: 256, hiddenDim: 256, bottleneckDim: 64, headBatchNorm: true, momentum: 0.9, totalSteps: c.steps, seed: c.seed + 1 }),
    VIT,
  ),
  single('ijepa', 'IJEPA', JE, 'predict the embeddings of masked blocks from a context block (Assran et al. 2023)', 64, 1, (e, c) =>
    new IJEPA(e as unknown as VisionTransformer, { learningRate: 3e-4, totalSteps: c.steps, seed: c.seed + 1 }),
    VIT,
  ),
  single('msn', 'MSN', JE, 'masked siamese networks: prototypes of masked and full views (Assran et al. 2022)', 64, 2, (e, c) =>
    new MSN(e, { ...adam(LR), maskRatio: 0.3, numPrototypes: 256, projectionDim: 128, hiddenDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('pmsn', 'PMSN', JE, 'MSN with a power-law prior on the prototypes (Assran et al. 2023)', 64, 2, (e, c) =>
    new PMSN(e, { ...adam(LR), maskRatio: 0.3, numPrototypes: 256, projectionDim: 128, hiddenDim: 256, totalSteps: c.steps, seed: c.seed + 1 }),
  ),
  single('sparse-autoencoder', 'SparseAutoencoder', GEN, 'reconstruction with an L1 sparsity penalty', 64, 1, (e, c) =>
    new SparseAutoencoder(e, { sparsity: 'l1', sparsityWeight: 0.01, learningRate: LR, seed: c.seed + 1 }),
    CONV,
  ),
  single('denoising-autoencoder', 'DenoisingAutoencoder', GEN, 'reconstruction from corrupted images (Vincent et al. 2008)', 64, 1, (e, c) =>
    new DenoisingAutoencoder(e, { dropProbability: 0.25, learningRate: LR, seed: c.seed + 1 }),
    CONV,
  ),
  single('mae', 'MaskedAutoencoder', GEN, 'masked autoencoder, 75 % of the patches hidden (He et al. 2022)', 64, 1, (e, c) =>
    new MaskedAutoencoder(e, { maskRatio: 0.75, normPixLoss: true, learningRate: LR, seed: c.seed + 1 }),
  ),
  single('simmim', 'SimMIM', GEN, 'masked image modelling with a linear decoder (Xie et al. 2022)', 64, 1, (e, c) =>
    new SimMIM(e, { maskRatio: 0.6, maskPatchSize: c.encoder === 'vit' ? Math.max(8, c.imageShape[0] / 8) : 8, learningRate: LR, seed: c.seed + 1 }),
  ),
  single('context-encoder', 'ContextEncoder', GEN, 'inpainting with an adversarial term (Pathak et al. 2016)', 64, 1, (e, c) =>
    new ContextEncoder(e, { mask: 'random-rectangle', learningRate: 1e-3, seed: c.seed + 1 }),
    CONV,
  ),
  single('colorization', 'Colorization', GEN, 'predict colour (ab bins) from lightness (Zhang et al. 2016); saves the L encoder', 64, 1, (e, c) =>
    new Colorization(e, { learningRate: 1e-3, seed: c.seed + 1 }),
    { ...CONV, encoderChannels: 1, input: 'lab-lightness' },
  ),
  {
    name: 'split-brain',
    className: 'SplitBrainAutoencoder',
    family: GEN,
    summary: 'two halves predict L from ab and ab from L (Zhang et al. 2017); saves the L half',
    batch: 64,
    views: 2,
    encoderChannels: 1,
    input: 'lab-lightness',
    encoders: ['conv'],
    build(ctx) {
      const [h, w] = ctx.imageShape;
      const l = makeEncoder('conv', [h, w, 1], ctx.seed) as tfl.LayersModel;
      const ab = makeEncoder('conv', [h, w, 2], ctx.seed + 2) as tfl.LayersModel;
      try {
        return { task: new SplitBrainAutoencoder(l, ab, { learningRate: 1e-3, seed: ctx.seed + 1 }), encoder: l, owned: [l, ab] };
      } catch (e) {
        l.dispose();
        ab.dispose();
        throw e;
      }
    },
  },
  single('rotation', 'RotationPrediction', DISC, 'predict which of 4 rotations was applied (Gidaris et al. 2018)', 32, 4, (e, c) =>
    new RotationPrediction(e, { learningRate: LR, seed: c.seed + 1 }),
  ),
  single('jigsaw', 'Jigsaw', DISC, 'solve 2×2 jigsaw puzzles (Noroozi & Favaro 2016)', 64, 1, (e, c) =>
    new Jigsaw(e, { grid: 2, numPermutations: 24, learningRate: 1e-3, seed: c.seed + 1 }),
    CONV,
  ),
  single('context-prediction', 'ContextPrediction', DISC, 'predict the relative position of two patches (Doersch et al. 2015)', 64, 2, (e, c) =>
    new ContextPrediction(e, { patchSize: Math.floor(c.imageShape[0] / 4), gap: 1, jitter: 1, learningRate: 1e-3, seed: c.seed + 1 }),
    CONV,
  ),
  single('deepcluster', 'DeepCluster', DISC, 'k-means pseudo-labels, re-clustered every 50 steps (Caron et al. 2018)', 64, 1, (e, c) =>
    new DeepCluster(e, { numClusters: 32, pcaDim: 32, memorySize: 1024, clusterEvery: 50, learningRate: 5e-4, headLearningRate: 1e-2, seed: c.seed + 1 }),
  ),
  single('exemplar-cnn', 'ExemplarCnn', DISC, 'classify augmented copies of exemplar images (Dosovitskiy et al. 2014)', 64, 1, (e, c) =>
    new ExemplarCnn(e, { numExemplars: 256, variant: 'parametric', learningRate: LR, seed: c.seed + 1 }),
  ),
];

/** Tasks of selfsup/tasks the command cannot train from a folder of images alone, and why. */
export const NOT_FROM_A_FOLDER: Readonly<Record<string, string>> = {
  clip: 'Clip trains on image-text pairs; a folder of images has no text',
  'cross-modal-correspondence': 'CrossModalCorrespondence trains on image-signal pairs (e.g. audio); a folder of images has none',
};

/** The registry entry named `name`, or undefined. */
export function findMethod(name: string): MethodSpec | undefined {
  return METHODS.find((m) => m.name === name);
}
