/**
 * The contract between `npm run bench:learn` (bench/learn.ts, the runner) and
 * the method registries that plug into it: bench/learn/joint-embedding.ts
 * (SimCLR, MoCo v2, BYOL, … — issue 6) and bench/learn/pretext-tasks.ts
 * (autoencoders, MAE, inpainting, colorization, split-brain, rotation, jigsaw,
 * context prediction, DeepCluster, exemplar — issue 7).
 *
 * The runner pretrains each entry's task on the same fixed Fashion-MNIST
 * training subset (no labels), then embeds the labeled probe set and the
 * official test split with `task.embed` and reports linear-probe and kNN
 * accuracy next to the `raw-pixels` and `random-init` baselines.
 */
import type { PretextTask } from 'selfsup/tasks';
import type { ImageEncoder } from 'selfsup/tasks';

/** What the runner hands an entry when it builds its task. */
export interface LearnContext {
  /** The run's seed (entries derive every random choice from it). */
  seed: number;
  /** NHWC shape of one image, `[28, 28, 1]` for Fashion-MNIST. */
  imageShape: readonly [number, number, number];
  /**
   * A fresh copy of the benchmark's reference encoder (the same architecture
   * and, for a given seed, the same initial weights as the `random-init`
   * baseline). Entries that need another encoder (MAE's ViT) build their own
   * and say so in `notes`.
   */
  makeEncoder(seed?: number): ImageEncoder;
  /** True for the `--quick` run inside `npm test`. */
  quick: boolean;
}

/**
 * A random-init baseline for entries that train their own encoder (a ViT):
 * the runner evaluates `makeEncoder` untrained once, as a row named `name`,
 * and judges those entries against it.
 */
export interface LearnBaseline {
  /** Row name, e.g. `'random-init-vit'`. */
  name: string;
  /** The untrained encoder, with the weights the entries' encoder starts from. */
  makeEncoder(context: LearnContext): ImageEncoder;
  /** What the encoder is, for the table. */
  notes: string;
  /**
   * The features the row and the entries judged against it are evaluated on,
   * when they are not the encoder's own output (`embedImages(encoder)`), e.g.
   * DINOv2's class token concatenated with the mean patch token: an encoder
   * view over the encoder (of the baseline untrained, of the entry's task
   * trained). One function for both, so method and baseline are read alike.
   * @default the encoder's own output, and `task.embed` for the entries
   */
  features?(encoder: ImageEncoder): ImageEncoder;
}

/** One row of the learning benchmark. */
export interface LearnEntry {
  /** Row name in the table, e.g. `'simclr'`. */
  name: string;
  /** The family the method belongs to (the docs group the table by it). */
  family: 'joint-embedding' | 'generative' | 'discriminative';
  /** Builds the task (with its encoder, heads, augmentations, optimizer). */
  build(context: LearnContext): PretextTask;
  /** Pretraining steps in the full run and in `--quick`. */
  steps: number;
  quickSteps: number;
  /** Images per step (before the method's own view multiplication). */
  batchSize: number;
  /** The hyperparameters that matter, reported in the table and the docs. */
  hyperparameters: Record<string, number | string | boolean>;
  /** Deviations from the paper and why (small images, short schedules, …). */
  notes?: string;
  /**
   * The random-init baseline of an entry that builds its own encoder; it is
   * judged against that row (probe and kNN) instead of `random-init`.
   * @default the reference conv encoder's `random-init`
   */
  baseline?: LearnBaseline;
}
