import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError } from '../../src/core/errors.js';
import { backendInfo, useBackend } from '../../src/backend/use-backend.js';

describe('useBackend', () => {
  it('readies wasm with SIMD and gradients in Node', async () => {
    const info = await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info).toMatchObject({ backend: 'wasm', simd: true, gradients: true, environment: 'node' });
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(backendInfo()).toEqual(info);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.exp(x)))(tf.tensor1d([0, 1]));
    expect(Array.from(g.dataSync())[1]).toBeCloseTo(Math.E, 5);
  });

  it('readies cpu', async () => {
    const info = await useBackend('cpu');
    expect(info).toMatchObject({ backend: 'cpu', simd: null, threads: 1, gradients: true });
    expect(info.tfjsVersion).toMatch(/^4\./);
  });

  it('is idempotent and can switch back and forth', async () => {
    await useBackend('wasm');
    await useBackend('cpu');
    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('explains unknown backends and bad options', async () => {
    await expect(useBackend('no-such-backend')).rejects.toThrow(BackendError);
    await expect(useBackend('no-such-backend')).rejects.toThrow("no tfjs backend named 'no-such-backend'");
    await expect(useBackend('cpu', { threads: 0 })).rejects.toThrow(
      'useBackend: options.threads must be an integer ≥ 1, got 0',
    );
    await expect(useBackend('cpu', { thread: 2 } as never)).rejects.toThrow('options.thread');
    await expect(useBackend('' as never)).rejects.toThrow("useBackend: name must be a backend name");
  });
});
