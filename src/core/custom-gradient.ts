import * as tf from '@tensorflow/tfjs-core';

/** What a {@link customGradient} body returns: the value and its backward function. */
export interface CustomGradientResult {
  value: tf.Tensor;
  /** Gradients for the inputs, in order; `saved` holds what the forward passed to `save`. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * A typed front for `tf.customGrad`: `body(save, ...inputs)` computes the
 * forward value and returns an analytic backward. Used where the autodiff of
 * the naive composition is unstable (NaN at a zero norm), slow (transpose-flag
 * matMuls on wasm) or wasteful (keeps every intermediate alive).
 */
export function customGradient<A extends tf.Tensor[]>(
  body: (save: tf.GradSaveFunc, ...inputs: A) => CustomGradientResult,
): (...inputs: A) => tf.Tensor {
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return body(save, ...(args as A));
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs: A) => f(...inputs);
}
