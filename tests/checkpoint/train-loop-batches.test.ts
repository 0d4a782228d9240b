/**
 * trainLoop with `batches` (a dataset's stream) and `checkpoint`: the stream's
 * position saved in `extra` makes a resumed run see exactly the batches of an
 * uninterrupted one, and the end of the data saves like the last step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint, encodeCheckpoint, mlpEncoder, SimCLR, tensorDataset, trainLoop, useBackend, type CheckpointData } from 'selfsup';
import type { BatchStream, BatchStreamState } from 'selfsup/data';
import { beforeAll, expect, it } from 'vitest';

beforeAll(async () => {
  await useBackend('wasm');
});

it('a run resumed from a checkpoint with the stream position continues exactly; the end of the data saves', async () => {
  const start = tf.memory().numTensors;
  const images = tf.randomUniform([20, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const data = tensorDataset(images);
  const make = (seed: number) => {
    const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed });
    return { encoder, task: new SimCLR(encoder, { projectionDim: 8, seed }) };
  };
  const train = (task: SimCLR, stream: BatchStream, startStep: number, save: (stepsDone: number) => Promise<void>) =>
    trainLoop({ steps: 100, startStep, batches: stream, step: (_, batch) => task.step(batch!.images), checkpoint: { every: 3, save } });

  // Uninterrupted: 2 epochs of 5 batches, then the data ends.
  const a = make(1);
  const streamA = data.batches({ batchSize: 4, seed: 3, epochs: 2 });
  const saved = new Map<number, CheckpointData>();
  const full = await train(a.task, streamA, 0, async (s) => void saved.set(s, await encodeCheckpoint(a.task, { extra: { data: streamA.state() } })));
  expect([full.stopReason, full.stepsRun, full.checkpoints]).toEqual(['end-of-data', 10, [3, 6, 9, 10]]);

  // Resumed from step 6 with another seed everywhere: the checkpoint and the stream state bring everything back.
  const b = make(7);
  const streamB = data.batches({ batchSize: 4, seed: 99, epochs: 2 });
  const { step, extra } = decodeCheckpoint(b.task, saved.get(6)!);
  streamB.restore((extra as { data: BatchStreamState }).data);
  const resumed = await train(b.task, streamB, step, async () => undefined);
  expect([resumed.stopReason, resumed.stepsRun]).toEqual(['end-of-data', 4]);
  expect(resumed.losses.every((l, i) => Object.is(l, full.losses[6 + i])), `${resumed.losses} vs ${full.losses.slice(6)}`).toBe(true);

  for (const run of [a, b]) {
    run.task.dispose();
    run.encoder.dispose();
  }
  data.dispose();
  images.dispose();
  expect(tf.memory().numTensors).toBe(start);
});
