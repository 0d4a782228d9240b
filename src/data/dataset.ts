import type * as tf from '@tensorflow/tfjs-core';

/**
 * A batch from a {@link Dataset}: NHWC float32 images in [0, 1] and, when the
 * dataset is labeled, int32 labels. The tensors are yours: dispose them (or
 * call `dispose()`) when the step is done.
 */
export interface Batch {
  /** `[B, H, W, C]` float32 in [0, 1]. */
  images: tf.Tensor4D;
  /** `[B]` int32 class indices, or `null` for an unlabeled dataset. */
  labels: tf.Tensor1D | null;
  /** The dataset index of each image (`dataset.names[indices[i]]` is its file). */
  indices: Int32Array;
  /** The epoch this batch belongs to (0-based). */
  epoch: number;
  /** Its position within the epoch (0-based). */
  batch: number;
  /** Batches delivered before this one since the stream's first batch: `epoch · batchesPerEpoch + batch`. */
  step: number;
  /** Disposes `images` and `labels`. */
  dispose(): void;
}

/** Options of {@link Dataset.batches}. */
export interface BatchOptions {
  /**
   * Images per batch.
   * @default 32
   */
  batchSize?: number;
  /**
   * A new seeded random order every epoch; `false` keeps the dataset's order.
   * @default true
   */
  shuffle?: boolean;
  /**
   * Seed of the shuffling. Epoch e uses an order derived from `(seed, e)` alone,
   * so a stream restored at any position continues with the same batches.
   * @default undefined (a fresh random seed, recorded in `state()`)
   */
  seed?: number;
  /**
   * Drop the last, smaller batch of each epoch.
   * @default false
   */
  dropLast?: boolean;
  /**
   * Epochs to stream (`Infinity` for an endless stream; stop it with `break` or `return()`).
   * @default 1
   */
  epochs?: number;
  /**
   * Batches prepared ahead of the one being trained on (file datasets decode
   * them in the background; 0 decodes on demand). Prefetching never changes
   * which images a batch holds.
   * @default 2
   */
  prefetch?: number;
  /**
   * What happens to an image that fails to decode while streaming:
   * `'replace'` fills its slot with the next decodable image of the epoch's
   * order (batches keep their size; deterministic, since the same files fail
   * every time), `'skip'` leaves it out (the batch is smaller; for exporting
   * embeddings, where every row must be a distinct file). Each bad file is
   * reported once through the dataset's `onWarning`.
   * @default 'replace'
   */
  badImages?: 'replace' | 'skip';
}

/**
 * The position of a {@link BatchStream}, as plain JSON: save it with a
 * checkpoint and pass it to `restore` to continue with exactly the batches an
 * uninterrupted run would have seen.
 */
export interface BatchStreamState {
  /** Always `'selfsup.batch-stream'`. */
  kind: 'selfsup.batch-stream';
  /** Format version (1). */
  version: 1;
  /** The dataset's length when the state was taken (checked on restore). */
  length: number;
  /** The stream's batch size (checked on restore). */
  batchSize: number;
  /** Whether it shuffles (checked on restore). */
  shuffle: boolean;
  /** Whether it drops the last batch (checked on restore). */
  dropLast: boolean;
  /** The shuffling seed (adopted on restore). */
  seed: number;
  /** Epoch of the next batch. */
  epoch: number;
  /** Position within the epoch of the next batch. */
  batch: number;
}

/** Images loaded at once by {@link Dataset.load}. */
export interface LoadedImages {
  /** `[N, H, W, C]` float32 in [0, 1]. */
  images: tf.Tensor4D;
  /** `[N]` int32 labels, or `null` for an unlabeled dataset. */
  labels: tf.Tensor1D | null;
  /** The dataset index of each image (images that failed to decode are left out). */
  indices: Int32Array;
}

/**
 * A stream of batches (an async iterator) with a position that can be saved
 * and restored. Made by {@link Dataset.batches}.
 */
export interface BatchStream extends AsyncIterableIterator<Batch> {
  /** Images per batch. */
  readonly batchSize: number;
  /** Batches in each epoch. */
  readonly batchesPerEpoch: number;
  /** Epochs the stream runs for (may be `Infinity`). */
  readonly epochs: number;
  /** The shuffling seed in use. */
  readonly seed: number;
  /** The next batch, or `{ done: true }` after the last epoch. */
  next(): Promise<IteratorResult<Batch, undefined>>;
  /** Stops the stream (prefetched work is dropped); later `next()` calls return `done`. */
  return(): Promise<IteratorResult<Batch, undefined>>;
  /** The position of the next batch, as JSON-serialisable data. */
  state(): BatchStreamState;
  /**
   * Continues from a saved position: the next batch is the one that followed
   * when `state` was taken. The dataset length, batch size, `shuffle` and
   * `dropLast` must match; the seed is taken from the state.
   */
  restore(state: BatchStreamState): void;
}

/**
 * The interface every selfsup dataset shares, whether its images are files
 * in a folder ({@link imageFolder}), files or images in a browser
 * ({@link imageFiles}, {@link imageUrls}, {@link imageElements}) or tensors in
 * memory ({@link tensorDataset}): training code written against it takes any
 * of them.
 */
export interface Dataset {
  /** Number of images. */
  readonly length: number;
  /** `[H, W, C]` of every image the dataset produces. */
  readonly imageShape: readonly [number, number, number];
  /** int32 class index of each image, or `null` when unlabeled. */
  readonly labels: Int32Array | null;
  /** Class names, indexed by label (sorted folder names for a folder), or `null` when unlabeled. */
  readonly classNames: readonly string[] | null;
  /** A name for each image: its path relative to the folder, its file name or URL, or `#i` for tensors. */
  readonly names: readonly string[];
  /** A seeded stream of batches; see {@link BatchOptions}. */
  batches(options?: BatchOptions): BatchStream;
  /**
   * The images at `indices` (default: all, in order) as one tensor. Meant for
   * small sets and for evaluation subsets; stream large ones with `batches`.
   */
  load(indices?: ArrayLike<number>): Promise<LoadedImages>;
  /** Stops background work (decoding threads) and drops the cache. The dataset is unusable afterwards. */
  dispose(): void;
}
