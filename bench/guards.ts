/**
 * The per-step cost of the step guards (issue 16, item 2): a guarded
 * `SimCLR.step` (the batch's range check, the fused finite check of loss and
 * gradients with its one read, the zero-copy snapshot for rollback) next to
 * the same step without them (the same views drawn the same way, then
 * tfjs's `optimizer.minimize` and a read of the loss), alternating in one
 * process on the same weights and optimizer. CPU time per step, median of
 * the rounds.
 *
 * Run: npx tsx bench/guards.ts [backend=wasm] [rounds=7] [stepsPerRound=20]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/use-backend.js';
import { convEncoder } from '../src/heads/conv-encoder.js';
import { SimCLR } from '../src/tasks/simclr.js';
import { writeResults } from './lib/harness.js';

const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
const rounds = Number(process.argv[3] ?? 7);
const perRound = Number(process.argv[4] ?? 20);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = (f: () => void): number => {
  const start = process.cpuUsage();
  f();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

/** Access to the task's own pieces, for the unguarded twin of its step. */
interface Internals {
  optimizer: tf.Optimizer;
  drawViews(images: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D];
}

async function main(): Promise<void> {
  await useBackend(backend);
  const results = [];
  for (const [size, batch, channels] of [
    [16, 32, [8, 16]],
    [32, 64, [16, 32]],
  ] as const) {
    const encoder = convEncoder({ inputShape: [size, size, 3], channels: [...channels], seed: 0 });
    const task = new SimCLR(encoder, { projectionDim: 32, seed: 1 });
    const inner = task as unknown as Internals;
    const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const guarded = () => task.step(images);
    const plain = () => {
      const [v1, v2] = inner.drawViews(images);
      const cost = inner.optimizer.minimize(() => task.computeLoss(v1, v2), true, task.trainableVariables)!;
      cost.dataSync();
      tf.dispose([cost, v1, v2]);
    };
    for (let i = 0; i < 3; i++) {
      guarded();
      plain();
    }
    const g: number[] = [];
    const p: number[] = [];
    for (let r = 0; r < rounds; r++) {
      p.push(cpuMs(() => { for (let i = 0; i < perRound; i++) plain(); }) / perRound);
      g.push(cpuMs(() => { for (let i = 0; i < perRound; i++) guarded(); }) / perRound);
    }
    const row = {
      workload: `SimCLR, convEncoder ${channels.join('/')} on ${size}×${size}×3, batch ${batch}`,
      unguardedMsPerStep: Number(median(p).toFixed(2)),
      guardedMsPerStep: Number(median(g).toFixed(2)),
      overhead: Number((median(g) / median(p) - 1).toFixed(4)),
    };
    console.log(JSON.stringify(row), `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    results.push(row);
    task.dispose();
    encoder.dispose();
    images.dispose();
  }
  console.log(`wrote ${writeResults(`guards-${backend}`, { backend, rounds, perRound, unit: 'CPU ms per step (median of rounds)', results })}`);
}

await main();
