import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { cosineSchedule, momentumSchedule, setLearningRate, teacherTemperatureSchedule, useBackend } from 'selfsup';

describe('cosineSchedule', () => {
  it('linear warm-up, then half a cosine to the final value, then constant', () => {
    const lr = cosineSchedule({ base: 1, totalSteps: 110, warmupSteps: 10, warmupStart: 0.1, final: 0.01 });
    expect(lr(0)).toBeCloseTo(0.1, 12);
    expect(lr(5)).toBeCloseTo(0.55, 12);
    expect(lr(10)).toBeCloseTo(1, 12);
    expect(lr(60)).toBeCloseTo(0.01 + 0.99 / 2, 12); // halfway through the cosine
    expect(lr(35)).toBeCloseTo(0.01 + (0.99 * (1 + Math.cos(Math.PI / 4))) / 2, 12);
    expect(lr(110)).toBeCloseTo(0.01, 12);
    expect(lr(500)).toBe(0.01);
    expect(lr(10.5)).toBeLessThan(1); // fractional steps (epochs) work
    // Monotone after the warm-up.
    for (let k = 11; k <= 110; k++) expect(lr(k)).toBeLessThanOrEqual(lr(k - 1));
  });

  it('without warm-up starts at base; warm-up = total steps ends at base then drops to final', () => {
    const lr = cosineSchedule({ base: 0.5, totalSteps: 4 });
    expect([lr(0), lr(1), lr(2), lr(3), lr(4)].map((v) => +v.toFixed(12))).toEqual([0.5, 0.426776695297, 0.25, 0.073223304703, 0]);
    const w = cosineSchedule({ base: 2, totalSteps: 4, warmupSteps: 4 });
    expect([w(0), w(2), w(4)]).toEqual([0, 1, 0]);
  });

  it('explains bad options and steps', () => {
    expect(() => cosineSchedule({ base: 1, totalSteps: 0 })).toThrow('cosineSchedule: options.totalSteps must be a finite number > 0, got 0');
    expect(() => cosineSchedule({ base: 1, totalSteps: 10, warmupSteps: 11 })).toThrow(
      'cosineSchedule: options.warmupSteps must be ≤ options.totalSteps (10), got 11',
    );
    expect(() => cosineSchedule({ totalSteps: 10 } as never)).toThrow('cosineSchedule: options.base must be a finite number, got undefined');
    expect(() => cosineSchedule({ base: 1, totalSteps: 10, warmup: 1 } as never)).toThrow(/options.warmup must be one of the known options/);
    const lr = cosineSchedule({ base: 1, totalSteps: 10 });
    expect(() => lr(-1)).toThrow('cosineSchedule: step must be a finite number ≥ 0, got -1');
    expect(() => lr(NaN)).toThrow('cosineSchedule: step must be a finite number, got NaN');
  });
});

describe('momentumSchedule', () => {
  it("is BYOL's τ = 1 − (1 − τ_base)(cos(πk/K) + 1)/2", () => {
    const tau = momentumSchedule({ totalSteps: 300 });
    for (const k of [0, 1, 75, 150, 299, 300]) {
      expect(tau(k)).toBeCloseTo(1 - ((1 - 0.996) * (Math.cos((Math.PI * k) / 300) + 1)) / 2, 14);
    }
    expect(tau(0)).toBeCloseTo(0.996, 14);
    expect(tau(300)).toBe(1);
    expect(tau(1000)).toBe(1);
    expect(momentumSchedule({ totalSteps: 10, base: 0.99, final: 0.999 })(10)).toBeCloseTo(0.999, 14);
    expect(() => momentumSchedule({ totalSteps: 10, base: 1.2 })).toThrow('momentumSchedule: options.base must be a momentum in [0, 1], got 1.2');
  });
});

describe('teacherTemperatureSchedule', () => {
  it("is DINO's linear warm-up from 0.04 to 0.07, then constant", () => {
    const temp = teacherTemperatureSchedule({ warmupSteps: 30 });
    expect(temp(0)).toBeCloseTo(0.04, 14);
    expect(temp(10)).toBeCloseTo(0.05, 14);
    expect(temp(30)).toBeCloseTo(0.07, 14);
    expect(temp(100)).toBe(0.07);
    expect(teacherTemperatureSchedule({ warmupSteps: 0, final: 0.04 })(0)).toBe(0.04);
    expect(() => teacherTemperatureSchedule({ warmupSteps: 5, start: 0 })).toThrow(
      'teacherTemperatureSchedule: options.start must be a finite number > 0, got 0',
    );
  });
});

describe('setLearningRate', () => {
  it('drives SGD, momentum and Adam (the step size follows the new rate)', async () => {
    await useBackend('cpu');
    for (const make of [() => tf.train.sgd(1), () => tf.train.momentum(1, 0), () => tf.train.adam(1)]) {
      const opt = make();
      const w = tf.variable(tf.scalar(0));
      setLearningRate(opt, 0.25);
      opt.minimize(() => tf.mul(w, 2) as tf.Scalar, false, [w]); // gradient 2
      const moved = Math.abs(w.dataSync()[0]!);
      // SGD / momentum: 0.25·2 = 0.5; Adam's first step moves by ≈ lr.
      expect(moved).toBeCloseTo(opt.getClassName() === 'Adam' ? 0.25 : 0.5, 3);
      opt.dispose();
      w.dispose();
    }
    expect(() => setLearningRate(tf.train.sgd(1), -1)).toThrow('setLearningRate: learningRate must be a finite number ≥ 0, got -1');
    expect(() => setLearningRate({} as tf.Optimizer, 0.1)).toThrow(/setLearningRate: optimizer must be a tfjs optimizer with a learning rate/);
  });
});
