/**
 * The teacher targets of the self-distillation losses (DINO's image-level
 * loss and iBOT's patch loss): the teacher's logits made into probabilities
 * by centring and sharpening, or by DINOv2's Sinkhorn–Knopp balancing. One
 * place, so the two losses cannot drift apart in how they treat the teacher.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../core/errors.js';
import { stopGradient } from '../../core/stop-gradient.js';
import { assertFloat, assertInteger, assertOneOf, assertShape, describeValue } from '../../core/validate.js';
import { sinkhornKnopp } from '../swav.js';

/** How the teacher's logits become targets. */
export type TeacherCentering = 'center' | 'sinkhornKnopp';

/** The validated teacher-target settings of a loss. */
export interface TeacherTargetSettings {
  centering: TeacherCentering;
  iterations: number;
}

/**
 * Checks `centering`, `sinkhornIterations` and `center` (`[1, K]` float32, or
 * null — allowed only with Sinkhorn–Knopp, which uses no center).
 */
export function readTeacherTargetSettings(
  options: { centering?: unknown; sinkhornIterations?: unknown },
  center: unknown,
  k: number,
  fn: string,
): TeacherTargetSettings {
  const { centering = 'center', sinkhornIterations = 3 } = options;
  assertOneOf(centering, ['center', 'sinkhornKnopp'] as const, fn, 'options.centering');
  assertInteger(sinkhornIterations, fn, 'options.sinkhornIterations', { min: 0 });
  if (centering === 'center' || (center !== null && center !== undefined)) {
    if (center === null || center === undefined) {
      throw new InvalidArgumentError(fn, 'center', "be a [1, K] tensor (it may be null only with centering: 'sinkhornKnopp')", describeValue(center));
    }
    assertShape(center, [1, k], fn, 'center', '[1, K]');
    assertFloat(center as tf.Tensor, fn, 'center');
  }
  return { centering, iterations: sinkhornIterations };
}

/**
 * Teacher probabilities `[R, K]` from teacher logits `[R, K]`, without gradient:
 * `softmax((t − center)/τ_t)` (DINO, iBOT), or `sinkhornKnopp(t, { epsilon: τ_t })`
 * over all R rows (DINOv2's `sinkhorn_knopp_teacher`: `exp(t/τ_t)` balanced
 * so every prototype gets mass R/K; it uses no center).
 */
export function teacherTargets(
  teacherOutput: tf.Tensor2D,
  center: tf.Tensor2D | null,
  temperature: number,
  settings: TeacherTargetSettings,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (settings.centering === 'sinkhornKnopp') {
      return sinkhornKnopp(stopGradient(teacherOutput), { epsilon: temperature, iterations: settings.iterations });
    }
    return stopGradient(tf.softmax(tf.div(tf.sub(teacherOutput, center!), temperature))) as tf.Tensor2D;
  });
}
