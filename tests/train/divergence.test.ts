/**
 * Divergence is flagged as it happens (issue 16, reproduction 3): a finite
 * blow-up (VICReg at Adam lr 10: 20.9 → 1.2e15), a gradient-norm explosion
 * and a loss pinned at its collapse value (SimCLR at SGD lr 1e8: exactly
 * ln(2N − 1)) raise a warning naming the step; healthy runs raise none; the
 * loop skips refused steps when asked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimCLR, TrainingMonitor, VICReg, mlpEncoder, trainLoop, useBackend, type TrainWarning } from 'selfsup';

describe('TrainingMonitor: divergence and pinned loss', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('flags a loss growing by orders of magnitude, with the step, once', () => {
    const monitor = new TrainingMonitor({ divergence: { window: 10 } });
    const kinds: [string, number][] = [];
    for (let step = 0; step < 30; step++) {
      const loss = step < 15 ? 20 - step * 0.1 : 20 * 10 ** (step - 14);
      for (const w of monitor.record(loss).warnings) kinds.push([w.kind, w.step]);
    }
    expect(kinds.filter(([k]) => k === 'diverging-loss')).toEqual([['diverging-loss', 16]]);
    expect(monitor.warnings[0]!.message).toMatch(/^step 16: the loss grew from about 19\.\d+ to 2000 within 10 steps/);
  });

  it('flags a gradient-norm explosion and a non-finite gradient norm', () => {
    const monitor = new TrainingMonitor({ divergence: { window: 6 } });
    const seen: TrainWarning[] = [];
    const norms = [1, 1.2, 0.9, 1.1, 1, 1, 1.05, 5e3, 1, 1, Infinity];
    norms.forEach((g) => seen.push(...monitor.record(1, { gradientNorm: g }).warnings));
    expect(seen.map((w) => [w.kind, w.step])).toEqual([
      ['exploding-gradient', 7],
      ['exploding-gradient', 10],
    ]);
  });

  it('flags a loss pinned at ln K, naming K', () => {
    const monitor = new TrainingMonitor({ divergence: { pinnedPatience: 5 } });
    const found: TrainWarning[] = [];
    for (let i = 0; i < 10; i++) found.push(...monitor.record(i < 3 ? 3 + i : Math.log(127)).warnings);
    expect(found.map((w) => [w.kind, w.step])).toEqual([['pinned-loss', 8]]);
    expect(found[0]!.message).toContain('= ln 127 (uniform output over 127 choices)');
  });

  it('a healthy, noisy, decreasing loss raises nothing', () => {
    const monitor = new TrainingMonitor({ divergence: { window: 20 } });
    for (let i = 0; i < 300; i++) monitor.record(5 * Math.exp(-i / 50) + 0.3 * Math.sin(i) + 0.5, { gradientNorm: 1 + Math.abs(Math.sin(i * 7)) * 20 });
    expect(monitor.warnings).toEqual([]);
  });

  it('VICReg at Adam lr 10 diverges and is flagged with the step (finite blow-up)', async () => {
    const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
    const task = new VICReg(encoder, { projectionDim: 16, learningRate: 10, seed: 1 });
    const images = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const result = await trainLoop({
      steps: 60,
      step: () => ({ loss: task.step(images), gradientNorm: task.lastGradientNorm }),
      divergence: { window: 10 },
      onNonFiniteLoss: 'stop',
    });
    const warning = result.warnings.find((w) => w.kind === 'diverging-loss' || w.kind === 'exploding-gradient');
    expect(warning, `losses ${result.losses.slice(0, 60).map((l) => l.toExponential(1)).join(' ')}`).toBeDefined();
    expect(warning!.message).toMatch(/^step \d+: /);
    tf.dispose(images);
    task.dispose();
    encoder.dispose();
  });

  it('SimCLR at SGD lr 1e8 sits at ln(2N − 1) and is flagged with the step (its collapse value from the method)', async () => {
    const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
    const optimizer = tf.train.sgd(1e8);
    const task = new SimCLR(encoder, { projectionDim: 8, optimizer, onNonFinite: 'skip', seed: 1 });
    const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const result = await trainLoop({
      steps: 40,
      step: () => task.step(images),
      collapse: { uniformLoss: task.uniformLoss(8), patience: 10, lossTolerance: 0.02 },
      onNonFiniteLoss: 'skip',
    });
    const pinned = result.warnings.find((w) => w.kind === 'uniform-loss');
    expect(pinned, `losses ${result.losses.join(' ')}`).toBeDefined();
    expect(pinned!.reference).toBeCloseTo(Math.log(15), 6);
    expect(pinned!.message).toMatch(/^step \d+: /);
    tf.dispose(images);
    task.dispose();
    optimizer.dispose();
    encoder.dispose();
  });

  it("trainLoop with onNonFiniteLoss: 'skip' records refused steps and goes on", async () => {
    const losses = [1, NaN, 0.9, Infinity, 0.8];
    const result = await trainLoop({ steps: 5, step: (i) => losses[i]!, onNonFiniteLoss: 'skip' });
    expect(result.stopReason).toBe('completed');
    expect(result.skippedSteps).toBe(2);
    expect(result.losses).toEqual(losses);
  });
});
