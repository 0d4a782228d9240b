import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { assertFiniteNumber, assertNonNegative, describeValue } from '../core/validate.js';

/**
 * Sets the learning rate of a tfjs optimizer in place, so a {@link Schedule}
 * can drive it step by step. tfjs exposes `setLearningRate` only on SGD and
 * momentum; Adam, Adamax, RMSProp, Adagrad and Adadelta read a `learningRate`
 * field at every step, which this sets.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { cosineSchedule, setLearningRate } from 'selfsup';
 *
 * const optimizer = tf.train.adam(1e-3);
 * const lr = cosineSchedule({ base: 1e-3, totalSteps: 100, warmupSteps: 10 });
 * for (let step = 0; step < 3; step++) {
 *   setLearningRate(optimizer, lr(step));
 *   // optimizer.minimize(...)
 * }
 * ```
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const fn = 'setLearningRate';
  assertFiniteNumber(learningRate, fn, 'learningRate');
  assertNonNegative(learningRate, fn, 'learningRate');
  const opt = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: unknown };
  if (typeof opt === 'object' && opt !== null && typeof opt.setLearningRate === 'function') {
    opt.setLearningRate(learningRate);
  } else if (typeof opt === 'object' && opt !== null && typeof opt.learningRate === 'number') {
    opt.learningRate = learningRate;
  } else {
    throw new InvalidArgumentError(fn, 'optimizer', 'be a tfjs optimizer with a learning rate (tf.train.sgd, adam, …)', describeValue(optimizer));
  }
}
