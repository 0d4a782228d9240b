/**
 * The progress display (a redrawn bar on a terminal, plain lines elsewhere)
 * and trainLoop fed by a dataset's batch stream.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { tensorDataset } from '../../src/data/tensor-dataset.js';
import { formatProgress, ProgressBar } from '../../src/train/progress-bar.js';
import { trainLoop } from '../../src/train/train-loop.js';
import type { TrainProgress } from '../../src/train/training-monitor.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const progress = (over: Partial<TrainProgress> = {}): TrainProgress => ({
  step: 9,
  steps: 40,
  loss: 4.1,
  averageLoss: 4.25,
  stepsPerSecond: 2,
  samplesPerSecond: 512,
  elapsedSeconds: 65,
  etaSeconds: 3725,
  numTensors: 182,
  embeddingStd: null,
  warnings: [],
  ...over,
});

describe('formatProgress', () => {
  it('shows step/total, percent, loss and its mean, images/s, elapsed, ETA and live tensors', () => {
    expect(formatProgress(progress(), { label: 'SimCLR', bar: 10 })).toBe(
      'SimCLR [###.......] 10/40 25% loss 4.1000 (avg 4.2500) 512 img/s 1m05s ETA 1h02m 182 tensors',
    );
    expect(formatProgress(progress({ steps: null, etaSeconds: null, samplesPerSecond: null }), { extras: { lr: 3e-4, phase: 'warm-up' } })).toBe(
      'step 10 loss 4.1000 (avg 4.2500) 2.00 steps/s 1m05s 182 tensors lr 3.00e-4 phase warm-up',
    );
    expect(formatProgress(progress({ loss: NaN, averageLoss: 123456 }))).toContain('loss NaN (avg 1.23e+5)');
  });
});

describe('ProgressBar', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns: 200, write: (t: string) => writes.push(t) } };
  };

  it('prints plain lines when the output is not a terminal: the first step, every logEvery steps, the last', () => {
    const { writes, stream } = sink(false);
    const bar = new ProgressBar({ steps: 10, label: 'demo', batchSize: 8, stream, logEvery: 4 });
    for (let i = 0; i < 10; i++) bar.record(1 / (i + 1));
    bar.done('finished');
    const lines = writes.join('').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['1/10', '4/10', '8/10', '10/10', undefined]);
    expect(lines.at(-1)).toBe('finished');
    expect(lines[0]).toMatch(/^demo 1\/10 10% loss 1\.0000 \(avg 1\.0000\) .* img\/s .* ETA .* \d+ tensors$/);
    for (const l of lines) expect(l).not.toContain('\r');
  });

  it('redraws one line in place on a terminal (throttled), ending with a newline', () => {
    const { writes, stream } = sink(true);
    const bar = new ProgressBar({ steps: 50, stream });
    for (let i = 0; i < 50; i++) bar.record(0.5);
    bar.done();
    expect(writes.length).toBeLessThan(10); // ten redraws a second at most, plus the last
    for (const w of writes) expect(w.startsWith('\r')).toBe(true);
    expect(writes.at(-1)).toMatch(/^\r\[#{24}\] 50\/50 100% /);
    expect(writes.at(-1)!.endsWith('\u001b[K\n')).toBe(true);
  });

  it('takes trainLoop progress through update(); a bar without a stream stays silent', async () => {
    const { writes, stream } = sink(false);
    const bar = new ProgressBar({ steps: 3, stream, logEvery: 1 });
    const w = tf.variable(tf.scalar(2));
    const optimizer = tf.train.sgd(0.1);
    await trainLoop({ steps: 3, step: () => optimizer.minimize(() => tf.square(w) as tf.Scalar, true, [w])!, onProgress: (p) => bar.update(p, { w: w.dataSync()[0]! }) });
    bar.done();
    expect(writes).toHaveLength(3);
    expect(writes[2]).toMatch(/^3\/3 100% loss .* w 1\.0240\n$/);
    w.dispose();
    optimizer.dispose();
    const silent = new ProgressBar({ steps: 2, stream: undefined });
    silent.record(1);
    silent.done();
  });

  it('checks its options', () => {
    expect(() => new ProgressBar({ steps: 0 })).toThrow(/ProgressBar: options.steps must be an integer/);
    expect(() => new ProgressBar({ mode: 'fancy' as 'bar' })).toThrow(/options.mode must be one of/);
    expect(() => new ProgressBar({ stream: {} as never })).toThrow(/options.stream must have a write\(text\) method/);
    expect(() => new ProgressBar({ colour: true } as object)).toThrow(/options.colour must be one of the known options/);
  });
});

describe('trainLoop with a batch stream', () => {
  it('passes each batch to the step, disposes it, and stops at the end of the data', async () => {
    const images = tf.randomUniform([10, 2, 2, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const dataset = tensorDataset(images, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    const before = tf.memory().numTensors;
    const seen: number[][] = [];
    const result = await trainLoop({
      steps: 100,
      batches: dataset.batches({ batchSize: 4, shuffle: false, epochs: 2 }),
      step: (_, batch) => {
        seen.push(Array.from(batch!.labels!.dataSync()));
        return tf.mean(batch!.images) as tf.Scalar;
      },
    });
    expect(result.stopReason).toBe('end-of-data');
    expect(result.stepsRun).toBe(6);
    expect(seen).toEqual([[0, 1, 0, 1], [0, 1, 0, 1], [0, 1], [0, 1, 0, 1], [0, 1, 0, 1], [0, 1]]);
    expect(tf.memory().numTensors).toBe(before);
    // steps cuts an endless stream; a plain async iterator of { images } works too.
    const endless = await trainLoop({ steps: 3, batches: dataset.batches({ batchSize: 4, epochs: Infinity, seed: 0 }), step: (_, b) => tf.sum(b!.images) as tf.Scalar });
    expect([endless.stopReason, endless.stepsRun]).toEqual(['completed', 3]);
    async function* plain() {
      for (let i = 0; i < 2; i++) yield { images: tf.zeros([1, 2, 2, 1]) as tf.Tensor4D };
    }
    const fromGenerator = await trainLoop({ steps: 5, batches: plain(), step: (_, b) => tf.sum(b!.images) as tf.Scalar });
    expect([fromGenerator.stopReason, fromGenerator.stepsRun]).toEqual(['end-of-data', 2]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainLoop({ steps: 1, batches: [] as never, step: () => 0 })).rejects.toThrow(/trainLoop: options.batches must be an async iterator/);
    images.dispose();
  });
});
