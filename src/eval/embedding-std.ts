import * as tf from '@tensorflow/tfjs-core';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertFeatures } from './features.js';

/**
 * The collapse detector of SimSiam (Chen & He 2021, §4.1, Fig. 2): the
 * standard deviation of the L2-normalised embeddings over the batch, averaged
 * over the D dimensions. Embeddings spread uniformly over the sphere give
 * `1/√D` (each coordinate has variance 1/D); a collapsed encoder, whose
 * outputs are all the same vector, gives 0. Values well below `1/√D` flag
 * partial (dimensional) collapse.
 *
 * Uses the unbiased (N − 1) standard deviation, as `torch.std` does in the
 * SimSiam paper's plot and lightly's `std_of_l2_normalized`.
 *
 * @param z float32 `[N, D]` embeddings, N ≥ 2.
 * @returns a scalar.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { embeddingStd } from 'selfsup';
 *
 * embeddingStd(tf.tensor2d([[1, 2], [2, 4], [3, 6]])).print(); // 0: one direction
 * embeddingStd(tf.eye(4) as tf.Tensor2D).print();              // 0.5 = 1/√4
 * ```
 */
export function embeddingStd(z: tf.Tensor2D): tf.Scalar {
  const fn = 'embeddingStd';
  assertFeatures(z, fn, 'z', 2);
  const n = z.shape[0];
  return tf.tidy(() => {
    const unit = normalizeLastAxis(z);
    const { variance } = tf.moments(unit, 0);
    return tf.mean(tf.sqrt(tf.mul(variance, n / (n - 1)))) as tf.Scalar;
  });
}
