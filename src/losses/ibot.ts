import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { assertFloat, assertKnownOptions, assertPositive, assertRank, formatShape } from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { readTeacherTargetSettings, teacherTargets } from './internal/teacher-targets.js';

/** Options of {@link ibotPatchLoss}. */
export interface IbotPatchLossOptions {
  /**
   * Student softmax temperature τ_s.
   * @default 0.1 (iBOT, DINOv2)
   */
  studentTemperature?: number;
  /**
   * Teacher softmax temperature τ_t (DINOv2 warms it up from 0.04 to 0.07, as
   * for the image-level loss; pass the current value).
   * @default 0.04
   */
  teacherTemperature?: number;
  /**
   * How the teacher's logits become targets: centring and sharpening
   * `softmax((t − center)/τ_t)`, or DINOv2's Sinkhorn–Knopp balancing over
   * the M masked tokens (pass `center = null`).
   * @default 'center'
   */
  centering?: 'center' | 'sinkhornKnopp';
  /**
   * Sinkhorn–Knopp iterations when `centering` is `'sinkhornKnopp'`.
   * @default 3 (DINOv2)
   */
  sinkhornIterations?: number;
}

/**
 * iBOT's masked-patch-token loss as DINOv2 trains it (Zhou et al., "iBOT:
 * Image BERT Pre-Training with Online Tokenizer", ICLR 2022; Oquab et al.,
 * "DINOv2", TMLR 2024; `iBOTPatchLoss.forward_masked` of the DINOv2 code):
 * self-distillation on the patch tokens that were masked in the student's
 * input. The teacher sees the unmasked image; for every masked patch the
 * student's output (from the mask token at that position) must match the
 * teacher's output distribution for the real patch.
 *
 * Shapes:
 * - `masks` `[B, L]` (float32 or bool) with 1 where the student's patch was
 *   replaced by the mask token; M = the number of ones;
 * - `studentOutput` float32 `[M, K]` and `teacherOutput` float32 `[M, K]`:
 *   the head's logits of the masked tokens, in the row-major order of the
 *   ones of `masks` (image by image, patch by patch — DINOv2's
 *   `mask_indices_list`; `gatherMaskedTokens` of selfsup/masking gathers them);
 * - `center` float32 `[1, K]` (the patch-token center, updated like DINO's with
 *   `updateDinoCenter` on the teacher's masked-token logits), or `null` with
 *   `centering: 'sinkhornKnopp'`.
 *
 * With teacher targets `q_m = softmax((t_m − center)/τ_t)` (no gradient) and
 * `log p_m = log_softmax(s_m/τ_s)`:
 *
 * `L = −(1/B) Σ_m w_m Σ_k q_mk log p_mk`, `w_m = 1 / max(1, n_b(m))`,
 *
 * where `n_b` is the number of masked patches of the image b that row m
 * belongs to. Reduction: the mean over each image's masked patches, summed
 * over images and divided by all B images — images without a masked patch
 * count in B (DINOv2 masks only half of the global crops, and divides by
 * all of them). M = 0 gives 0.
 *
 * Values: `(M_img/B)·ln K` for uniform student and teacher outputs, where
 * M_img is the number of images with at least one masked patch; → 0 when the
 * student's sharpened outputs match one-hot teacher targets.
 *
 * Numerics: as {@link dinoLoss} — max-subtracted log-softmax with an
 * analytic gradient; Sinkhorn–Knopp subtracts the maximum before `exp`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ibotPatchLoss } from 'selfsup';
 *
 * const masks = tf.tensor2d([[1, 0, 1, 0], [0, 0, 0, 0]]); // 2 masked patches in image 0, none in image 1
 * const student = tf.randomNormal([2, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
 * const teacher = tf.randomNormal([2, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
 * const loss = ibotPatchLoss(student, teacher, masks, tf.zeros([1, 8]) as tf.Tensor2D);
 * console.log(loss.dataSync()[0]); // half the mean cross-entropy of the two tokens (B = 2)
 * ```
 */
export function ibotPatchLoss(
  studentOutput: tf.Tensor2D,
  teacherOutput: tf.Tensor2D,
  masks: tf.Tensor2D,
  center: tf.Tensor2D | null,
  options: IbotPatchLossOptions = {},
): tf.Scalar {
  const fn = 'ibotPatchLoss';
  assertKnownOptions(options, ['studentTemperature', 'teacherTemperature', 'centering', 'sinkhornIterations'], fn);
  const { studentTemperature = 0.1, teacherTemperature = 0.04 } = options;
  assertRank(studentOutput, 2, fn, 'studentOutput', '[M, K]');
  assertFloat(studentOutput, fn, 'studentOutput');
  assertRank(teacherOutput, 2, fn, 'teacherOutput', '[M, K]');
  assertFloat(teacherOutput, fn, 'teacherOutput');
  assertRank(masks, 2, fn, 'masks', '[B, L]');
  assertPositive(studentTemperature, fn, 'options.studentTemperature');
  assertPositive(teacherTemperature, fn, 'options.teacherTemperature');
  const [m, k] = studentOutput.shape;
  if (teacherOutput.shape[0] !== m || teacherOutput.shape[1] !== k || k < 1) {
    throw new ShapeError(fn, 'teacherOutput', `have the shape of studentOutput ${formatShape(studentOutput.shape)} with K ≥ 1`, formatShape(teacherOutput.shape));
  }
  const settings = readTeacherTargetSettings(options, center, k, fn);
  const [batch, length] = masks.shape;
  if (batch < 1 || length < 1) throw new ShapeError(fn, 'masks', 'have B ≥ 1 images and L ≥ 1 patches', formatShape(masks.shape));
  const flags = masks.dataSync();
  const weights = new Float32Array(m);
  let row = 0;
  for (let b = 0; b < batch; b++) {
    let count = 0;
    for (let l = 0; l < length; l++) {
      const v = Number(flags[b * length + l]);
      if (v !== 0 && v !== 1) throw new ShapeError(fn, 'masks', 'hold only 0 and 1', `${v} at [${b}, ${l}]`);
      count += v;
    }
    for (let j = 0; j < count && row + j < m; j++) weights[row + j] = 1 / count;
    row += count;
  }
  if (row !== m) {
    throw new ShapeError(fn, 'studentOutput', `have one row per masked patch: M = ${row} ones in masks`, formatShape(studentOutput.shape));
  }
  return tf.tidy(() => {
    // Connected to the student even when nothing is masked, so a gradient (zero) exists.
    if (m === 0) return tf.mul(tf.sum(studentOutput), 0) as tf.Scalar;
    const targets = teacherTargets(teacherOutput, center, teacherTemperature, settings);
    const perToken = softCrossEntropy(tf.div(studentOutput, studentTemperature) as tf.Tensor2D, targets);
    return tf.div(tf.sum(tf.mul(perToken, tf.tensor1d(weights))), batch) as tf.Scalar;
  });
}
