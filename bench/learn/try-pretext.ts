/**
 * `npx tsx bench/learn/try-pretext.ts [--only a,b] [--steps n] [--probe n] [--test n] [--pretrain n] [--encoder grid|gap] [--quick]`:
 * a stand-alone check of the pretext-task entries until the shared runner
 * (bench/learn.ts) lands: pretrain each entry on a fixed Fashion-MNIST
 * training subset (no labels), then linear-probe and kNN on frozen features
 * against the same reference encoder with random weights (`random-init`).
 * Writes bench/results/try-pretext.json. A benchmark, never a test.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { convEncoder, embedImages, knnClassifier, linearProbe, loadFashionMnist, tinyVit, useBackend, type ImageEncoder } from 'selfsup';
import { writeResults } from '../lib/harness.js';
import type { LearnContext } from './entry.js';
import { PRETEXT_TASK_ENTRIES } from './pretext-tasks.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const only = arg('--only')?.split(',');
const stepsOverride = arg('--steps') === undefined ? undefined : Number(arg('--steps'));
const probeSize = Number(arg('--probe') ?? 10000);
const testSize = Number(arg('--test') ?? 10000);
const pretrainSize = Number(arg('--pretrain') ?? 20000);
const encoderKind = arg('--encoder') ?? 'grid';
const seed = Number(arg('--seed') ?? 0);

await useBackend('wasm');
// The runner's protocol (bench/learn/protocol.ts on the methods branch): pretrain on training images
// [0, pretrain), probe on [0, probe) with labels, test on the official test split.
const pretrain = loadFashionMnist({ split: 'train', limit: pretrainSize });
const probe = loadFashionMnist({ split: 'train', limit: probeSize });
const test = loadFashionMnist({ split: 'test', limit: testSize });
pretrain.labels.dispose();

/**
 * The reference encoder. `grid` (default) mirrors the runner's planned
 * ENCODER_CONFIG: convolutions 32/64/128 with strides 2/2/2 and batch norm,
 * the 4×4 map average-pooled to 2×2 and flattened (512 features; convEncoder's
 * `outputGrid: 2` on the methods branch, rebuilt here from the same seeded
 * layers). `gap`: convEncoder's defaults (32/64/128/128, global pooling).
 */
function makeEncoder(s = seed): ImageEncoder {
  if (encoderKind === 'gap') return convEncoder({ inputShape: [28, 28, 1], seed: s });
  const base = convEncoder({ inputShape: [28, 28, 1], channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, seed: s });
  const input = tfl.input({ shape: [28, 28, 1] });
  let x = input;
  for (const layer of base.layers.slice(0, -1)) x = layer.apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

async function evaluate(embed: (x: tf.Tensor4D) => tf.Tensor2D): Promise<{ linearProbe: number; knn: number; embedSeconds: number }> {
  const t0 = performance.now();
  const trainF = embed(probe.images);
  const testF = embed(test.images);
  const embedSeconds = (performance.now() - t0) / 1000;
  const lp = await linearProbe(trainF, probe.labels, testF, test.labels, { seed: 0 });
  lp.weights.dispose();
  lp.bias.dispose();
  const knn = await knnClassifier(trainF, probe.labels, testF, test.labels, { k: 20 });
  tf.dispose([trainF, testF]);
  return { linearProbe: lp.accuracy, knn: knn.accuracy ?? NaN, embedSeconds };
}

interface Row {
  method: string;
  linearProbe: number;
  knn: number;
  pretrainSeconds: number;
  embedSeconds: number;
  steps: number;
  firstLoss?: number;
  lastLoss?: number;
  pretrainCpuSeconds?: number;
  evalCpuSeconds?: number;
}
const rows: Row[] = [];
const print = (r: Row) =>
  console.log(
    `${r.method.padEnd(24)} probe ${(100 * r.linearProbe).toFixed(1).padStart(5)}  knn ${(100 * r.knn).toFixed(1).padStart(5)}  ` +
      `pretrain ${r.pretrainSeconds.toFixed(1).padStart(6)}s (cpu ${(r.pretrainCpuSeconds ?? 0).toFixed(1)}s)  embed ${r.embedSeconds.toFixed(1)}s (eval cpu ${(r.evalCpuSeconds ?? 0).toFixed(1)}s)  steps ${r.steps}` +
      (r.firstLoss !== undefined ? `  loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss!.toFixed(3)}` : '') +
      `  load ${loadavg()[0]!.toFixed(2)}`,
  );

if (!only || only.includes('random-init')) {
  const encoder = makeEncoder();
  const r = await evaluate((x) => embedImages(encoder, x));
  rows.push({ method: 'random-init', ...r, pretrainSeconds: 0, steps: 0 });
  print(rows.at(-1)!);
  (encoder as unknown as { dispose(): void }).dispose();
}
if (only?.includes('random-vit') || process.argv.includes('--with-vit')) {
  const vit = tinyVit({ imageSize: 28, channels: 1, patchSize: 4, dim: 64, depth: 4, heads: 4, pool: 'mean', seed });
  const r = await evaluate((x) => embedImages(vit, x));
  rows.push({ method: 'random-init (tinyVit)', ...r, pretrainSeconds: 0, steps: 0 });
  print(rows.at(-1)!);
  vit.dispose();
}

for (const entry of PRETEXT_TASK_ENTRIES) {
  if (only && !only.includes(entry.name)) continue;
  const context: LearnContext = { seed, imageShape: [28, 28, 1], quick, makeEncoder: (s?: number) => makeEncoder(s) };
  const task = entry.build(context);
  const steps = stepsOverride ?? (quick ? entry.quickSteps : entry.steps);
  const n = pretrain.images.shape[0];
  const order = Array.from({ length: n }, (_, i) => i);
  let cursor = n;
  let firstLoss = NaN;
  let lastLoss = NaN;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let s = 0; s < steps; s++) {
    if (cursor + entry.batchSize > n) {
      // A fresh seeded shuffle each epoch.
      let x = (seed + s) * 2654435761;
      for (let i = n - 1; i > 0; i--) {
        x = (x * 1103515245 + 12345) >>> 0;
        const j = x % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      cursor = 0;
    }
    const ids = tf.tensor1d(order.slice(cursor, cursor + entry.batchSize), 'int32');
    cursor += entry.batchSize;
    const batch = tf.gather(pretrain.images, ids) as tf.Tensor4D;
    const loss = task.step(batch);
    tf.dispose([ids, batch]);
    if (s === 0) firstLoss = loss;
    lastLoss = loss;
    if (!Number.isFinite(loss)) throw new Error(`${entry.name}: non-finite loss at step ${s}`);
  }
  const pretrainSeconds = (performance.now() - t0) / 1000;
  const pretrainCpuSeconds = process.cpuUsage(cpu0).user / 1e6;
  const cpu1 = process.cpuUsage();
  const r = await evaluate((x) => task.embed(x));
  const evalCpuSeconds = process.cpuUsage(cpu1).user / 1e6;
  rows.push({ method: entry.name, ...r, pretrainSeconds, pretrainCpuSeconds, evalCpuSeconds, steps, firstLoss, lastLoss });
  print(rows.at(-1)!);
  // As the runner: the task, then its encoder.
  task.dispose();
  (task.encoder as unknown as { dispose?: () => void }).dispose?.();
}

const path = writeResults('try-pretext', { quick, encoder: encoderKind, probeSize, testSize, pretrainSize, seed, rows });
console.log(`wrote ${path}; tensors alive ${tf.memory().numTensors}`);
