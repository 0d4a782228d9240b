import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../../core/custom-gradient.js';

/**
 * Runs `compute(x)` as one opaque op whose gradient with respect to `x` is
 * zero: the `torch.no_grad()` blocks of SwAV's Sinkhorn and of colorization's
 * target encoding. Inside a custom-gradient forward nothing is recorded on the
 * tape, so unlike `stopGradient(compute(x))` no backward runs through the
 * intermediate ops (some, like `topk`, have no gradient at all).
 */
export function withoutGradient<T extends tf.Tensor>(compute: (x: tf.Tensor) => T, x: tf.Tensor): T {
  const shape = x.shape;
  const op = customGradient((_save, input: tf.Tensor) => ({
    value: compute(input),
    gradFunc: () => tf.zeros(shape),
  }));
  return op(x) as T;
}
