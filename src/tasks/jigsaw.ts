import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { siameseHead } from '../heads/siamese-head.js';
import { trainableVariables } from '../train/variables.js';
import { assertEncoder, assertImageBatch, checkTrainingOptions, resolveImageShape, checkTaskOptions } from './internal/common.js';
import { jigsawBatch, jigsawPermutations } from '../masking/jigsaw.js';
import { cropEncoder, crossEntropy, type CropEncoder } from './internal/classify.js';
import { BasePretextTask, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** Options of {@link Jigsaw}. */
export interface JigsawOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * Tiles per side: the puzzle has grid² tiles (2 or 3).
   * @default 3 (Noroozi & Favaro)
   */
  grid?: 2 | 3;
  /**
   * Side of each tile, cut at a random position inside its cell (the rest
   * of the cell is the gap that hides edge continuity).
   * @default ⌊cell · 64/75⌋ (the paper's 64-pixel tiles in 75-pixel cells)
   */
  tileSize?: number;
  /**
   * Size of the permutation set (the number of classes).
   * @default 100 (the paper reports 100 to 1000; 1000 is its default)
   */
  numPermutations?: number;
  /**
   * Your own permutation set (each a permutation of `0 … grid² − 1`; replaces `numPermutations`).
   * @default jigsawPermutations(numPermutations, { tiles: grid² }) from selfsup/masking: greedy maximal minimum Hamming distance
   */
  permutations?: readonly (readonly number[])[];
  /**
   * Standardise every tile on its own (mean 0, variance 1), as the paper
   * does so the network cannot match tiles by their low-level statistics.
   * @default true
   */
  normalizeTiles?: boolean;
  /**
   * The classifier `[B, grid², F]` → `[B, numPermutations]`; not disposed by the task.
   * @default siameseHead({ branchDim: 64, hiddenDims: [256] }) (fc6 per tile, fc7, fc8), owned by the task
   */
  head?: tfl.LayersModel;
  /**
   * Adam's learning rate when no optimizer is given.
   * @default 1e-3
   */
  learningRate?: number;
}

/**
 * Solving jigsaw puzzles (Noroozi & Favaro, "Unsupervised Learning of Visual
 * Representations by Solving Jigsaw Puzzles", ECCV 2016): a random square
 * region of each image is cut into a grid of tiles, the tiles are shuffled
 * by one permutation from a fixed set, each tile goes through the same
 * encoder (a siamese "context-free network": tiles do not see each other
 * until the head), and the head classifies which permutation was applied.
 * Recognising the arrangement needs the parts of objects and their typical
 * layout.
 *
 * Follows the paper: the permutation set is chosen greedily for a large
 * Hamming distance between its members (selfsup/masking's
 * `jigsawPermutations`, whose default maximises the minimum distance; its
 * `'maxAverageHamming'` selection is the paper's Algorithm 1, which
 * maximises the average — pass either set as `permutations`); each tile is
 * cut at a random offset inside its cell (so neighbouring tiles do not share
 * edges) and standardised on its own (`jigsawBatch`); the head applies a
 * shared per-tile layer (fc6), concatenates the tiles in their shuffled
 * order, and classifies (fc7, fc8). Scaled for small images: 3×3 cells of
 * ⌊min(H, W)/3⌋ pixels (9 for 28×28 images) with 7-pixel tiles, 100
 * permutations. A conv encoder encodes a tile with its convolutions and a
 * global average pool over the tile (so encoders that pool to a fixed grid
 * work too); the encoder is trained on tiles and transferred to whole images
 * (`embed`), as in the paper.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, Jigsaw } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [12, 12, 1], channels: [4, 8], seed: 0 });
 * const task = new Jigsaw(encoder, { grid: 2, numPermutations: 10, seed: 1 });
 * const images = tf.randomUniform([4, 12, 12, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images), task.permutations[0]);
 * task.dispose();
 * ```
 */
export class Jigsaw extends BasePretextTask {
  readonly name = 'Jigsaw';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** Tiles per side. */
  readonly grid: number;
  /** Side of a grid cell. */
  readonly cellSize: number;
  /** Side of a tile. */
  readonly tileSize: number;
  /** The permutation set: entry p lists, for each position, the tile placed there. */
  readonly permutations: readonly (readonly number[])[];
  /** Whether tiles are standardised. */
  readonly normalizeTiles: boolean;
  /** The permutation classifier. */
  readonly head: tfl.LayersModel;
  private readonly tiles: CropEncoder;
  private readonly ownsHead: boolean;
  private readonly rng: Rng;

  constructor(encoder: ImageEncoder, options: JigsawOptions = {}) {
    const fn = 'Jigsaw';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      ['imageShape', 'grid', 'tileSize', 'numPermutations', 'permutations', 'normalizeTiles', 'head', 'learningRate', 'optimizer', 'seed', 'onNonFinite'],
      fn,
    );
    checkTaskOptions(options, fn, ['head']);
    const learningRate = checkTrainingOptions(options, fn, 1e-3);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    const { grid = 3, numPermutations = 100, normalizeTiles = true } = options;
    assertOneOf(grid, [2, 3] as const, fn, 'options.grid');
    const tiles = grid * grid;
    const maxPermutations = tiles === 4 ? 24 : 362880;
    if (options.permutations === undefined) assertInteger(numPermutations, fn, 'options.numPermutations', { min: 2, max: maxPermutations });
    assertOneOf(normalizeTiles, [true, false], fn, 'options.normalizeTiles');
    const cellSize = Math.floor(Math.min(imageShape[0], imageShape[1]) / grid);
    if (cellSize < 2) {
      throw new ValueRangeError(fn, 'options.grid', `leave cells of at least 2 pixels in ${imageShape[0]}×${imageShape[1]} images`, String(grid));
    }
    const { tileSize = Math.max(1, Math.floor((cellSize * 64) / 75)) } = options;
    assertInteger(tileSize, fn, 'options.tileSize', { min: 1, max: cellSize });
    if (options.permutations !== undefined) {
      const ok =
        Array.isArray(options.permutations) &&
        options.permutations.length >= 2 &&
        options.permutations.every((p) => Array.isArray(p) && p.length === tiles && [...p].sort((a, b) => a - b).every((v, j) => v === j));
      if (!ok) {
        throw new ValueRangeError(fn, 'options.permutations', `be at least 2 permutations of 0..${tiles - 1}`, describeValue(options.permutations));
      }
    }
    const tileEncoder = cropEncoder(encoder, tileSize, imageShape[2], fn, 'tiles');
    super(encoder, options.optimizer, learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    this.tiles = tileEncoder;
    this.imageShape = imageShape;
    this.grid = grid;
    this.cellSize = cellSize;
    this.tileSize = tileSize;
    this.normalizeTiles = normalizeTiles;
    this.permutations = options.permutations?.map((p) => [...p]) ?? jigsawPermutations(numPermutations, { tiles, seed: this.rng });
    this.ownsHead = options.head === undefined;
    this.head =
      options.head ??
      siameseHead({
        branches: tiles,
        inputDim: tileEncoder.featureDim,
        branchDim: 64,
        hiddenDims: [256],
        numClasses: this.permutations.length,
        seed: this.rng.nextUint32(),
      });
  }

  /** The variables one step updates: the encoder's, then the head's. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.head)];
  }

  /**
   * A fresh puzzle per image (from the task's seed; `jigsawBatch`): `tiles`
   * `[B·grid², t, t, C]` (image by image, in shuffled order: position p of
   * image i holds tile `permutations[label_i][p]`; standardised with
   * `normalizeTiles`) and the permutation index of each image, int32 `[B]`.
   */
  puzzle(images: tf.Tensor4D): { tiles: tf.Tensor4D; labels: tf.Tensor1D } {
    assertImageBatch(images, this.imageShape, 'Jigsaw.puzzle');
    return this.puzzleOf(images);
  }

  /** The training loss on `images` (a differentiable scalar; fresh puzzles). */
  loss(images: tf.Tensor4D): tf.Scalar {
    assertImageBatch(images, this.imageShape, 'Jigsaw.loss');
    return this.lossOf(images);
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    return this.minimize(() => this.lossOf(images), this.trainableVariables);
  }

  /** Checkpoints also carry the permutation set (drawn at construction: an unseeded task draws another one). */
  protected override stateFields(): string[] {
    return [...super.stateFields(), 'permutations'];
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    if (this.ownsHead) this.head.dispose();
  }

  private puzzleOf(images: tf.Tensor4D): { tiles: tf.Tensor4D; labels: tf.Tensor1D } {
    const { tiles, labels } = jigsawBatch(images, this.permutations, {
      grid: this.grid,
      tileSize: this.tileSize,
      normalizeTiles: this.normalizeTiles,
      seed: this.rng,
    });
    const flat = tf.reshape(tiles, [-1, this.tileSize, this.tileSize, images.shape[3]]) as tf.Tensor4D;
    tiles.dispose();
    return { tiles: flat, labels };
  }

  private lossOf(images: tf.Tensor4D): tf.Scalar {
    return tf.tidy(() => {
      const { tiles, labels } = this.puzzleOf(images);
      const features = this.tiles.encode(tiles, true);
      const stacked = tf.reshape(features, [images.shape[0], this.grid * this.grid, -1]);
      return crossEntropy(this.head.apply(stacked, { training: true }) as tf.Tensor2D, labels);
    });
  }
}
