import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { l2Normalize } from '../../src/core/normalize.js';
import { stopGradient } from '../../src/core/stop-gradient.js';
import { describeBackends } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';

describeBackends('l2Normalize', () => {
  it('matches x / max(‖x‖, eps) row-wise, leaving zero rows at zero', () => {
    const x = tf.tensor2d([[3, 4], [0, 0], [1e4, 0]]);
    const y = expectNoLeak(() => l2Normalize(x));
    expectClose(y, [[0.6, 0.8], [0, 0], [1, 0]]);
    tf.dispose([x, y]);
  });

  it('normalises the last axis of higher-rank tensors', () => {
    const x = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 1);
    const y = l2Normalize(x);
    expectClose(tf.tidy(() => tf.sum(tf.square(y), -1)), new Array(6).fill(1), { rtol: 1e-5 });
    tf.dispose([x, y]);
  });

  it('has the analytic gradient (finite differences) and a finite one at zero', () => {
    const x = tf.tensor2d([[0.3, -1.2, 0.5], [2, 0.1, -0.4]]);
    const w = tf.tensor2d([[1, 2, -1], [0.5, -0.3, 2]]);
    checkGradients((a) => tf.sum(tf.mul(l2Normalize(a), w)), [x], { step: 1e-2 });
    const zero = tf.zeros([1, 3]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(l2Normalize(a), tf.ones([1, 3]))))(zero);
    expectFinite(g, 'gradient at a zero vector');
    tf.dispose([x, w, zero, g]);
  });

  it('rejects bad input', () => {
    expect(() => l2Normalize(tf.scalar(1))).toThrow(
      'l2Normalize: x must be a tensor of rank ≥ 1 [..., D], got rank 0 with shape []',
    );
    expect(() => l2Normalize(tf.ones([2, 2]), { eps: 0 })).toThrow(
      'l2Normalize: options.eps must be a finite number > 0, got 0',
    );
    expect(() => l2Normalize(tf.ones([2, 2], 'int32'))).toThrow('l2Normalize: x must have dtype float32, got int32');
  });
});

describeBackends('stopGradient', () => {
  it('passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, stopGradient(a))))(x);
    expectClose(g, [1, 2]);
    const y = expectNoLeak(() => stopGradient(x));
    expectClose(y, [1, 2]);
    tf.dispose([x, g, y]);
  });
});
