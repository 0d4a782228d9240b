import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertPositive,
} from '../core/validate.js';
import { embeddingStd } from './embedding-std.js';
import { assertFeatures } from './features.js';

/** The statistics {@link detectCollapse} judges; give the ones you have. */
export interface CollapseStats {
  /** The current training loss. */
  loss?: number;
  /**
   * The loss value when the model's output is uniform over its K candidates,
   * `ln K`: `Math.log(2N − 1)` for NT-Xent on N pairs, `Math.log(K + 1)` for
   * MoCo's InfoNCE with a K-entry queue, `Math.log(K)` for a cross-entropy over
   * K classes or prototypes (DINO, SwAV, RotNet's K = 4).
   */
  uniformLoss?: number;
  /** A batch of embeddings `[N, D]`, from which the normalised std is computed. */
  embeddings?: tf.Tensor2D;
  /** Or the normalised std itself ({@link embeddingStd}), with `dim`. */
  embeddingStd?: number;
  /** Embedding size D, needed with `embeddingStd`. */
  dim?: number;
}

/** Options of {@link detectCollapse}. */
export interface CollapseOptions {
  /**
   * A loss within `lossTolerance · uniformLoss` of `uniformLoss` is flagged.
   * @default 0.01
   */
  lossTolerance?: number;
  /**
   * A normalised std below `minStdRatio / √D` is flagged (healthy ≈ 1/√D).
   * @default 0.1
   */
  minStdRatio?: number;
}

/** One sign of collapse, found by {@link detectCollapse}. */
export interface CollapseWarning {
  /** `'uniform-loss'`: the loss sits at ln K; `'collapsed-embeddings'`: the embeddings have (almost) no spread. */
  kind: 'uniform-loss' | 'collapsed-embeddings';
  /** A sentence for a log. */
  message: string;
  /** The measured value (the loss, or the normalised std). */
  value: number;
  /** What it was compared with (ln K, or minStdRatio/√D). */
  reference: number;
}

/**
 * Checks training statistics for the two signatures of representation
 * collapse and returns a warning for each found (an empty array when healthy):
 *
 * - the loss sits at its uniform-output value `ln K`: a contrastive or
 *   cross-entropy objective whose logits are all equal, which is where an
 *   encoder that maps every input to the same point stays (NT-Xent at
 *   `ln(2N − 1)`, a K-way classifier at `ln K`);
 * - the L2-normalised embeddings have a mean per-dimension std below
 *   `minStdRatio/√D` (SimSiam's collapse diagnostic; healthy ≈ `1/√D`), which
 *   catches collapse in the non-contrastive methods (BYOL, SimSiam, Barlow
 *   Twins, VICReg) whose losses have no uniform-output value.
 *
 * One observation can be noisy, and early in training a loss near `ln K` is
 * normal: the training monitor in `selfsup/tasks` applies this check with a
 * patience.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { detectCollapse } from 'selfsup';
 *
 * const n = 64;
 * const warnings = detectCollapse({
 *   loss: 4.849,
 *   uniformLoss: Math.log(2 * n - 1), // 4.844: NT-Xent with all similarities equal
 *   embeddings: tf.ones([n, 16]) as tf.Tensor2D,
 * });
 * console.log(warnings.map((w) => w.kind)); // ['uniform-loss', 'collapsed-embeddings']
 * ```
 */
export function detectCollapse(stats: CollapseStats, options: CollapseOptions = {}): CollapseWarning[] {
  const fn = 'detectCollapse';
  assertKnownOptions(stats, ['loss', 'uniformLoss', 'embeddings', 'embeddingStd', 'dim'], fn, 'stats');
  assertKnownOptions(options, ['lossTolerance', 'minStdRatio'], fn);
  const { lossTolerance = 0.01, minStdRatio = 0.1 } = options;
  assertNonNegative(lossTolerance, fn, 'options.lossTolerance');
  assertPositive(minStdRatio, fn, 'options.minStdRatio');
  const warnings: CollapseWarning[] = [];

  if (stats.loss !== undefined || stats.uniformLoss !== undefined) {
    if (stats.loss === undefined || stats.uniformLoss === undefined) {
      throw new InvalidArgumentError(fn, 'stats', 'give loss and uniformLoss together', 'only one of them');
    }
    assertFiniteNumber(stats.loss, fn, 'stats.loss');
    assertPositive(stats.uniformLoss, fn, 'stats.uniformLoss');
    if (Math.abs(stats.loss - stats.uniformLoss) <= lossTolerance * stats.uniformLoss) {
      warnings.push({
        kind: 'uniform-loss',
        message:
          `the loss ${stats.loss.toFixed(4)} sits at its uniform-output value ln K = ${stats.uniformLoss.toFixed(4)}: ` +
          'all candidates score alike, as when every input maps to the same embedding',
        value: stats.loss,
        reference: stats.uniformLoss,
      });
    }
  }

  let std: number | undefined;
  let dim: number | undefined;
  if (stats.embeddings !== undefined) {
    assertFeatures(stats.embeddings, fn, 'stats.embeddings', 2);
    const s = embeddingStd(stats.embeddings);
    std = s.dataSync()[0]!;
    s.dispose();
    dim = stats.embeddings.shape[1];
  } else if (stats.embeddingStd !== undefined) {
    assertNonNegative(stats.embeddingStd, fn, 'stats.embeddingStd');
    assertInteger(stats.dim, fn, 'stats.dim', { min: 1 });
    std = stats.embeddingStd;
    dim = stats.dim;
  }
  if (std !== undefined && dim !== undefined) {
    const threshold = minStdRatio / Math.sqrt(dim);
    if (std < threshold) {
      warnings.push({
        kind: 'collapsed-embeddings',
        message:
          `the normalised embeddings have std ${std.toExponential(2)} < ${threshold.toExponential(2)} ` +
          `(healthy ≈ 1/√D = ${(1 / Math.sqrt(dim)).toFixed(4)}): the outputs have collapsed towards one direction`,
        value: std,
        reference: threshold,
      });
    }
  }
  return warnings;
}
