/**
 * Forward and analytic backward of the contrastive family (NT-Xent, InfoNCE,
 * CLIP): the one place the public losses go through.
 *
 * Two implementations of the same formulas, chosen per call:
 * - **fused** (`*FromEmbeddings` when the active backend has selfsup's fused
 *   kernels, i.e. wasm after `useBackend('wasm')`): one kernel computes the
 *   normalisation, the similarity GEMM, the row-wise log-sum-exps (maximum
 *   subtracted, vectorised exp) and the softmax the backward needs; the
 *   backward is one GEMM per input gradient with G formed on the fly
 *   (src/kernels/c/contrastive.c implements exactly the formulas below).
 * - **composition** (every other backend): tfjs ops, below.
 * Both are wrapped in the same kind of custom gradient and are tested against
 * each other and against PyTorch fixtures (tests/kernels/fused-losses.test.ts,
 * tests/losses/).
 *
 * Each composition core takes rows that are already L2-normalised (through
 * `normalizeLastAxis`, whose own gradient is analytic) and returns the scalar
 * mean loss. Matrix products are written as
 * `tf.matMul(a, tf.transpose(b))`: the transpose flags of `tf.matMul`, which
 * its autodiff uses, run about ten times slower on the wasm backend. With
 * `G = ∂L/∂logits = (softmax − onehot)/rows`, the backward is two plain
 * matrix products; the one-hot part is applied to the embeddings directly
 * instead of being materialised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../../core/custom-gradient.js';
import { normalizeLastAxis } from '../../core/normalize.js';
import { FUSED, hasFusedKernel } from '../../core/fused-kernels.js';
import { softmaxStatistics } from './cross-entropy.js';

/** Runs a fused kernel; its outputs in the order its kernel documents. */
function fused(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/**
 * NT-Xent of raw embeddings `z1`, `z2` `[N, D]`: normalised, then
 * {@link ntXentCore}; fused into two kernels (forward, backward) where the
 * backend has them.
 */
export function ntXentFromEmbeddings(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!hasFusedKernel(FUSED.ntXent)) {
    return ntXentCore(normalizeLastAxis(tf.concat([z1, z2], 0)) as tf.Tensor2D, temperature);
  }
  const op = customGradient((save, a: tf.Tensor2D, b: tf.Tensor2D) => {
    const [loss, z, norms, p] = fused(FUSED.ntXent, { z1: a, z2: b }, { temperature }) as [tf.Scalar, tf.Tensor, tf.Tensor, tf.Tensor];
    save([z, norms, p]);
    return {
      value: loss,
      gradFunc: (dy, saved) => {
        const [zS, normsS, pS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return fused(FUSED.ntXentGrad, { z: zS, norms: normsS, p: pS, dy }, { temperature });
      },
    };
  });
  return op(z1, z2) as tf.Scalar;
}

/** `Σ_d a_id · b_id` per row, `[R, 1]`. */
function rowDot(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.sum(tf.mul(a, b), 1, true) as tf.Tensor2D;
}

/**
 * SimCLR's NT-Xent on normalised `z = [z1; z2]` `[2N, D]`:
 * `(1/2N) Σ_i [logsumexp_{j≠i} s_ij − s_i,i±N]` with `s = zzᵀ/τ`.
 */
export function ntXentCore(z: tf.Tensor2D, temperature: number): tf.Scalar {
  const rows = z.shape[0];
  const op = customGradient((save, zIn: tf.Tensor2D) => {
    const logits = tf.div(tf.matMul(zIn, tf.transpose(zIn)), temperature) as tf.Tensor2D;
    // j = i leaves the softmax through a −∞ logit (exp gives exactly 0);
    // subtracting exp(s_ii) afterwards would cancel catastrophically at small τ.
    const self = tf.cast(tf.eye(rows), 'bool');
    const masked = tf.where(self, tf.fill([rows, rows], -Infinity), logits) as tf.Tensor2D;
    const { logSumExp, probabilities } = softmaxStatistics(masked);
    const [z1, z2] = tf.split(zIn, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    // Σ_i s_i,pos visits every pair twice (i → i+N and i+N → i).
    const positives = tf.div(tf.mul(2, tf.sum(tf.mul(z1, z2))), temperature);
    save([zIn, probabilities]);
    return {
      value: tf.div(tf.sub(tf.sum(logSumExp), positives), rows),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [zS, p] = saved as [tf.Tensor2D, tf.Tensor2D];
          // s is symmetric, so ∂L/∂z = (G + Gᵀ) z / τ; the positives of z are z with halves swapped.
          const [a, b] = tf.split(zS, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
          const partners = tf.concat([b, a], 0);
          const spread = tf.matMul(tf.add(p, tf.transpose(p)), zS);
          return tf.mul(tf.sub(spread, tf.mul(2, partners)), tf.div(dy, rows * temperature));
        }),
    };
  });
  return op(z) as tf.Scalar;
}

/**
 * InfoNCE with in-batch negatives on normalised `q`, `k` `[N, D]`:
 * `mean_i [logsumexp_j (q_i·k_j/τ) − q_i·k_i/τ]`.
 */
export function infoNCEInBatchCore(q: tf.Tensor2D, k: tf.Tensor2D, temperature: number): tf.Scalar {
  const n = q.shape[0];
  const op = customGradient((save, qIn: tf.Tensor2D, kIn: tf.Tensor2D) => {
    const logits = tf.div(tf.matMul(qIn, tf.transpose(kIn)), temperature) as tf.Tensor2D;
    const { logSumExp, probabilities } = softmaxStatistics(logits);
    const positives = tf.div(tf.sum(tf.mul(qIn, kIn)), temperature);
    save([qIn, kIn, probabilities]);
    return {
      value: tf.div(tf.sub(tf.sum(logSumExp), positives), n),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [qS, kS, p] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const scale = tf.div(dy, n * temperature);
          const dq = tf.mul(tf.sub(tf.matMul(p, kS), kS), scale);
          const dk = tf.mul(tf.sub(tf.matMul(tf.transpose(p), qS), qS), scale);
          return [dq, dk];
        }),
    };
  });
  return op(q, k) as tf.Scalar;
}

/**
 * Row statistics of logits `[l_pos | l_neg]` without concatenating them:
 * log-sum-exp `[N, 1]` and the softmax split into its positive `[N, 1]` and
 * negative `[N, K]` parts.
 */
function splitSoftmax(positive: tf.Tensor2D, negative: tf.Tensor2D) {
  const rowMax = tf.maximum(tf.max(negative, 1, true), positive);
  const expPositive = tf.exp(tf.sub(positive, rowMax));
  const expNegative = tf.exp(tf.sub(negative, rowMax));
  const total = tf.add(expPositive, tf.sum(expNegative, 1, true));
  return {
    logSumExp: tf.add(tf.log(total), rowMax),
    pPositive: tf.div(expPositive, total),
    pNegative: tf.div(expNegative, total),
  };
}

/**
 * InfoNCE with explicit negatives on normalised rows: `negatives` `[K, D]`
 * shared by every query (MoCo's queue) or `[N, K, D]` per query;
 * logits `[q·k, q·n_1, …, q·n_K]/τ`, positive at index 0, mean over queries.
 */
export function infoNCEWithNegativesCore(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  negatives: tf.Tensor2D | tf.Tensor3D,
  temperature: number,
): tf.Scalar {
  const [n, d] = q.shape;
  const perQuery = negatives.rank === 3;
  const numNegatives = negatives.shape[perQuery ? 1 : 0] as number;
  const negativeLogits = (qIn: tf.Tensor2D, negIn: tf.Tensor): tf.Tensor2D =>
    perQuery
      ? tf.reshape(tf.matMul(negIn as tf.Tensor3D, tf.reshape(qIn, [n, d, 1])), [n, numNegatives])
      : (tf.matMul(qIn, tf.transpose(negIn as tf.Tensor2D)) as tf.Tensor2D);
  const op = customGradient((save, qIn: tf.Tensor2D, kIn: tf.Tensor2D, negIn: tf.Tensor) => {
    const positive = tf.div(rowDot(qIn, kIn), temperature) as tf.Tensor2D;
    const negative = tf.div(negativeLogits(qIn, negIn), temperature) as tf.Tensor2D;
    const { logSumExp, pPositive, pNegative } = splitSoftmax(positive, negative);
    save([qIn, kIn, negIn, pPositive, pNegative]);
    return {
      value: tf.div(tf.sum(tf.sub(logSumExp, positive)), n),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [qS, kS, negS, pPos, pNeg] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.Tensor2D, tf.Tensor2D];
          const scale = tf.div(dy, n * temperature);
          const gPositive = tf.mul(tf.sub(pPos, 1), scale); // [N, 1]
          const gNegative = tf.mul(pNeg, scale); // [N, K]
          const dk = tf.mul(gPositive, qS);
          if (perQuery) {
            const fromNegatives = tf.reshape(
              tf.matMul(tf.reshape(gNegative, [n, 1, numNegatives]), negS as tf.Tensor3D),
              [n, d],
            );
            const dq = tf.add(tf.mul(gPositive, kS), fromNegatives);
            const dNeg = tf.mul(tf.reshape(gNegative, [n, numNegatives, 1]), tf.reshape(qS, [n, 1, d]));
            return [dq, dk, dNeg];
          }
          const dq = tf.add(tf.mul(gPositive, kS), tf.matMul(gNegative, negS as tf.Tensor2D));
          const dNeg = tf.matMul(tf.transpose(gNegative), qS);
          return [dq, dk, dNeg];
        }),
    };
  });
  return op(q, k, negatives) as tf.Scalar;
}

/**
 * InfoNCE of raw `q`, `k` `[N, D]` against raw `negatives` (`[K, D]` shared or
 * `[N, K, D]` per query): normalised, then {@link infoNCEWithNegativesCore};
 * a shared queue is fused where the backend has the kernels. There the
 * gradient of the negatives is a separate custom gradient, so it is only
 * computed when something differentiates through them (a MoCo queue never
 * is: that GEMM is as large as the forward one).
 */
export function infoNCEWithNegativesFromEmbeddings(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  negatives: tf.Tensor2D | tf.Tensor3D,
  temperature: number,
): tf.Scalar {
  if (negatives.rank !== 2 || !hasFusedKernel(FUSED.infoNCEQueue)) {
    return infoNCEWithNegativesCore(
      normalizeLastAxis(q) as tf.Tensor2D,
      normalizeLastAxis(k) as tf.Tensor2D,
      normalizeLastAxis(negatives) as tf.Tensor2D | tf.Tensor3D,
      temperature,
    );
  }
  const attrs = { temperature };
  // What the negatives' gradient needs, kept past the forward's scope until it is saved by `throughNegatives`.
  let forNegatives: tf.Tensor[] = [];
  const main = customGradient((save, qIn: tf.Tensor2D, kIn: tf.Tensor2D) => {
    const [loss, qn, kn, qNorms, kNorms, negNorms, pPos, pNeg] = fused(FUSED.infoNCEQueue, { q: qIn, k: kIn, negatives }, attrs) as
      [tf.Scalar, ...tf.Tensor[]];
    save([qn!, kn!, qNorms!, kNorms!, negNorms!, pPos!, pNeg!]);
    forNegatives = [qn!, negNorms!, pNeg!].map((t) => tf.keep(t));
    return {
      value: loss,
      gradFunc: (dy, saved) => {
        const [qnS, knS, qNormsS, kNormsS, negNormsS, pPosS, pNegS] = saved as tf.Tensor[];
        const dq = fused(FUSED.infoNCEQueueGradQuery, {
          qn: qnS!, kn: knS!, qNorms: qNormsS!, negatives, negNorms: negNormsS!, pPos: pPosS!, pNeg: pNegS!, dy,
        }, attrs)[0]!;
        const dk = fused(FUSED.infoNCEQueueGradKey, { qn: qnS!, kn: knS!, kNorms: kNormsS!, pPos: pPosS!, dy }, attrs)[0]!;
        return [dq, dk];
      },
    };
  });
  const throughNegatives = customGradient((save, negIn: tf.Tensor2D) => {
    save([negIn, ...forNegatives]);
    return {
      value: tf.zeros([]),
      gradFunc: (dy, saved) => {
        const [negS, qnS, negNormsS, pNegS] = saved as tf.Tensor[];
        return fused(FUSED.infoNCEQueueGradNegatives, { qn: qnS!, negatives: negS!, negNorms: negNormsS!, pNeg: pNegS!, dy }, attrs)[0]!;
      },
    };
  });
  try {
    const value = main(q, k);
    return tf.add(value, throughNegatives(negatives as tf.Tensor2D)) as tf.Scalar;
  } finally {
    tf.dispose(forNegatives);
    forNegatives = [];
  }
}

/**
 * CLIP's loss of raw image and text embeddings `[N, D]`: normalised, then
 * {@link clipCore}; fused into a forward kernel and one backward kernel per
 * side where the backend has them.
 */
export function clipFromEmbeddings(images: tf.Tensor2D, texts: tf.Tensor2D, logScale: tf.Scalar): tf.Scalar {
  if (!hasFusedKernel(FUSED.clip)) {
    return clipCore(normalizeLastAxis(images) as tf.Tensor2D, normalizeLastAxis(texts) as tf.Tensor2D, logScale);
  }
  const op = customGradient((save, img: tf.Tensor2D, txt: tf.Tensor2D, ls: tf.Scalar) => {
    const [loss, imgN, txtN, iNorms, tNorms, g, dLogScale] = fused(FUSED.clip, { images: img, texts: txt, logScale: ls }) as
      [tf.Scalar, ...tf.Tensor[]];
    save([imgN!, txtN!, iNorms!, tNorms!, g!, ls, dLogScale!]);
    return {
      value: loss,
      gradFunc: (dy, saved) => {
        const [imgS, txtS, iNormsS, tNormsS, gS, lsS, dLogScaleS] = saved as tf.Tensor[];
        const side = (norms: tf.Tensor, which: number) =>
          fused(FUSED.clipGrad, { images: imgS!, texts: txtS!, norms, g: gS!, logScale: lsS!, dy }, { which })[0]!;
        return [side(iNormsS!, 0), side(tNormsS!, 1), tf.mul(dy, dLogScaleS!)];
      },
    };
  });
  return op(images, texts, logScale) as tf.Scalar;
}

/**
 * CLIP's symmetric loss on normalised image and text rows `[N, D]`:
 * logits `exp(logScale)·I Tᵀ`, `½[CE over rows + CE over columns]`, targets on
 * the diagonal. `logScale` is a scalar tensor and receives its exact gradient
 * `Σ G ∘ logits` (no clamping inside the loss).
 */
export function clipCore(images: tf.Tensor2D, texts: tf.Tensor2D, logScale: tf.Scalar): tf.Scalar {
  const n = images.shape[0];
  const op = customGradient((save, img: tf.Tensor2D, txt: tf.Tensor2D, ls: tf.Scalar) => {
    const scale = tf.exp(ls);
    const logits = tf.mul(tf.matMul(img, tf.transpose(txt)), scale) as tf.Tensor2D;
    const byImage = softmaxStatistics(logits);
    const byText = softmaxStatistics(tf.transpose(logits));
    const diagonal = tf.mul(tf.sum(tf.mul(img, txt)), scale);
    const total = tf.sub(tf.add(tf.sum(byImage.logSumExp), tf.sum(byText.logSumExp)), tf.mul(2, diagonal));
    save([img, txt, logits, scale, byImage.probabilities, byText.probabilities]);
    return {
      value: tf.div(total, 2 * n),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [imgS, txtS, logitsS, scaleS, pImage, pText] = saved as [
            tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Scalar, tf.Tensor2D, tf.Tensor2D,
          ];
          // G = (softmax_rows + softmax_colsᵀ − 2I) / 2N; I's contribution is applied below.
          const gSoft = tf.div(tf.add(pImage, tf.transpose(pText)), 2 * n);
          const gScaled = tf.mul(gSoft, tf.mul(dy, scaleS));
          const identityShare = tf.div(tf.mul(dy, scaleS), n);
          const dImg = tf.sub(tf.matMul(gScaled, txtS), tf.mul(identityShare, txtS));
          const dTxt = tf.sub(tf.matMul(tf.transpose(gScaled), imgS), tf.mul(identityShare, imgS));
          // ∂logits/∂logScale = logits, so ∂L/∂logScale = Σ G ∘ logits.
          const trace = tf.sum(tf.mul(imgS, txtS));
          const dLogScale = tf.mul(
            dy,
            tf.sub(tf.sum(tf.mul(gSoft, logitsS)), tf.div(tf.mul(trace, scaleS), n)),
          );
          return [dImg, dTxt, dLogScale];
        }),
    };
  });
  return op(images, texts, logScale) as tf.Scalar;
}

/**
 * The decoupled contrastive loss (DCL, Yeh et al. 2022) on normalised
 * `z = [z1; z2]` `[2N, D]`: NT-Xent's logits `s = zzᵀ/τ` with the positive
 * pair removed from the denominator as well as the self-similarity,
 * `(1/2N) Σ_i [logsumexp_{j ∉ {i, pos(i)}} s_ij − w_i·s_i,pos(i)]`; `weights`
 * `[N, 1]` (DCLW's, no gradient) scale the positive term of both views of
 * image k, or are 1 when null.
 */
export function dclCore(z: tf.Tensor2D, weights: tf.Tensor2D | null, temperature: number): tf.Scalar {
  const rows = z.shape[0];
  const n = rows / 2;
  const op = customGradient((save, zIn: tf.Tensor2D) => {
    const logits = tf.div(tf.matMul(zIn, tf.transpose(zIn)), temperature) as tf.Tensor2D;
    // Both the self-similarity and the positive leave the softmax through a −∞ logit (exactly 0 after exp).
    const eye = tf.eye(n);
    const pairMask = tf.concat([tf.concat([eye, eye], 1), tf.concat([eye, eye], 1)], 0);
    const masked = tf.where(tf.cast(pairMask, 'bool'), tf.fill([rows, rows], -Infinity), logits) as tf.Tensor2D;
    const { logSumExp, probabilities } = softmaxStatistics(masked);
    const [z1, z2] = tf.split(zIn, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    const pairDots = rowDot(z1, z2); // [N, 1]
    const w = weights ?? tf.onesLike(pairDots);
    // Σ_i w_i s_i,pos visits every pair twice (i → i+N and i+N → i).
    const positives = tf.div(tf.mul(2, tf.sum(tf.mul(w, pairDots))), temperature);
    save([zIn, probabilities, w]);
    return {
      value: tf.div(tf.sub(tf.sum(logSumExp), positives), rows),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [zS, p, wS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const [a, b] = tf.split(zS, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
          const weightedPartners = tf.mul(tf.concat([wS, wS], 0), tf.concat([b, a], 0));
          const spread = tf.matMul(tf.add(p, tf.transpose(p)), zS);
          return tf.mul(tf.sub(spread, tf.mul(2, weightedPartners)), tf.div(dy, rows * temperature));
        }),
    };
  });
  return op(z) as tf.Scalar;
}
