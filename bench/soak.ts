/**
 * Soak (issue 16, item 8; not CI): many steps of SimCLR and of DINO on wasm,
 * recording every `every` steps the live tensors, their bytes, the process
 * RSS and the steps/s of the last interval. Flat tensors and bytes mean no
 * leak; flat RSS, no growth outside tfjs (wasm heap included: it only grows,
 * so a leak there shows in RSS); a steady steps/s, no slowdown.
 *
 * Small on purpose (the figure that matters is the drift, not the speed): a
 * two-layer conv encoder on 16×16×1 images, batch 16, projection 16, DINO
 * with a 64-dimensional head and two 8×8 local crops.
 *
 * Run: npx tsx bench/soak.ts [steps=10000] [every=500] [methods=SimCLR,DINO]
 * (about 10–20 min on one core of the dev VM); writes bench/results/soak.json
 * and prints a table per method.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/use-backend.js';
import { convEncoder } from '../src/heads/conv-encoder.js';
import { DINO } from '../src/tasks/dino.js';
import { SimCLR } from '../src/tasks/simclr.js';
import type { BasePretextTask } from '../src/tasks/pretext-task.js';
import { writeResults } from './lib/harness.js';

interface Sample {
  step: number;
  tensors: number;
  bytes: number;
  rssMB: number;
  stepsPerSec: number;
  cpuSecondsPerStep: number;
  loss: number;
}

const steps = Number(process.argv[2] ?? 10_000);
const every = Number(process.argv[3] ?? 500);
const methods = (process.argv[4] ?? 'SimCLR,DINO').split(',');
const IMAGE: [number, number, number] = [16, 16, 1];
const BATCH = 16;

function build(name: string): BasePretextTask {
  const encoder = convEncoder({ inputShape: IMAGE, channels: [8, 16], seed: 0 });
  if (name === 'SimCLR') return new SimCLR(encoder, { projectionDim: 16, learningRate: 1e-3, seed: 1 });
  if (name === 'DINO') {
    return new DINO(encoder, { outputDim: 64, hiddenDim: 32, bottleneckDim: 16, localCrops: 2, localCropSize: 8, totalSteps: steps, seed: 1 });
  }
  throw new Error(`unknown method ${name}`);
}

async function soak(name: string): Promise<{ method: string; samples: Sample[]; drift: Record<string, number> }> {
  const task = build(name);
  // A fixed pool of images; each step takes a batch of it (the pool and the batch are the only inputs kept).
  const pool = tf.randomUniform([256, ...IMAGE], 0, 1, 'float32', 7) as tf.Tensor4D;
  const samples: Sample[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let loss: number;
  for (let s = 1; s <= steps; s++) {
    const start = ((s - 1) * BATCH) % 256;
    const batch = tf.slice(pool, [start, 0, 0, 0], [BATCH, ...IMAGE]) as tf.Tensor4D;
    loss = task.step(batch);
    batch.dispose();
    if (s % every === 0) {
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      const m = tf.memory();
      const sample: Sample = {
        step: s,
        tensors: m.numTensors,
        bytes: m.numBytes,
        rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
        stepsPerSec: Number(((every * 1000) / (now - last)).toFixed(2)),
        cpuSecondsPerStep: Number(((cpu.user + cpu.system) / 1e6 / every).toFixed(4)),
        loss: Number(loss.toFixed(4)),
      };
      samples.push(sample);
      console.log(`${name} ${JSON.stringify(sample)} load ${loadavg()[0]!.toFixed(2)}`);
      last = performance.now();
      lastCpu = process.cpuUsage();
    }
  }
  task.dispose();
  (task.encoder as unknown as { dispose(): void }).dispose();
  pool.dispose();
  // Drift from the first sample (the optimizer's slots and targets exist from step 1) to the last.
  const first = samples[0]!;
  const end = samples[samples.length - 1]!;
  const drift = {
    tensors: end.tensors - first.tensors,
    bytes: end.bytes - first.bytes,
    rssMB: end.rssMB - first.rssMB,
    stepsPerSecRatio: Number((end.stepsPerSec / first.stepsPerSec).toFixed(3)),
  };
  return { method: name, samples, drift };
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const results = [];
  for (const name of methods) {
    const r = await soak(name);
    console.log(`${name}: drift over ${steps} steps ${JSON.stringify(r.drift)}`);
    results.push(r);
  }
  const path = writeResults(steps === 10_000 ? 'soak' : `soak-${steps}`, { backend: tf.getBackend(), steps, every, batch: BATCH, image: IMAGE, results });
  console.log(`wrote ${path}`);
}

await main();
