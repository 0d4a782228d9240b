import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  emaUpdate,
  MemoryBank,
  momentumSchedule,
  projectionMlp,
  trainableVariables,
  trainLoop,
  TrainingMonitor,
  useBackend,
  type TrainProgress,
  type TrainWarning,
} from 'selfsup';
import { describeBackends } from '../helpers/backends.js';

describeBackends('trainLoop', (backend) => {
  it('runs a MoCo-shaped step (optimizer, EMA, queue) for 1,000 steps without leaking, reporting progress', async () => {
    const online = projectionMlp({ inputDim: 6, hiddenDim: 8, outputDim: 4, variant: 'byol', seed: 1 });
    const target = projectionMlp({ inputDim: 6, hiddenDim: 8, outputDim: 4, variant: 'byol', seed: 1 });
    const queue = new MemoryBank({ size: 32, dim: 4, seed: 2 });
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 3);
    const optimizer = tf.train.sgd(0.01);
    const vars = trainableVariables(online);
    const tau = momentumSchedule({ totalSteps: 1000 });
    const counts: number[] = [];
    const seen: TrainProgress[] = [];
    const result = await trainLoop({
      steps: 1000,
      batchSize: 8,
      progressEvery: 100,
      step: (i) => {
        const key = tf.tidy(() => target.apply(x, { training: true }) as tf.Tensor2D);
        const negatives = queue.read();
        const loss = optimizer.minimize(
          () => {
            const q = online.apply(x, { training: true }) as tf.Tensor2D;
            const pos = tf.sum(tf.mul(q, key), 1, true);
            const neg = tf.matMul(q, tf.transpose(negatives));
            return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.zeros([8], 'int32'), 33), tf.concat([pos, neg], 1)) as tf.Scalar;
          },
          true,
          vars,
        )!;
        emaUpdate(target, online, tau(i));
        queue.enqueue(key, { step: i });
        return { loss, embeddings: key };
      },
      onProgress: (p) => {
        counts.push(p.numTensors);
        seen.push(p);
      },
    });
    expect(result.stopReason).toBe('completed');
    expect(result.stepsRun).toBe(1000);
    expect(result.losses).toHaveLength(1000);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    // The tensor count is flat from the first report on: nothing accumulates.
    expect(new Set(counts).size, `${backend}: ${counts.join(', ')}`).toBe(1);
    expect(seen.map((p) => p.step)).toEqual([99, 199, 299, 399, 499, 599, 699, 799, 899, 999]);
    const last = seen.at(-1)!;
    expect(last.steps).toBe(1000);
    expect(last.samplesPerSecond).toBeCloseTo(last.stepsPerSecond * 8, 6);
    expect(last.embeddingStd).toBeGreaterThan(0);
    expect(last.etaSeconds).toBe(0);
    expect(result.samplesPerSecond).toBeGreaterThan(0);
    tf.dispose([x]);
    optimizer.dispose();
    queue.dispose();
    online.dispose();
    target.dispose();
  });

  it('is reproducible: the same seeds give the same losses', async () => {
    const run = async () => {
      const model = projectionMlp({ inputDim: 4, hiddenDim: 6, outputDim: 3, seed: 11 });
      const x = tf.tensor2d(Array.from({ length: 20 }, (_, i) => Math.sin(i)), [5, 4]);
      const opt = tf.train.adam(0.05);
      const r = await trainLoop({
        steps: 15,
        step: () => opt.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, true, trainableVariables(model))!,
      });
      opt.dispose();
      x.dispose();
      model.dispose();
      return r.losses;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a.at(-1)!).toBeLessThan(a[0]!);
  });
});

describe('trainLoop control flow', () => {
  it('stops when onProgress returns false, resumes from startStep, accepts numbers and async steps', async () => {
    await useBackend('cpu');
    const calls: number[] = [];
    const r = await trainLoop({
      steps: 10,
      step: (i) => {
        calls.push(i);
        return 1 / (i + 1);
      },
      onProgress: (p) => p.step < 3,
    });
    expect(r.stopReason).toBe('callback');
    expect(calls).toEqual([0, 1, 2, 3]);
    const resumed = await trainLoop({ steps: 10, startStep: 7, step: (i) => i });
    expect(resumed.losses).toEqual([7, 8, 9]);
    const asyncRun = await trainLoop({
      steps: 3,
      tidy: false,
      step: async (i) => {
        await new Promise((res) => setTimeout(res, 1));
        return tf.scalar(i * 2) as tf.Scalar;
      },
    });
    expect(asyncRun.losses).toEqual([0, 2, 4]);
  });

  it('a NaN loss throws naming the step, or stops', async () => {
    const nanAt = (i: number) => (i === 4 ? NaN : 1);
    await expect(trainLoop({ steps: 10, step: nanAt })).rejects.toThrow(/trainLoop: the loss at step 4 is NaN; training diverged/);
    const stopped = await trainLoop({ steps: 10, step: nanAt, onNonFiniteLoss: 'stop' });
    expect([stopped.stopReason, stopped.stepsRun]).toEqual(['non-finite-loss', 5]);
  });

  it('explains bad steps and options', async () => {
    await expect(trainLoop({ steps: 2, step: () => 'x' as never })).rejects.toThrow(
      'trainLoop: step must return a scalar tensor, a number or { loss, embeddings? }, got "x" at step 0',
    );
    await expect(trainLoop({ steps: 2, step: () => tf.ones([2]) as never })).rejects.toThrow(/step must return a scalar tensor/);
    await expect(trainLoop({ steps: 2, step: async () => 1 })).rejects.toThrow(
      /trainLoop: options.step must be synchronous when options.tidy is true/,
    );
    await expect(trainLoop({ steps: -1, step: () => 1 })).rejects.toThrow('trainLoop: options.steps must be an integer ≥ 0, got -1');
    await expect(trainLoop({ steps: 2, step: () => 1, progresEvery: 3 } as never)).rejects.toThrow(
      /options.progresEvery must be one of the known options/,
    );
  });
});

describe('TrainingMonitor', () => {
  it('warns once when the loss sits at ln K for `patience` steps, and again after it recovers and relapses', async () => {
    await useBackend('cpu');
    const uniformLoss = Math.log(255);
    const raised: TrainWarning[] = [];
    const m = new TrainingMonitor({ collapse: { uniformLoss, patience: 3 }, onWarning: (w) => raised.push(w) });
    const losses = [5.54, 5.54, 5.54, 5.54, 5.54, 3.0, 5.545, 5.545, 5.545];
    const perStep = losses.map((l) => m.record(l).warnings.length);
    expect(perStep).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(raised.map((w) => [w.kind, w.step])).toEqual([
      ['uniform-loss', 2],
      ['uniform-loss', 8],
    ]);
    expect(raised[0]!.message).toMatch(/^step 2: the loss 5.5400 sits at its uniform-output value ln K = 5.5413.*for 3 consecutive steps/);
    expect(m.warnings).toHaveLength(2);
  });

  it('checks the embedding spread when embeddings are given, and reports running statistics', () => {
    const m = new TrainingMonitor({ steps: 4, batchSize: 16, window: 2, collapse: { patience: 2 } });
    const collapsed = tf.ones([16, 8]) as tf.Tensor2D;
    const healthy = tf.eye(16, 8) as tf.Tensor2D;
    const p0 = m.record(tf.scalar(2) as tf.Scalar, { embeddings: healthy });
    expect(p0.embeddingStd).toBeCloseTo(Math.sqrt(1 / 16 / (15 / 16)) * Math.sqrt(1 - 1 / 16), 5);
    m.record(4, { embeddings: collapsed });
    m.record(6); // no embeddings: the streak neither grows nor breaks
    const p3 = m.record(8, { embeddings: collapsed });
    expect(p3.warnings.map((w) => w.kind)).toEqual(['collapsed-embeddings']);
    expect(p3.averageLoss).toBe(7); // window of 2
    expect(p3.step).toBe(3);
    expect(p3.etaSeconds).toBe(0);
    expect(p3.samplesPerSecond).toBeCloseTo(p3.stepsPerSecond * 16, 6);
    expect(m.losses).toEqual([2, 4, 6, 8]);
    expect(new TrainingMonitor({ collapse: false }).record(0, { embeddings: collapsed }).warnings).toEqual([]);
    expect(() => new TrainingMonitor({ collapse: { patience: 0 } })).toThrow(
      'TrainingMonitor: options.collapse.patience must be an integer ≥ 1, got 0',
    );
    expect(() => m.record(tf.ones([2]) as never)).toThrow('TrainingMonitor.record: loss must be a number or a scalar tensor, got a tensor of shape [2]');
    tf.dispose([collapsed, healthy]);
  });
});

describe('trainLoop checkpoints', () => {
  it('saves every N steps completed (a resumed run keeps the schedule) and at the end, once per step', async () => {
    const run = async (options: { steps: number; startStep?: number; every?: number; atEnd?: boolean }) => {
      const saved: number[] = [];
      const { steps, startStep, ...checkpoint } = options;
      const result = await trainLoop({ steps, ...(startStep !== undefined ? { startStep } : {}), step: () => 1, checkpoint: { ...checkpoint, save: (s) => void saved.push(s) } });
      expect(result.checkpoints).toEqual(saved);
      return saved;
    };
    expect(await run({ steps: 7, every: 3 })).toEqual([3, 6, 7]);
    expect(await run({ steps: 9, startStep: 4, every: 3 })).toEqual([6, 9]);
    expect(await run({ steps: 7, every: 3, atEnd: false })).toEqual([3, 6]);
    expect(await run({ steps: 5 })).toEqual([5]);
  });

  it('saves when onProgress stops the loop, never after a non-finite loss; a failing save stops the loop with its error', async () => {
    const saved: number[] = [];
    const save = (s: number) => void saved.push(s);
    const stopped = await trainLoop({ steps: 10, step: () => 1, onProgress: (p) => p.step < 3, checkpoint: { save } });
    expect([stopped.stopReason, saved]).toEqual(['callback', [4]]);
    saved.length = 0;
    const diverged = await trainLoop({ steps: 10, step: (i) => (i === 2 ? NaN : 1), onNonFiniteLoss: 'stop', checkpoint: { every: 1, save } });
    expect([diverged.stopReason, saved]).toEqual(['non-finite-loss', [1, 2]]);
    await expect(
      trainLoop({ steps: 10, step: () => 1, checkpoint: { every: 2, save: () => Promise.reject(new Error('disk full')) } }),
    ).rejects.toThrow('disk full');
  });

  it('onSignal: a SIGINT during a step ends the loop after that step, with a checkpoint; the listeners are removed', async () => {
    const listeners = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const saved: number[] = [];
    const result = await trainLoop({
      steps: 100,
      step: (i) => {
        if (i === 3) process.emit('SIGINT', 'SIGINT');
        return 1;
      },
      checkpoint: { every: 2, onSignal: true, save: async (s) => void saved.push(s) },
    });
    expect(result.stopReason).toBe('signal');
    expect(result.signal).toBe('SIGINT');
    expect(result.stepsRun).toBe(4);
    expect(saved).toEqual([2, 4]); // step 4 saved once, by the schedule
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(listeners);
    const plain = await trainLoop({ steps: 3, step: () => 1 });
    expect([plain.signal, plain.checkpoints]).toEqual([null, []]);
  });

  it('checks its checkpoint options', async () => {
    const step = () => 1;
    const save = () => undefined;
    await expect(trainLoop({ steps: 1, step, checkpoint: {} as never })).rejects.toThrow(
      'trainLoop: options.checkpoint.save must be a function (stepsDone) => void | Promise<void>, got undefined',
    );
    await expect(trainLoop({ steps: 1, step, checkpoint: { save, every: -1 } })).rejects.toThrow(
      'trainLoop: options.checkpoint.every must be an integer ≥ 0, got -1',
    );
    await expect(trainLoop({ steps: 1, step, checkpoint: { save, evry: 2 } as never })).rejects.toThrow('trainLoop: options.checkpoint');
    await expect(trainLoop({ steps: 1, step, checkpoint: 5 as never })).rejects.toThrow(
      'trainLoop: options.checkpoint must be { save, every?, atEnd?, onSignal? }, got 5',
    );
  });
});
