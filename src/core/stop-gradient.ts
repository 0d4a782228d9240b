import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';
import { assertTensor } from './validate.js';

// Built on first use: creating it at import would touch the tfjs engine.
let identityWithZeroGradient: ((x: tf.Tensor) => tf.Tensor) | undefined;

/**
 * Returns `x` unchanged in the forward pass and blocks its gradient (the
 * `detach()` / `stop_gradient` that SimSiam, BYOL and DINO put on the target
 * branch). tfjs-core has no such op.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { stopGradient } from 'selfsup';
 *
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, stopGradient(x))));
 * g(tf.tensor1d([1, 2])).print(); // [1, 2]: only the first factor is differentiated
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  assertTensor(x, 'stopGradient', 'x');
  identityWithZeroGradient ??= customGradient((_save, input: tf.Tensor) => ({
    value: tf.clone(input),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return identityWithZeroGradient(x) as T;
}
