/**
 * Never poisoned (issue 16): every method refuses a batch with a NaN pixel
 * before any work, and refuses a step whose loss or gradient is not finite
 * before the update, leaving every variable (weights, batch-norm statistics,
 * optimizer slots, EMA targets, queues) bit-for-bit as it was — fingerprinted
 * before and after; `onNonFinite: 'skip'` skips and counts; `stepAsync`
 * gives the same results with one asynchronous read and rolls back the same
 * way; `dispose()` is idempotent and a disposed method says so.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, NonFiniteError, ValueRangeError, SelfsupError, trainLoop, useBackend } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { ALL_TASKS, liveVariableNames, stateFingerprint, type BuiltTask } from './all-tasks.js';

function withNaN(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const data = images.dataSync().slice();
    data[5] = NaN;
    return tf.tensor4d(data, images.shape);
  });
}

/** Sets one weight of the encoder to ∞: the next forward pass gives a NaN loss (a stand-in for divergence). */
function poison(built: BuiltTask): tf.Tensor {
  const original = tf.clone(built.firstWeight);
  tf.tidy(() => {
    const data = built.firstWeight.dataSync().slice();
    data[0] = Infinity;
    built.firstWeight.assign(tf.tensor(data, built.firstWeight.shape));
  });
  return original;
}

describeBackends('guarded steps of every method', (backend) => {
  for (const c of ALL_TASKS) {
    describe(c.name, () => {
      it('refuses a NaN batch before any work and a NaN step before the update; skip counts; the method goes on', () => {
        const built = c.build();
        const { task, images, paired } = built;
        try {
          task.step(images, paired); // optimizer slots, queues and targets now hold values
          task.step(images, paired);
          const steps = task.steps;
          // Issue 16, reproduction 2: a batch with one NaN pixel poisoned the weights of the non-joint tasks.
          const bad = withNaN(images);
          const before = stateFingerprint();
          const tensors = tf.memory().numTensors;
          expect(() => task.step(bad, paired)).toThrow(ValueRangeError);
          expect(() => task.step(bad, paired)).toThrow(`${task.name}.step: images must have pixel values in [0, 1], got NaN or infinite values`);
          expect(tf.memory().numTensors).toBe(tensors);
          expect(stateFingerprint()).toBe(before);
          bad.dispose();

          // A non-finite loss (an ∞ weight here; divergence in practice) is caught before the update.
          const original = poison(built);
          const poisoned = stateFingerprint();
          let error: unknown;
          try {
            task.step(images, paired);
          } catch (e) {
            error = e;
          }
          expect(error, `${c.name} on ${backend}`).toBeInstanceOf(NonFiniteError);
          const e = error as NonFiniteError;
          expect(e.step).toBe(steps);
          expect(e.message).toContain(`${task.name}.step: step ${steps} was not applied`);
          expect(e.message).toMatch(/the loss is (NaN|Infinity|-Infinity)|a gradient holds NaN|gradient norm overflows|features of the clustering memory are not finite/);
          expect(stateFingerprint()).toBe(poisoned);
          expect(task.steps).toBe(steps);
          expect(tf.memory().numTensors).toBe(tensors); // − the NaN batch, + the saved weight
          built.firstWeight.assign(original);
          original.dispose();
          // The backend and the method are fine: the next step trains.
          expect(Number.isFinite(task.step(images, paired))).toBe(true);
          expect(task.steps).toBe(steps + 1);
        } finally {
          built.dispose();
        }
      });

      it("onNonFinite: 'skip' skips the batch, counts it and leaves the state as it was", () => {
        const built = c.build({ onNonFinite: 'skip' });
        const { task, images, paired } = built;
        try {
          task.step(images, paired);
          const original = poison(built);
          const poisoned = stateFingerprint();
          task.step(images, paired);
          expect(task.skippedSteps).toBe(1);
          expect(task.steps).toBe(1);
          expect(stateFingerprint()).toBe(poisoned);
          built.firstWeight.assign(original);
          original.dispose();
          expect(Number.isFinite(task.step(images, paired))).toBe(true);
          expect(task.steps).toBe(2);
        } finally {
          built.dispose();
        }
      });

      it('stepAsync gives the losses of step, and rolls a refused step back (even the first)', async () => {
        const a = c.build();
        const b = c.build();
        try {
          for (let i = 0; i < 2; i++) {
            const sync = a.task.step(a.images, a.paired);
            const asyncLoss = await b.task.stepAsync(b.images, b.paired);
            expect(asyncLoss).toBeCloseTo(sync, 5);
          }
          expect(b.task.steps).toBe(2);
        } finally {
          a.dispose();
          b.dispose();
        }
        // A refused first step: the optimizer's slots are created, then everything is rolled back.
        // (New optimizer slots appear, at their initial values: only the variables that existed are compared.)
        const fresh = c.build();
        try {
          const bad = withNaN(fresh.images);
          const names = liveVariableNames();
          const before = stateFingerprint(names);
          await expect(fresh.task.stepAsync(bad, fresh.paired)).rejects.toThrow(ValueRangeError);
          bad.dispose();
          expect(stateFingerprint(names)).toBe(before);
          const original = poison(fresh);
          const poisoned = stateFingerprint(names);
          await expect(fresh.task.stepAsync(fresh.images, fresh.paired)).rejects.toThrow(NonFiniteError);
          expect(stateFingerprint(names)).toBe(poisoned);
          expect(fresh.task.steps).toBe(0);
          fresh.firstWeight.assign(original);
          original.dispose();
          expect(Number.isFinite(await fresh.task.stepAsync(fresh.images, fresh.paired))).toBe(true);
        } finally {
          fresh.dispose();
        }
      });

      it('dispose() is idempotent; a disposed method throws a DisposedError naming the call', async () => {
        const built = c.build();
        const { task, images, paired } = built;
        built.dispose();
        expect(() => task.dispose()).not.toThrow();
        expect(() => task.step(images, paired)).toThrow(DisposedError);
        expect(() => task.step(images, paired)).toThrow(`${task.name}.step: this must not be disposed`);
        expect(() => task.embed(images)).toThrow(DisposedError);
        await expect(task.stepAsync(images, paired)).rejects.toThrow(DisposedError);
        expect(task.isDisposed).toBe(true);
      });
    });
  }
});

describe('trainLoop over a guarded method', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('no longer applies a NaN update before throwing (issue 16, reproduction 3)', async () => {
    const built = ALL_TASKS.find((c) => c.name === 'SimCLR')!.build();
    try {
      const original = poison(built);
      const names = liveVariableNames(); // (the method's Adam is created by its first step)
      const before = stateFingerprint(names);
      await expect(trainLoop({ steps: 3, step: () => built.task.step(built.images) })).rejects.toThrow(NonFiniteError);
      expect(stateFingerprint(names)).toBe(before);
      built.firstWeight.assign(original);
      original.dispose();
    } finally {
      built.dispose();
    }
  });

  it('errors from a step are SelfsupErrors', () => {
    const built = ALL_TASKS[0]!.build();
    try {
      expect(() => built.task.step(tf.zeros([4, 3]) as never)).toThrow(SelfsupError);
    } finally {
      built.dispose();
    }
  });
});
