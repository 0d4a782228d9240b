/**
 * The gradient of `Tile` as one reduction. tfjs-core's adds one slice of dy
 * per repetition (a `Slice` and an `Add` kernel per copy: a class token or a
 * positional embedding tiled over a batch of 256 costs 512 kernel calls in
 * the backward pass); the same sum is a reshape of dy to
 * `[r0, x0, r1, x1, …]` and one `Sum` over the repetition axes. Registered
 * for every backend (it is plain tfjs ops), for any rank; the sums run in
 * another order than tfjs's, so results agree to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `dx` of `tile(x, reps)` from `dy`: Σ over the copies. */
export function tileGrad(dy: tf.Tensor, xShape: readonly number[], reps: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const shape: number[] = [];
    const axes: number[] = [];
    xShape.forEach((d, i) => {
      const r = reps[i] ?? 1;
      if (r > 1) {
        axes.push(shape.length);
        shape.push(r);
      }
      if (d !== 1 || r === 1) shape.push(d);
    });
    if (axes.length === 0) return tf.reshape(dy, [...xShape]);
    return tf.reshape(tf.sum(tf.reshape(dy, shape), axes), [...xShape]);
  });
}

/** Gradient config for `Tile`. */
export const tileGradConfig: tf.GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const reps = attrs['reps'] as number[];
    return { x: () => tileGrad(dy as tf.Tensor, x.shape, reps) };
  },
};
