/**
 * The generative and classic discriminative pretext tasks of the learning
 * benchmark (issue 7), in the contract of bench/learn/entry.ts.
 *
 * Budget: the whole `npm run bench:learn` must finish in 30 minutes on 2
 * cores; these entries take about 12 of them, training and embedding the
 * probe and test sets included, so each task gets well under a minute of
 * pretraining. Every entry trains the benchmark's reference conv encoder
 * (`context.makeEncoder()`), the same network the `random-init` baseline
 * evaluates with random weights — MAE too (on the cells of its feature map).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Colorization,
  ContextEncoder,
  ContextPrediction,
  convEncoder,
  createRng,
  DeepCluster,
  DenoisingAutoencoder,
  ExemplarCnn,
  Jigsaw,
  loadPhotos,
  MaskedAutoencoder,
  RotationPrediction,
  SimMIM,
  SparseAutoencoder,
  SplitBrainAutoencoder,
  type EmbedOptions,
  type ImageEncoder,
  type PretextTask,
  type Rng,
} from 'selfsup';
import type { LearnContext, LearnEntry } from './entry.js';

/**
 * Random crops of the four vendored colour photographs (scikit-image's
 * astronaut, chelsea, coffee, rocket), resized to the benchmark's image size,
 * randomly flipped: the only colour images available offline. Colorization
 * and split-brain need colour; Fashion-MNIST has none (ab = 0 everywhere).
 */
class PhotoCrops {
  private readonly photos: tf.Tensor4D;
  private readonly rng: Rng;

  constructor(seed: number) {
    this.photos = loadPhotos({ size: 128 }).images;
    this.rng = createRng(seed);
  }

  sample(batch: number, size: number): tf.Tensor4D {
    const boxes = new Float32Array(batch * 4);
    const index = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      const side = this.rng.uniform(24, 96) / 127;
      const y = this.rng.uniform(0, 1 - side);
      const x = this.rng.uniform(0, 1 - side);
      const flip = this.rng.bernoulli(0.5);
      boxes.set(flip ? [y, x + side, y + side, x] : [y, x, y + side, x + side], i * 4);
      index[i] = this.rng.int(0, 4);
    }
    return tf.tidy(() =>
      tf.clipByValue(
        tf.image.cropAndResize(this.photos, tf.tensor2d(boxes, [batch, 4]), tf.tensor1d(index, 'int32'), [size, size]),
        0,
        1,
      ),
    ) as tf.Tensor4D;
  }

  dispose(): void {
    this.photos.dispose();
  }
}

/**
 * Trains a colour task on photo crops whatever batch the runner passes (its
 * Fashion-MNIST batch only sets the batch size), and embeds the runner's
 * grayscale images as the task does (L channel; ab = 0 for split-brain).
 */
class OnPhotoCrops implements PretextTask {
  readonly name: string;
  private readonly crops: PhotoCrops;

  constructor(
    private readonly task: PretextTask,
    seed: number,
  ) {
    this.name = `${task.name} (trained on photo crops)`;
    this.crops = new PhotoCrops(seed);
  }

  get encoder(): ImageEncoder {
    return this.task.encoder;
  }

  get steps(): number {
    return this.task.steps;
  }

  get skippedSteps(): number {
    return this.task.skippedSteps;
  }

  step(images: tf.Tensor4D): number {
    const [b, h] = images.shape;
    const batch = this.crops.sample(b, h);
    try {
      return this.task.step(batch);
    } finally {
      batch.dispose();
    }
  }

  async stepAsync(images: tf.Tensor4D): Promise<number> {
    const [b, h] = images.shape;
    const batch = this.crops.sample(b, h);
    try {
      return await this.task.stepAsync(batch);
    } finally {
      batch.dispose();
    }
  }

  embed(images: tf.Tensor4D, options?: EmbedOptions): tf.Tensor2D {
    return this.task.embed(images, options);
  }

  dispose(): void {
    this.task.dispose();
    this.crops.dispose();
  }
}

/** A task that also disposes models the entry built for it and the runner cannot reach through `task.encoder`. */
class Owning implements PretextTask {
  readonly name: string;

  constructor(
    private readonly task: PretextTask,
    private readonly owned: { dispose(): void }[],
  ) {
    this.name = task.name;
  }

  get encoder(): ImageEncoder {
    return this.task.encoder;
  }

  get steps(): number {
    return this.task.steps;
  }

  get skippedSteps(): number {
    return this.task.skippedSteps;
  }

  step(images: tf.Tensor4D): number {
    return this.task.step(images);
  }

  stepAsync(images: tf.Tensor4D): Promise<number> {
    return this.task.stepAsync(images);
  }

  embed(images: tf.Tensor4D, options?: EmbedOptions): tf.Tensor2D {
    return this.task.embed(images, options);
  }

  dispose(): void {
    this.task.dispose();
    for (const m of this.owned) m.dispose();
  }
}

const quickSteps = 3;
const COLOUR_NOTE =
  'Fashion-MNIST is grayscale (ab = 0), so this task pretrains on random crops of the four vendored colour photographs ' +
  '(resized to 28×28) and is evaluated on Fashion-MNIST: a transfer across domains, not like-for-like with the other rows.';

/** Generative and classic discriminative pretext tasks of the learning benchmark (issue 7). */
export const PRETEXT_TASK_ENTRIES: LearnEntry[] = [
  {
    name: 'sparse-autoencoder',
    family: 'generative',
    build: (c: LearnContext) => new SparseAutoencoder(c.makeEncoder(), { sparsity: 'l1', sparsityWeight: 0.01, learningRate: 2e-3, seed: c.seed }),
    steps: 100,
    quickSteps,
    batchSize: 128,
    hyperparameters: { sparsity: 'l1', sparsityWeight: 0.01, decoder: 'convDecoder [64, 32]', optimizer: 'adam', learningRate: 2e-3 },
  },
  {
    name: 'denoising-autoencoder',
    family: 'generative',
    build: (c) => new DenoisingAutoencoder(c.makeEncoder(), { dropProbability: 0.25, learningRate: 2e-3, seed: c.seed }),
    steps: 100,
    quickSteps,
    batchSize: 128,
    hyperparameters: { dropProbability: 0.25, decoder: 'convDecoder [64, 32]', optimizer: 'adam', learningRate: 2e-3 },
  },
  {
    name: 'mae',
    family: 'generative',
    // MAE on the reference conv encoder (issue 14): the patches are the cells of its 4×4 map.
    build: (c) => new MaskedAutoencoder(c.makeEncoder(), { maskRatio: 0.75, normPixLoss: true, learningRate: 3e-3, seed: c.seed }),
    // 300 steps at 1e-3: 83.13 % / 80.93 %; at 3e-3: 84.06 % / 81.41 % (probe / kNN).
    steps: 300,
    quickSteps,
    batchSize: 128,
    hyperparameters: {
      encoder: 'the reference conv encoder: 16 patches of 7×7 pixels = the cells of its 4×4 map',
      masking: '75 % of the patches blanked in the input (learned fill); the decoder sees the visible cells only',
      decoder: 'maeDecoder dim 32, depth 2, heads 4',
      maskRatio: 0.75,
      normPixLoss: true,
      optimizer: 'adam',
      learningRate: 3e-3,
    },
    notes:
      'MAE on the conv encoder (ConvNeXt V2-style, dense convolutions): the same network as random-init, like every other row. ' +
      'On a ViT (tinyVit, 7×7 patches) MAE stayed below this encoder at random init in every budget tried: 76.75 % / 75.65 % after 800 steps ' +
      '(width 64, mean pool; its own random init 74.2 % / 68.0 %), 79.97 % / 77.27 % with width 128 and a 2×2-grid readout (random init 80.36 % / 74.92 %).',
  },
  {
    name: 'simmim',
    family: 'generative',
    build: (c) => new SimMIM(c.makeEncoder(), { maskRatio: 0.6, maskPatchSize: 7, learningRate: 3e-3, seed: c.seed }),
    // 200 steps at 1e-3 left the probe at random-init level (81.92 %); 600 at 1e-3: 82.26 %; 300 at 3e-3: 83.51 %.
    steps: 300,
    quickSteps,
    batchSize: 128,
    hyperparameters: {
      encoder: 'the reference conv encoder (stride 7: 28 → 4×4 map)',
      masking: 'in the input, 7×7 patches, learned mask value',
      maskRatio: 0.6,
      decoder: 'linear 128 → 7·7 per map position (1×1 conv + pixel shuffle)',
      loss: 'L1 on masked pixels',
      optimizer: 'adam',
      learningRate: 3e-3,
    },
  },
  {
    name: 'context-encoder',
    family: 'generative',
    build: (c) =>
      new ContextEncoder(c.makeEncoder(), { mask: 'random-rectangle', learningRate: 1e-3, seed: c.seed }),
    steps: 80,
    quickSteps,
    batchSize: 128,
    hyperparameters: {
      mask: 'random-rectangle',
      holes: '1–3 rectangles, sides H/8–H/2',
      reconstructionWeight: 0.999,
      adversarialWeight: 0.001,
      discriminator: 'patchDiscriminator [32, 64]',
      optimizer: 'adam β1 0.5',
      learningRate: 1e-3,
    },
  },
  {
    name: 'colorization',
    family: 'generative',
    build: (c) => new OnPhotoCrops(new Colorization(c.makeEncoder(), { learningRate: 1e-3, seed: c.seed }), c.seed),
    steps: 250,
    quickSteps,
    batchSize: 64,
    hyperparameters: { bins: 313, lambda: 0.5, sigma: 5, prior: 'estimated over the first 20 batches', optimizer: 'adam', learningRate: 1e-3 },
    notes: COLOUR_NOTE,
  },
  {
    name: 'split-brain',
    family: 'generative',
    build: (c) => {
      // The L half is the reference encoder (so the row compares with random-init); the ab half a
      // conv encoder of the same kind on the two colour channels.
      const lHalf = c.makeEncoder();
      const abHalf = convEncoder({ inputShape: [28, 28, 2], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed: c.seed + 1 });
      const task = new SplitBrainAutoencoder(lHalf, abHalf, { learningRate: 1e-3, seed: c.seed });
      // task.encoder is the concatenating wrapper (nothing for the runner to dispose): the halves go with the task.
      return new Owning(new OnPhotoCrops(task, c.seed), [lHalf as unknown as { dispose(): void }, abHalf]);
    },
    steps: 200,
    quickSteps,
    batchSize: 64,
    hyperparameters: {
      lHalf: 'the reference encoder',
      abHalf: 'convEncoder 32/64/128, strides 2, batch norm, global pooling (2 input channels)',
      abBins: 313,
      lBins: 100,
      optimizer: 'adam',
      learningRate: 1e-3,
    },
    notes:
      `${COLOUR_NOTE} The L half is the reference encoder at full width (the paper halves every layer; here the row ` +
      'stays comparable with random-init); on grayscale test images the ab half sees ab = 0, so its features are constant ' +
      'and only the L half carries information.',
  },
  {
    name: 'rotation',
    family: 'discriminative',
    build: (c) => new RotationPrediction(c.makeEncoder(), { learningRate: 2e-3, seed: c.seed }),
    steps: 300,
    quickSteps,
    batchSize: 32,
    hyperparameters: { rotations: '0/90/180/270, all four per image (4×32 per step)', head: 'linear', optimizer: 'adam', learningRate: 2e-3 },
  },
  {
    name: 'jigsaw',
    family: 'discriminative',
    build: (c) => new Jigsaw(c.makeEncoder(), { grid: 3, numPermutations: 100, learningRate: 1e-3, seed: c.seed }),
    // A step is cheap (nine 7×7 tiles per image), but the puzzle is learned slowly: the
    // probe was below random-init after 300 steps (81.6 %), 82.5 % after 600, 83.6 % after 1,200.
    steps: 1200,
    quickSteps,
    batchSize: 64,
    hyperparameters: { grid: 3, tileSize: 7, numPermutations: 100, normalizeTiles: true, optimizer: 'adam', learningRate: 1e-3 },
  },
  {
    name: 'context-prediction',
    family: 'discriminative',
    build: (c) => new ContextPrediction(c.makeEncoder(), { patchSize: 7, gap: 2, jitter: 1, learningRate: 1e-3, seed: c.seed }),
    steps: 600,
    quickSteps,
    batchSize: 128,
    hyperparameters: { patchSize: 7, gap: 2, jitter: 1, optimizer: 'adam', learningRate: 1e-3 },
  },
  {
    name: 'deepcluster',
    family: 'discriminative',
    build: (c) =>
      new DeepCluster(c.makeEncoder(), {
        numClusters: 100,
        pcaDim: 32,
        memorySize: 2048,
        clusterEvery: 50,
        learningRate: 5e-4,
        headLearningRate: 1e-2,
        seed: c.seed,
      }),
    steps: 400,
    quickSteps,
    batchSize: 128,
    hyperparameters: {
      numClusters: 100,
      pcaDim: 32,
      memorySize: 2048,
      clusterEvery: 50,
      sampler: 'uniform over clusters',
      augment: 'resized crop 0.3–1, flip',
      optimizer: 'adam',
      learningRate: 5e-4,
      headLearningRate: 1e-2,
    },
    notes:
      'The re-initialised cluster head gets a 20× larger learning rate than the encoder, so it fits each round\'s clusters ' +
      'within the round while the encoder moves slowly (with one rate for both, the run stayed at random-init level). ' +
      'Even so the linear probe gains only a few tenths of a point over random-init in this budget (the kNN gains ~3.5).',
  },
  {
    name: 'exemplar-cnn',
    family: 'discriminative',
    build: (c) => new ExemplarCnn(c.makeEncoder(), { numExemplars: 512, variant: 'parametric', learningRate: 2e-3, seed: c.seed }),
    steps: 200,
    quickSteps,
    batchSize: 128,
    hyperparameters: {
      numExemplars: 512,
      variant: 'parametric',
      augment: 'resized crop 0.3–1, flip, brightness/contrast 0.4',
      optimizer: 'adam',
      learningRate: 2e-3,
    },
  },
];
