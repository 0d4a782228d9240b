import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { SourceBatchStream, type BatchSource } from './batch-stream.js';
import type { BatchOptions, BatchStream, Dataset, LoadedImages } from './dataset.js';
import { resolveLabels } from './label-options.js';

/** Options of {@link tensorDataset}. */
export interface TensorDatasetOptions {
  /**
   * Class names, indexed by label.
   * @default `['0', '1', …]` up to the largest label, when labels are given
   */
  classNames?: readonly string[];
  /**
   * A name for each image (file names, ids).
   * @default `'#0'`, `'#1'`, …
   */
  names?: readonly string[];
}

/** The in-memory dataset: images (and labels) already in tensors. */
class TensorDataset implements Dataset {
  readonly length: number;
  readonly imageShape: readonly [number, number, number];
  readonly labels: Int32Array | null;
  readonly classNames: readonly string[] | null;
  readonly names: readonly string[];
  private disposed = false;

  constructor(
    private readonly images: tf.Tensor4D,
    labels: Int32Array | null,
    classNames: readonly string[] | null,
    names: readonly string[],
  ) {
    this.length = images.shape[0];
    this.imageShape = [images.shape[1], images.shape[2], images.shape[3]];
    this.labels = labels;
    this.classNames = classNames;
    this.names = names;
  }

  batches(options: BatchOptions = {}): BatchStream {
    this.assertUsable('tensorDataset: batches');
    const source: BatchSource<Int32Array> = {
      length: this.length,
      fetch: async (indices) => indices,
      assemble: (indices) => ({ images: this.gather(indices), indices }),
      labelsOf: (indices) => (this.labels === null ? null : Int32Array.from(indices, (i) => this.labels![i]!)),
      assertUsable: (fn) => this.assertUsable(fn),
    };
    return new SourceBatchStream(source, options ?? {}, 'tensorDataset: batches');
  }

  async load(indices?: ArrayLike<number>): Promise<LoadedImages> {
    const fn = 'tensorDataset: load';
    this.assertUsable(fn);
    let wanted: Int32Array;
    if (indices === undefined) {
      wanted = Int32Array.from({ length: this.length }, (_, i) => i);
    } else {
      if (typeof indices !== 'object' || indices === null || typeof indices.length !== 'number') {
        throw new InvalidArgumentError(fn, 'indices', 'be an array of image indices', describeValue(indices));
      }
      wanted = new Int32Array(indices.length);
      for (let i = 0; i < indices.length; i++) {
        assertInteger(indices[i], fn, `indices[${i}]`, { min: 0, max: this.length - 1 });
        wanted[i] = indices[i]!;
      }
    }
    return {
      images: this.gather(wanted),
      labels: this.labels === null ? null : tf.tensor1d(Int32Array.from(wanted, (i) => this.labels![i]!), 'int32'),
      indices: wanted,
    };
  }

  /** Forgets the tensors (they stay yours: the dataset never disposes them). */
  dispose(): void {
    this.disposed = true;
  }

  private gather(indices: Int32Array): tf.Tensor4D {
    return tf.tidy(() => tf.gather(this.images, tf.tensor1d(indices, 'int32')) as tf.Tensor4D);
  }

  private assertUsable(fn: string): void {
    if (this.disposed) throw new InvalidArgumentError(fn, 'dataset', 'not be disposed', 'a disposed dataset');
    if (this.images.isDisposed) throw new InvalidArgumentError(fn, 'images', 'stay alive while the dataset is used', 'a disposed tensor');
  }
}

/**
 * The {@link Dataset} interface over images already in memory: the same
 * seeded, shuffled `batches()` (with epochs, `dropLast`, `state()` /
 * `restore()`) and `load()` as a folder of files, so a training loop written
 * for one takes the other. Batches are gathered from `images`, which stays
 * yours (the dataset never disposes it; keep it alive while streaming).
 *
 * @param images NHWC float32 images `[N, H, W, C]`.
 * @param labels int32 class indices `[N]` (a tensor or an array), or nothing for an unlabeled set.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { loadDigits, tensorDataset } from 'selfsup';
 *
 * const { images, labels } = loadDigits({ limit: 100 });
 * const dataset = tensorDataset(images, labels);
 * const stream = dataset.batches({ batchSize: 32, seed: 0, epochs: 2, dropLast: true });
 * for await (const batch of stream) {
 *   console.log(batch.epoch, batch.batch, batch.images.shape); // 3 batches of [32, 8, 8, 1] per epoch
 *   batch.dispose();
 * }
 * tf.dispose([images, labels]);
 * ```
 */
export function tensorDataset(images: tf.Tensor4D, labels?: tf.Tensor1D | ArrayLike<number> | null, options: TensorDatasetOptions = {}): Dataset {
  const fn = 'tensorDataset';
  assertImages(images, fn);
  assertKnownOptions(options, ['classNames', 'names'], fn);
  const resolved = resolveLabels(images.shape[0], labels, options.classNames, options.names, (i) => `#${i}`, fn);
  return new TensorDataset(images, resolved.labels, resolved.classNames, resolved.names);
}
