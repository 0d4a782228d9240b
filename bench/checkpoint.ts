/**
 * `npx tsx bench/checkpoint.ts [--quick]`: how long saving and loading a
 * complete checkpoint takes (every variable, Adam's moments, the manifest with
 * its checksums; files flushed with fsync and renamed into place), next to
 * PyTorch's torch.save / torch.load of a state with the same tensor shapes,
 * written with the same guarantees, in the same run. Writes
 * bench/results/checkpoint.json. A benchmark, never a test: the load average
 * is printed with every row; compare the ratios.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  convEncoder,
  decodeCheckpoint,
  disposeTaskState,
  encodeCheckpoint,
  loadCheckpoint,
  mlpEncoder,
  saveCheckpoint,
  SimCLR,
  useBackend,
  type ImageEncoder,
} from 'selfsup';
import { measure, printTable, runPythonPeer, writeResults, type Measurement } from './lib/harness.js';

const quick = process.argv.includes('--quick');
await useBackend('wasm');
const work = mkdtempSync(join(tmpdir(), 'selfsup-bench-ckpt-'));

const SIZES: { name: string; encoder: () => ImageEncoder; shape: [number, number, number] }[] = [
  { name: 'conv encoder (32×32×3, BN)', encoder: () => convEncoder({ inputShape: [32, 32, 3], batchNorm: true, seed: 0 }), shape: [32, 32, 3] },
  { name: 'MLP encoder (32×32×3 → 2048)', encoder: () => mlpEncoder({ inputShape: [32, 32, 3], units: [2048], seed: 0 }), shape: [32, 32, 3] },
];

const rows: Measurement[] = [];
const shapes: Record<string, number[][]> = {};
for (const size of SIZES) {
  const make = () => new SimCLR(size.encoder(), { seed: 1 });
  const task = make();
  tf.tidy(() => task.step(tf.randomUniform([8, ...size.shape], 0, 1, 'float32', 1) as tf.Tensor4D)); // Adam's moments exist
  const state = task.getState();
  shapes[size.name] = Object.values(state.tensors).map((t) => [...t.shape]);
  const params = Object.values(state.tensors).reduce((s, t) => s + t.size, 0);
  disposeTaskState(state);
  const dir = join(work, size.name.replace(/\W+/g, '-'));
  const saved = await saveCheckpoint(task, dir);
  const mb = saved.bytes / 2 ** 20;
  const target = make();
  const options = quick ? { warmup: 1, runs: 3 } : { warmup: 1, runs: 5 };
  const note = { MB: Number(mb.toFixed(2)), values: params };
  const data = await encodeCheckpoint(task);
  const add = (m: Measurement) => rows.push({ ...m, extra: { ...note, 'MB/s': Number((mb / (m.medianMs / 1000)).toFixed(1)) } });
  add(await measure(`save ${size.name}`, 'selfsup saveCheckpoint', () => saveCheckpoint(task, dir), options));
  add(await measure(`load ${size.name}`, 'selfsup loadCheckpoint', () => loadCheckpoint(target, dir), options));
  add(await measure(`encode ${size.name}`, 'selfsup encodeCheckpoint (memory)', () => encodeCheckpoint(task), options));
  add(await measure(`decode ${size.name}`, 'selfsup decodeCheckpoint (memory)', () => decodeCheckpoint(target, data), options));
  task.dispose();
  target.dispose();
  (task.encoder as unknown as { dispose(): void }).dispose();
  (target.encoder as unknown as { dispose(): void }).dispose();
}

const shapesFile = join(work, 'shapes.json');
writeFileSync(shapesFile, JSON.stringify(shapes));
const peer = runPythonPeer('checkpoint_torch.py', [shapesFile, work]) ?? [];
rows.push(...peer);
rmSync(work, { recursive: true, force: true });

const ratios: Record<string, string> = {};
for (const r of rows.filter((r) => r.impl.startsWith('selfsup saveCheckpoint') || r.impl.startsWith('selfsup loadCheckpoint'))) {
  const baseline = peer.find((p) => p.workload === r.workload);
  if (baseline) ratios[`${r.workload}|${r.impl}`] = `×${(r.medianMs / baseline.medianMs).toFixed(2)} of PyTorch`;
}
printTable(rows, ratios);
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${cpus().length} cores`);
const path = writeResults('checkpoint', { rows, ratios });
console.log(`wrote ${path}`);
