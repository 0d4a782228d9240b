/** Seeded test inputs (drawn in JavaScript, identical on every backend). */
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/core/rng.js';

/** A float32 tensor of standard normal draws (times `scale`, plus `offset`). */
export function randn(shape: number[], seed: number, scale = 1, offset = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = createRng(seed).normalArray(size, offset, scale);
  return tf.tensor(values, shape, 'float32');
}

/** A float32 `[N, D]` matrix of standard normal draws. */
export function randn2d(n: number, d: number, seed: number, scale = 1): tf.Tensor2D {
  return randn([n, d], seed, scale) as tf.Tensor2D;
}

/** A float32 tensor of uniform draws in [lo, hi). */
export function randu(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(createRng(seed).uniformArray(size, lo, hi), shape, 'float32');
}

/** The scalar value of a loss, disposing it. */
export function valueOf(t: tf.Tensor): number {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}
