import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors.js';
import { stopGradient } from '../core/stop-gradient.js';
import {
  assertFloat,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  assertRank,
  assertShape,
  formatShape,
} from '../core/validate.js';
import { softCrossEntropy } from './internal/cross-entropy.js';
import { readTeacherTargetSettings, teacherTargets } from './internal/teacher-targets.js';

/** Options of {@link dinoLoss}. */
export interface DinoLossOptions {
  /**
   * Student softmax temperature τ_s.
   * @default 0.1
   */
  studentTemperature?: number;
  /**
   * Teacher softmax temperature τ_t (DINO warms it up from 0.04 to 0.07; pass
   * the current value).
   * @default 0.04
   */
  teacherTemperature?: number;
  /**
   * How many of the crops are global: the first `numGlobalCrops` crops of
   * the student are the ones the teacher also sees.
   * @default 2
   */
  numGlobalCrops?: number;
  /**
   * How the teacher's logits become targets: DINO's centring and sharpening
   * `softmax((t − center)/τ_t)`, or DINOv2's Sinkhorn–Knopp balancing
   * `sinkhornKnopp(t, { epsilon: τ_t, iterations })` over all G·B teacher
   * rows (`sinkhorn_knopp_teacher`), which needs no center (pass `null`).
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
 * The DINO loss (Caron et al., "Emerging Properties in Self-Supervised
 * Vision Transformers", ICCV 2021, eq. 3 and the official `DINOLoss`).
 *
 * Shapes (crop-major: crop `v` of example `b` is row `v·B + b`):
 * - `studentOutput` float32 `[V·B, K]`, the student's logits for all V crops,
 *   the first `numGlobalCrops` (G) of them global;
 * - `teacherOutput` float32 `[G·B, K]`, the teacher's logits for the global crops;
 * - `center` float32 `[1, K]` (see {@link updateDinoCenter}), or `null` with
 *   `centering: 'sinkhornKnopp'`.
 *
 * Teacher targets `q_g = softmax((t_g − center)/τ_t)` carry no gradient (nor
 * does `center`); with `centering: 'sinkhornKnopp'` (DINOv2, Oquab et al.
 * 2024) they are instead the Sinkhorn–Knopp codes of all teacher rows at
 * `ε = τ_t`, which spread the batch evenly over the K outputs. Student `log p_v = log_softmax(s_v/τ_s)`. Over all pairs of a
 * global crop g and a crop v ≠ g:
 *
 * `L = (1 / (G·V − G)) Σ_g Σ_{v≠g} mean_b [ −Σ_k q_g,b,k log p_v,b,k ]`
 *
 * Reduction: the mean over the G·(V − 1) pairs of the batch means, as the
 * official code (`total_loss /= n_loss_terms`). The loss does not update the
 * center; call {@link updateDinoCenter} with the same teacher output after the step.
 *
 * Values: `ln K` when student and teacher outputs are uniform (collapse to a
 * uniform distribution); at collapse to one dimension the teacher is one-hot
 * and the loss → 0 as the student follows it (the center and the sharpening
 * counteract both collapses).
 *
 * Numerics: max-subtracted log-softmax and an analytic softmax-cross-entropy
 * gradient; the pairs are summed through `(Σ_g q_g)·log p_v` rather than a
 * loop, so the cost is one log-softmax of the student output.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { dinoLoss, updateDinoCenter } from 'selfsup';
 *
 * const B = 2, K = 8;
 * const student = tf.randomNormal([4 * B, K], 0, 1, 'float32', 1) as tf.Tensor2D; // 2 global + 2 local crops
 * const teacher = tf.randomNormal([2 * B, K], 0, 1, 'float32', 2) as tf.Tensor2D;
 * let center = tf.zeros([1, K]) as tf.Tensor2D;
 * const loss = dinoLoss(student, teacher, center);
 * console.log(loss.dataSync()[0]);
 * const next = updateDinoCenter(center, teacher);
 * center.dispose();
 * center = next;
 * ```
 */
export function dinoLoss(
  studentOutput: tf.Tensor2D,
  teacherOutput: tf.Tensor2D,
  center: tf.Tensor2D | null,
  options: DinoLossOptions = {},
): tf.Scalar {
  const fn = 'dinoLoss';
  assertKnownOptions(options, ['studentTemperature', 'teacherTemperature', 'numGlobalCrops', 'centering', 'sinkhornIterations'], fn);
  const { studentTemperature = 0.1, teacherTemperature = 0.04, numGlobalCrops = 2 } = options;
  assertRank(studentOutput, 2, fn, 'studentOutput', '[V·B, K]');
  assertFloat(studentOutput, fn, 'studentOutput');
  assertRank(teacherOutput, 2, fn, 'teacherOutput', '[G·B, K]');
  assertFloat(teacherOutput, fn, 'teacherOutput');
  assertPositive(studentTemperature, fn, 'options.studentTemperature');
  assertPositive(teacherTemperature, fn, 'options.teacherTemperature');
  assertInteger(numGlobalCrops, fn, 'options.numGlobalCrops', { min: 1 });
  const [teacherRows, k] = teacherOutput.shape;
  const studentRows = studentOutput.shape[0];
  if (k < 1 || studentOutput.shape[1] !== k) {
    throw new ShapeError(
      fn,
      'studentOutput',
      `have K = ${k} columns like teacherOutput ${formatShape(teacherOutput.shape)}`,
      formatShape(studentOutput.shape),
    );
  }
  if (teacherRows < numGlobalCrops || teacherRows % numGlobalCrops !== 0) {
    throw new ShapeError(
      fn,
      'teacherOutput',
      `have G·B rows with G = numGlobalCrops = ${numGlobalCrops} and B ≥ 1`,
      `${teacherRows} rows in shape ${formatShape(teacherOutput.shape)}`,
    );
  }
  const batch = teacherRows / numGlobalCrops;
  const views = studentRows / batch;
  if (!Number.isInteger(views) || views < numGlobalCrops || views < 2) {
    throw new ShapeError(
      fn,
      'studentOutput',
      `have V·B rows with B = ${batch} (from teacherOutput) and V ≥ max(2, numGlobalCrops = ${numGlobalCrops}) crops`,
      `${studentRows} rows in shape ${formatShape(studentOutput.shape)}`,
    );
  }
  const targetSettings = readTeacherTargetSettings(options, center, k, fn);

  return tf.tidy(() => {
    const teacherProbs = tf.reshape(teacherTargets(teacherOutput, center, teacherTemperature, targetSettings), [numGlobalCrops, batch, k]);
    const teacherSum = tf.sum(teacherProbs, 0, true); // Σ_g q_g, [1, B, K]
    // Crop v is paired with every global crop except itself.
    const ownTeacher =
      views > numGlobalCrops
        ? tf.concat([teacherProbs, tf.zeros([views - numGlobalCrops, batch, k])], 0)
        : teacherProbs;
    const targets = tf.reshape(tf.sub(teacherSum, ownTeacher), [views * batch, k]) as tf.Tensor2D;
    const logits = tf.div(studentOutput, studentTemperature) as tf.Tensor2D;
    const total = tf.sum(softCrossEntropy(logits, targets));
    const pairs = numGlobalCrops * (views - 1);
    return tf.div(total, pairs * batch) as tf.Scalar;
  });
}

/** Options of {@link updateDinoCenter}. */
export interface DinoCenterOptions {
  /**
   * EMA momentum m of the center.
   * @default 0.9
   */
  momentum?: number;
}

/**
 * DINO's center update (Caron et al. 2021, eq. 4; `DINOLoss.update_center`):
 *
 * `center ← m·center + (1 − m)·mean_rows(teacherOutput)`
 *
 * Shapes: `center` float32 `[1, K]`, `teacherOutput` float32 `[R, K]` (all
 * teacher rows of the step, the same tensor given to {@link dinoLoss}).
 * Returns a new `[1, K]` tensor and leaves `center` alive: dispose the old
 * one yourself (or `centerVariable.assign(next)` then dispose `next`). No
 * gradient flows through the update.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { updateDinoCenter } from 'selfsup';
 *
 * const center = tf.zeros([1, 3]) as tf.Tensor2D;
 * const teacher = tf.tensor2d([[1, 2, 3], [3, 2, 1]]);
 * const next = updateDinoCenter(center, teacher, { momentum: 0.9 });
 * next.print(); // [[0.2, 0.2, 0.2]]
 * center.dispose();
 * ```
 */
export function updateDinoCenter(
  center: tf.Tensor2D,
  teacherOutput: tf.Tensor2D,
  options: DinoCenterOptions = {},
): tf.Tensor2D {
  const fn = 'updateDinoCenter';
  assertKnownOptions(options, ['momentum'], fn);
  const { momentum = 0.9 } = options;
  assertRank(teacherOutput, 2, fn, 'teacherOutput', '[R, K]');
  assertFloat(teacherOutput, fn, 'teacherOutput');
  assertShape(center, [1, teacherOutput.shape[1]], fn, 'center', '[1, K]');
  assertFloat(center, fn, 'center');
  if (teacherOutput.shape[0] < 1) {
    throw new ShapeError(fn, 'teacherOutput', 'have at least one row', formatShape(teacherOutput.shape));
  }
  assertInRange(momentum, 0, 1, fn, 'options.momentum');
  return tf.tidy(() => {
    const batchCenter = tf.mean(stopGradient(teacherOutput), 0, true);
    return tf.add(tf.mul(momentum, stopGradient(center)), tf.mul(1 - momentum, batchCenter)) as tf.Tensor2D;
  });
}
