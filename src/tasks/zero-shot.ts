import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertFloat, assertKnownOptions, assertOneOf, assertPositive, assertRank, formatShape, isTensor } from '../core/validate.js';
import { DisposedError, InvalidArgumentError } from '../core/errors.js';

/** Options of {@link zeroShotClassifier}. */
export interface ZeroShotOptions {
  /**
   * With several prompts per class (`[C, P, D]`), average their normalised
   * embeddings and renormalise (CLIP's prompt ensembling "in embedding
   * space"); off, only the first prompt of each class is used.
   * @default true
   */
  promptEnsembling?: boolean;
  /**
   * Scale applied to the cosine similarities in `logits` (CLIP's learned
   * logit scale; it changes the softmax, never the predicted class).
   * @default 100
   */
  logitScale?: number;
}

/** A zero-shot classifier made by {@link zeroShotClassifier}. */
export interface ZeroShotClassifier {
  /** Number of classes C. */
  readonly numClasses: number;
  /** The normalised class embeddings `[C, D]` (the classifier's weights). */
  readonly classEmbeddings: tf.Tensor2D;
  /** `logitScale · cos(image, class)` for image embeddings `[N, D]` → `[N, C]`. */
  logits(imageEmbeddings: tf.Tensor2D): tf.Tensor2D;
  /** The most similar class of each image embedding, int32 `[N]`. */
  predict(imageEmbeddings: tf.Tensor2D): tf.Tensor1D;
  /** Frees the class embeddings. */
  dispose(): void;
}

/**
 * Turns per-class text embeddings into a classifier, CLIP's zero-shot
 * transfer (Radford et al. 2021, §3.1.2): each class is described in the
 * text modality ("a photo of a {class}"), the descriptions are embedded, and
 * an image is assigned the class whose embedding is most similar (cosine) to
 * its own — the text encoder "generates the weights of a linear classifier".
 * No image of those classes is needed, which is what lets CLIP classify
 * classes it never saw labelled.
 *
 * `classEmbeddings` is `[C, D]` (one prompt per class) or `[C, P, D]`
 * (P prompts per class: several templates or phrasings). With
 * `promptEnsembling` the P embeddings of a class are normalised, averaged and
 * renormalised (CLIP ensembles in embedding space, so the classifier costs
 * the same as with one prompt). Image embeddings are normalised inside
 * `logits`/`predict`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { zeroShotClassifier } from 'selfsup';
 *
 * // Two classes, two prompts each (e.g. Clip.encodeText of the prompts, reshaped to [C, P, D]).
 * const prompts = tf.tensor3d([[[1, 0.1], [0.9, -0.1]], [[0, 1], [0.2, 1]]]);
 * const classifier = zeroShotClassifier(prompts, { promptEnsembling: true });
 * const images = tf.tensor2d([[0.8, 0.3], [-0.1, 2]]);
 * console.log(classifier.predict(images).dataSync()); // [0, 1]
 * classifier.dispose();
 * ```
 */
export function zeroShotClassifier(
  classEmbeddings: tf.Tensor2D | tf.Tensor3D,
  options: ZeroShotOptions = {},
): ZeroShotClassifier {
  const fn = 'zeroShotClassifier';
  assertKnownOptions(options, ['promptEnsembling', 'logitScale'], fn);
  const { promptEnsembling = true, logitScale = 100 } = options;
  assertOneOf(promptEnsembling, [true, false], fn, 'options.promptEnsembling');
  assertPositive(logitScale, fn, 'options.logitScale');
  if (!isTensor(classEmbeddings) || (classEmbeddings.rank !== 2 && classEmbeddings.rank !== 3)) {
    throw new InvalidArgumentError(
      fn,
      'classEmbeddings',
      'be a [C, D] or [C, P, D] tensor (per-class text embeddings)',
      isTensor(classEmbeddings) ? `rank ${classEmbeddings.rank} with shape ${formatShape(classEmbeddings.shape)}` : String(classEmbeddings),
    );
  }
  assertFloat(classEmbeddings, fn, 'classEmbeddings');
  if (classEmbeddings.shape.some((d) => d === 0)) {
    throw new ShapeError(fn, 'classEmbeddings', 'be non-empty', formatShape(classEmbeddings.shape));
  }
  const weights = tf.tidy(() => {
    if (classEmbeddings.rank === 2) return normalizeLastAxis(classEmbeddings) as tf.Tensor2D;
    const perPrompt = normalizeLastAxis(classEmbeddings);
    const pooled = promptEnsembling ? tf.mean(perPrompt, 1) : tf.squeeze(tf.slice(perPrompt, [0, 0, 0], [-1, 1, -1]), [1]);
    return normalizeLastAxis(pooled) as tf.Tensor2D;
  });
  const [numClasses, dim] = weights.shape;
  let disposed = false;
  const check: (x: unknown, method: string) => asserts x is tf.Tensor2D = (x, method) => {
    const where = `ZeroShotClassifier.${method}`;
    if (disposed) throw new DisposedError(where, 'a zero-shot classifier');
    assertRank(x, 2, where, 'imageEmbeddings', '[N, D]');
    assertFloat(x, where, 'imageEmbeddings');
    if (x.shape[1] !== dim) {
      throw new ShapeError(where, 'imageEmbeddings', `have D = ${dim} (the class embeddings' width) on axis 1`, formatShape(x.shape));
    }
  };
  const logits = (x: tf.Tensor2D) =>
    tf.tidy(() => tf.mul(tf.matMul(normalizeLastAxis(x), tf.transpose(weights)), logitScale) as tf.Tensor2D);
  return {
    numClasses,
    classEmbeddings: weights,
    logits(imageEmbeddings) {
      check(imageEmbeddings, 'logits');
      return logits(imageEmbeddings);
    },
    predict(imageEmbeddings) {
      check(imageEmbeddings, 'predict');
      return tf.tidy(() => tf.argMax(logits(imageEmbeddings), 1) as tf.Tensor1D);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      weights.dispose();
    },
  };
}
