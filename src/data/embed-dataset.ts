import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, MissingDataError, ShapeError } from '../core/errors.js';
import { assertInteger, assertKnownOptions, describeValue, formatShape, isTensor } from '../core/validate.js';
import type { Dataset } from './dataset.js';

/** Options of {@link embedDataset}. */
export interface EmbedDatasetOptions {
  /**
   * Images per call of `embed`.
   * @default 256
   */
  batchSize?: number;
}

/** Embeddings of a whole dataset, row i for the image `names[i]`. */
export interface DatasetEmbeddings {
  /** `[N, D]` float32, one row per image that could be decoded, in dataset order. */
  embeddings: tf.Tensor2D;
  /** The dataset index of each row (files that failed to decode are left out). */
  indices: Int32Array;
  /** The name (file path, URL, `#i`) of each row. */
  names: string[];
  /** The label of each row, or `null` for an unlabeled dataset. */
  labels: Int32Array | null;
  /** The dataset's class names, or `null`. */
  classNames: string[] | null;
}

/**
 * Embeds every image of a dataset in order, in batches, with your `embed`
 * function (`(x) => task.embed(x)`, `(x) => embedImages(encoder, x)`, …, run
 * inside `tf.tidy`), and returns the embeddings with the name and label of
 * each row: what `saveEmbeddings` (`selfsup/io`) writes for other tools, and
 * what a kNN or linear probe takes. Images that fail to decode are left out
 * (and named by the dataset's warning).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { embedDataset, imageFolder, mlpEncoder } from 'selfsup';
 *
 * const dataset = await imageFolder('tests/fixtures/images/classes', { size: 8, onWarning: () => {} });
 * const encoder = mlpEncoder({ inputShape: [8, 8, 3], units: [4], seed: 0 });
 * const { embeddings, names, labels } = await embedDataset(dataset, (x) => encoder.predict(x) as tf.Tensor2D, { batchSize: 4 });
 * console.log(embeddings.shape, names[0], labels?.[0]); // [8, 4] 'circle/circle-0.png' 0
 * embeddings.dispose();
 * dataset.dispose();
 * ```
 */
export async function embedDataset(
  dataset: Dataset,
  embed: (images: tf.Tensor4D) => tf.Tensor2D,
  options: EmbedDatasetOptions = {},
): Promise<DatasetEmbeddings> {
  const fn = 'embedDataset';
  if (typeof dataset !== 'object' || dataset === null || typeof (dataset as Dataset).batches !== 'function') {
    throw new InvalidArgumentError(fn, 'dataset', 'be a dataset (imageFolder, tensorDataset, …)', describeValue(dataset));
  }
  if (typeof embed !== 'function') throw new InvalidArgumentError(fn, 'embed', 'be a function (images) => embeddings [B, D]', describeValue(embed));
  assertKnownOptions(options, ['batchSize'], fn);
  const { batchSize = 256 } = options ?? {};
  assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
  const parts: tf.Tensor2D[] = [];
  const indices: number[] = [];
  try {
    for await (const batch of dataset.batches({ batchSize, shuffle: false, badImages: 'skip', seed: 0 })) {
      try {
        if (batch.images.shape[0] === 0) continue;
        const rows = tf.tidy(() => {
          const out = embed(batch.images);
          if (!isTensor(out) || out.rank !== 2 || out.shape[0] !== batch.images.shape[0]) {
            throw new ShapeError(fn, 'embed', `return [B, D] with B = ${batch.images.shape[0]} (one row per image)`, isTensor(out) ? formatShape(out.shape) : describeValue(out));
          }
          return tf.cast(out, 'float32') as tf.Tensor2D;
        });
        parts.push(rows);
        indices.push(...batch.indices);
      } finally {
        batch.dispose();
      }
    }
  } catch (e) {
    tf.dispose(parts);
    throw e;
  }
  if (parts.length === 0) throw new MissingDataError(`${fn}: none of the dataset's ${dataset.length} images could be decoded`);
  const embeddings = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tf.Tensor2D);
  if (parts.length > 1) tf.dispose(parts);
  const kept = Int32Array.from(indices);
  return {
    embeddings,
    indices: kept,
    names: Array.from(kept, (i) => dataset.names[i]!),
    labels: dataset.labels === null ? null : Int32Array.from(kept, (i) => dataset.labels![i]!),
    classNames: dataset.classNames === null ? null : [...dataset.classNames],
  };
}
