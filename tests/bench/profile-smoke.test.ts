/**
 * The whole-step fixtures (bench/lib/steps.ts) and the kernel profiler
 * (bench/lib/kernel-timer.ts) behind `npm run bench:profile` and the `step`
 * group of `npm run bench`: every step builds and runs on a small batch, the
 * profiler attributes kernels to the phases of a step, keeps selfsup's fused
 * paths (a wrapped kernel still counts as selfsup's), and puts the kernels
 * back. No timing is asserted.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, useBackend } from 'selfsup';
import { kernelStats, markOptimizer, resetKernelStats, startKernelTimer, stopKernelTimer } from '../../bench/lib/kernel-timer.js';
import { benchImages, ENCODER_STEPS, makeStep, METHOD_STEPS } from '../../bench/lib/steps.js';

const hasData = existsSync(`${DEBIAN_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

describe.skipIf(!hasData && !process.env.CI)('whole-step fixtures and kernel profiler', () => {
  let images: tf.Tensor4D;
  beforeAll(async () => {
    await useBackend('wasm');
    images = benchImages(8);
  });
  afterAll(() => images.dispose());

  for (const name of [...METHOD_STEPS, ...ENCODER_STEPS]) {
    it(`${name}: a step runs, returns a finite loss and leaks nothing after the first`, () => {
      const fixture = makeStep(name, images);
      try {
        expect(Number.isFinite(fixture.step())).toBe(true);
        const before = tf.memory().numTensors;
        fixture.step();
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        fixture.dispose();
      }
    });
  }

  it('attributes kernels to augmentation, forward, backward and optimizer, then restores the kernels', () => {
    const original = tf.getKernel('SelfsupBatchNormTrain', 'wasm')!.kernelFunc;
    const fixture = makeStep('simclr', images);
    const unmark = markOptimizer(fixture.optimizer);
    startKernelTimer('wasm');
    try {
      fixture.step();
      resetKernelStats();
      fixture.step();
      const stats = kernelStats();
      const phases = new Set(stats.map((s) => s.phase));
      expect([...phases].sort()).toEqual(['augment', 'backward', 'forward', 'optimizer']);
      const names = (phase: string) => stats.filter((s) => s.phase === phase).map((s) => s.kernel);
      // The fused paths still run under the profiler's wrappers.
      expect(names('forward')).toContain('SelfsupBatchNormTrain');
      expect(names('backward')).toEqual(expect.arrayContaining(['SelfsupBatchNormTrainGrad', 'SelfsupReluGrad']));
      expect(names('optimizer')).toContain('SelfsupAdam');
      expect(stats.every((s) => s.calls > 0 && s.ms >= 0 && s.cpuMs >= 0)).toBe(true);
    } finally {
      stopKernelTimer('wasm');
      unmark();
      fixture.dispose();
    }
    expect(tf.getKernel('SelfsupBatchNormTrain', 'wasm')!.kernelFunc).toBe(original);
  });
});
