/**
 * Augmentation and masking throughput (issue 4), next to the Python peers
 * measured in the same run (bench/peers/augment_torchvision.py):
 *
 * - simclrAugment producing two views of 256 images of 32×32×3 (CIFAR
 *   variant: no blur at 32 px) and of 64 images of 96×96×3 (with blur), on
 *   the wasm and cpu backends, vs torchvision's classic per-image PIL
 *   pipeline of SimCLR (single thread). Images/s counts source images (each
 *   yields two views). Target: ≥ 2× torchvision.
 * - MAE masking of [256, 196, 768] tokens (randomPatchMask + gatherVisible)
 *   vs PyTorch's random_masking. Target: ≤ PyTorch's time.
 *
 * Run: npm run bench:augment  (optional argument: timed runs, default 10)
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/use-backend.js';
import { simclrAugment, twoViews } from '../src/augment/index.js';
import { gatherVisible, randomPatchMask } from '../src/masking/index.js';
import { measure, printTable, runPythonPeer, writeResults, type Measurement } from './lib/harness.js';

const runs = Number(process.argv[2] ?? 10);
const rows: Measurement[] = [];
const notes: Record<string, string> = {};

const SIMCLR = [
  { batch: 256, size: 32 },
  { batch: 64, size: 96 },
] as const;
const simclrName = (b: number, s: number) => `simclrAugment two views ${b}x${s}x${s}x3`;
const MAE = 'MAE masking [256,196,768] ratio 0.75';

async function ours(backend: 'wasm' | 'cpu'): Promise<void> {
  await useBackend(backend, { threads: 1 }); // torchvision runs on one thread here too
  for (const { batch, size } of SIMCLR) {
    const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const pipeline = simclrAugment();
    let seed = 0;
    const m = await measure(simclrName(batch, size), `selfsup ${backend}`, () => {
      const views = twoViews(images, pipeline, { seed: seed++ });
      tf.dispose(views);
    }, { runs, warmup: 2 });
    m.extra = { imagesPerSecond: batch / (m.medianMs / 1000) };
    rows.push(m);
    images.dispose();
  }
  const tokens = tf.randomUniform([256, 196, 768], 0, 1, 'float32', 2) as tf.Tensor3D;
  let seed = 0;
  rows.push(
    await measure(MAE, `selfsup ${backend}`, () => {
      const { mask, idsKeep, idsRestore } = randomPatchMask(256, 196, { maskRatio: 0.75, seed: seed++ });
      const visible = gatherVisible(tokens, idsKeep);
      tf.dispose([mask, idsKeep, idsRestore, visible]);
    }, { runs, warmup: 3 }),
  );
  tokens.dispose();
  if (tf.memory().numTensors > 0) console.log(`(warning: ${tf.memory().numTensors} tensors alive after the ${backend} runs)`);
}

const peer = runPythonPeer('augment_torchvision.py', [String(runs)], ['torch', 'torchvision']);
if (peer) rows.push(...peer);
await ours('wasm');
await ours('cpu');

const find = (workload: string, impl: string) => rows.find((r) => r.workload === workload && r.impl.startsWith(impl));
const summary: Record<string, number | null> = {};
for (const { batch, size } of SIMCLR) {
  const name = simclrName(batch, size);
  const tv = find(name, 'torchvision');
  for (const backend of ['wasm', 'cpu']) {
    const r = find(name, `selfsup ${backend}`);
    if (!r) continue;
    const speedup = tv ? Math.round((tv.medianMs / r.medianMs) * 100) / 100 : null;
    summary[`${name} ${backend} speedup vs torchvision`] = speedup;
    notes[`${name}|${r.impl}`] = `${Math.round(batch / (r.medianMs / 1000))} img/s${speedup === null ? '' : `, ${speedup}× torchvision`}`;
  }
  if (tv) notes[`${name}|${tv.impl}`] = `${Math.round(batch / (tv.medianMs / 1000))} img/s`;
}
const torchMae = find(MAE, 'pytorch');
for (const backend of ['wasm', 'cpu']) {
  const r = find(MAE, `selfsup ${backend}`);
  if (!r || !torchMae) continue;
  const ratio = Math.round((r.medianMs / torchMae.medianMs) * 100) / 100;
  summary[`${MAE} ${backend} time / pytorch`] = ratio;
  notes[`${MAE}|${r.impl}`] = `${ratio}× PyTorch's time`;
}

printTable(rows, notes);
console.log(summary);
console.log(`wrote ${writeResults('augment', { rows, summary })}`);
