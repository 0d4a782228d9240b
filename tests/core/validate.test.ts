import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DTypeError,
  InvalidArgumentError,
  SelfsupError,
  ShapeError,
  ValueRangeError,
} from '../../src/core/errors.js';
import {
  assertDtype,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertMinRank,
  assertMinSize,
  assertOneOf,
  assertPositive,
  assertProbability,
  assertRangePair,
  assertRank,
  assertSameShape,
  assertShape,
  assertTensor,
  assertValuesInRange,
  describeValue,
} from '../../src/core/validate.js';
import { useBackend } from '../../src/backend/use-backend.js';

describe('validation helpers', () => {
  const kept: tf.Tensor[] = [];
  const t = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => {
    const x = tf.zeros(shape, dtype);
    kept.push(x);
    return x;
  };
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterAll(() => tf.dispose(kept));

  it('names function, argument, expectation and actual value in the issue-2 format', () => {
    const z1 = t([256, 128]);
    const z2 = t([256, 64]);
    expect(() => assertSameShape(z2, z1, 'ntXentLoss', 'z2', 'z1', '[N, D]')).toThrow(
      'ntXentLoss: z2 must have shape [N, D] matching z1 [256, 128], got [256, 64]',
    );
  });

  it('raises the documented error classes', () => {
    try {
      assertRank(t([2, 3, 4]), 2, 'f', 'x', '[N, D]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e).toBeInstanceOf(SelfsupError);
      expect((e as Error).name).toBe('ShapeError');
      expect((e as InvalidArgumentError).functionName).toBe('f');
      expect((e as InvalidArgumentError).argument).toBe('x');
      expect((e as Error).message).toBe('f: x must be a rank-2 tensor [N, D], got rank 3 with shape [2, 3, 4]');
    }
    expect(() => assertDtype(t([2], 'int32'), 'float32', 'f', 'x')).toThrow(DTypeError);
    expect(() => assertPositive(0, 'f', 'temperature')).toThrow(ValueRangeError);
  });

  it('checks tensors, ranks and shapes', () => {
    expect(() => assertTensor([1, 2], 'f', 'x')).toThrow('f: x must be a tf.Tensor, got [1, 2]');
    const d = tf.zeros([2]);
    d.dispose();
    expect(() => assertTensor(d, 'f', 'x')).toThrow('f: x must be a live tensor, got a tensor that was already disposed');
    expect(() => assertRank(t([2]), [2, 3], 'f', 'x')).toThrow('f: x must be a tensor of rank 2 or 3, got rank 1 with shape [2]');
    expect(() => assertMinRank(tf.scalar(1), 1, 'f', 'x', '[..., D]')).toThrow(
      'f: x must be a tensor of rank ≥ 1 [..., D], got rank 0 with shape []',
    );
    expect(() => assertShape(t([2, 3]), [null, 4], 'f', 'x', '[N, 4]')).toThrow(
      'f: x must have shape [N, 4] = [?, 4], got [2, 3]',
    );
    expect(() => assertShape(t([2, 4]), [null, 4], 'f', 'x')).not.toThrow();
    expect(() => assertMinSize(t([1, 4]), 0, 2, 'vicregLoss', 'z1', 'N', 'variance needs two samples')).toThrow(
      'vicregLoss: z1 must have N ≥ 2 on axis 0 (variance needs two samples), got N = 1 in shape [1, 4]',
    );
  });

  it('checks numbers and options', () => {
    expect(() => assertPositive(-1, 'f', 'temperature')).toThrow('f: temperature must be a finite number > 0, got -1');
    expect(() => assertPositive(NaN, 'f', 'temperature')).toThrow('got NaN');
    expect(() => assertPositive(Infinity, 'f', 'temperature')).toThrow('got Infinity');
    expect(() => assertProbability(1.5, 'f', 'p')).toThrow('f: p must be a number in [0, 1], got 1.5');
    expect(() => assertInRange(1, 0, 1, 'f', 'r', [false, true])).toThrow('must be a number in [0, 1), got 1');
    expect(() => assertInteger(2.5, 'f', 'k', { min: 1 })).toThrow('f: k must be an integer ≥ 1, got 2.5');
    expect(() => assertInteger(11, 'f', 'k', { min: 1, max: 10 })).toThrow('an integer in [1, 10]');
    expect(() => assertRangePair([0.5, 0.1], 'f', 'scale', { min: 0, max: 1 })).toThrow(
      'f: scale must be a [min, max] pair with min ≤ max within [0, 1], got [0.5, 0.1]',
    );
    expect(() => assertOneOf('bn', ['batchnorm', 'unbiased'], 'f', 'standardize')).toThrow(
      "f: standardize must be one of 'batchnorm', 'unbiased', got \"bn\"",
    );
    expect(() => assertKnownOptions({ temprature: 1 }, ['temperature'], 'ntXentLoss')).toThrow(
      'ntXentLoss: options.temprature must be one of the known options (temperature), got an unknown option',
    );
    expect(() => assertKnownOptions(5, ['a'], 'f')).toThrow('f: options must be an options object, got 5');
  });

  it('checks tensor value ranges, including NaN', () => {
    const x = tf.tensor1d([0, 0.5, 1.2]);
    const n = tf.tensor1d([0, NaN]);
    kept.push(x, n);
    expect(() => assertValuesInRange(x, 0, 1, 'f', 'images', 'pixel values')).toThrow(
      'f: images must have pixel values in [0, 1], got values in [0, 1.2000000476837158]',
    );
    expect(() => assertValuesInRange(n, 0, 1, 'f', 'images')).toThrow('got NaN values');
  });

  it('describes values readably', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue('a')).toBe('"a"');
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue(t([2, 2], 'int32'))).toBe('a int32 tensor of shape [2, 2]');
    expect(describeValue({})).toBe('an object (Object)');
  });
});
