/**
 * Loader throughput next to training throughput (issue 12): can imageFolder
 * keep a training loop fed?
 *
 * - Decode + resize (shorter side, centre crop) of 256×256 JPEGs to 64 and
 *   96 px, one image at a time on ONE core, for each decoder imageFolder can
 *   use: sharp (libvips, the optional dependency; its thread pool capped at
 *   one thread) and the pure-JS fallback (jpeg-js + selfsup's resampler, on
 *   the main thread). Images/s per CPU-second is the figure that counts;
 *   wall time is shown too. Baseline in the same run: torchvision's
 *   ImageFolder pipeline (PIL open + Resize + CenterCrop + ToTensor, one
 *   thread; bench/peers/loader_pil.py).
 * - The loader as training sees it: `imageFolder(…).batches({ batchSize: 256 })`
 *   drained (cache off), with its default threads.
 * - The training step it must feed: the reference encoder (convEncoder's
 *   default 32/64/128/128 net) with SimCLR at batch 256 (64 px; 64 at 96 px,
 *   where 256 exceeds wasm's 4 GiB memory), on wasm, one thread.
 * The loader must deliver ≥ 3× the images/s the step consumes.
 *
 * The JPEGs are 2×2 mosaics of crops of the vendored photographs (real
 * photographic detail at 256 px), quality 90, written to a temporary folder.
 *
 * Run: npm run bench:loader  (optional argument: images, default 128)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/use-backend.js';
import { imageFolder } from '../src/data/image-folder.js';
import { readImageHeader, type ImageHeader } from '../src/data/image-header.js';
import { createImageKernel } from '../src/data/image-kernel.js';
import { jsDecoder, loadSharp, sharpDecoder } from '../src/data/node-decoders.js';
import { convEncoder } from '../src/heads/conv-encoder.js';
import { SimCLR } from '../src/tasks/simclr.js';
import { writePhotoFolder } from '../examples/lib/photo-folder.js';
import { printTable, runPythonPeer, writeResults, type Measurement } from './lib/harness.js';

const count = Number(process.argv[2] ?? 128);
await useBackend('cpu'); // draws the crops of the test files
const SIZES = [64, 96] as const;
const dir = mkdtempSync(join(tmpdir(), 'selfsup-loader-bench-'));
const files = writePhotoFolder(dir, { perClass: Math.ceil(count / 4), size: 256, jpegShare: 1, quality: 90, seed: 0 }).slice(0, count);
const kernel = createImageKernel();
const { readFileSync } = await import('node:fs');
const headers: ImageHeader[] = files.map((f) => {
  const bytes = readFileSync(f);
  return readImageHeader(bytes, kernel.sniff(bytes)!) as ImageHeader;
});
const rows: Measurement[] = [];
const load1 = () => loadavg()[0] as number;

/** Decodes every file once, one at a time; returns wall and CPU ms per image (median of `reps` passes). */
async function perImage(decode: (i: number) => Promise<unknown>, reps = 3): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < Math.min(8, files.length); i++) await decode(i); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < files.length; i++) await decode(i);
    walls.push((performance.now() - t0) / files.length);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000 / files.length);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { wall: med(walls), cpu: med(cpus) };
}

function row(workload: string, impl: string, t: { wall: number; cpu: number }, extra: Record<string, number | string> = {}): Measurement {
  return {
    workload,
    impl,
    runs: 3,
    medianMs: t.wall,
    minMs: t.wall,
    cpuMedianMs: t.cpu,
    load1: load1(),
    extra: { imagesPerCpuSecond: Math.round(1000 / t.cpu), imagesPerSecond: Math.round(1000 / t.wall), ...extra },
  };
}

const sharp = loadSharp('bench');
if (sharp) sharp.concurrency(1); // one libvips thread per image
for (const size of SIZES) {
  const spec = { height: size, width: size, channels: 3, fit: 'cover' } as const;
  const workload = `decode+resize 256² JPEG → ${size}² (per image, one core)`;
  if (sharp) {
    const d = sharpDecoder(sharp, 1);
    rows.push(row(workload, 'sharp (libvips)', await perImage((i) => d.decode(files[i]!, headers[i]!, spec))));
  } else {
    console.log('(sharp is not installed here: its rows are skipped)');
  }
  const js = jsDecoder(0, 'bench');
  rows.push(row(workload, 'jpeg-js + selfsup resample', await perImage((i) => js.decode(files[i]!, headers[i]!, spec))));
}

const peer = runPythonPeer('loader_pil.py', [dir, String(count), SIZES.join(',')], ['PIL', 'torchvision']);
if (peer) rows.push(...peer.map((p) => ({ ...p, extra: { imagesPerCpuSecond: Math.round(1000 / p.cpuMedianMs), imagesPerSecond: Math.round(1000 / p.medianMs) } })));

// The loader as a training loop sees it: batches of 256 (cache off, so every image is decoded).
const loaderRows: Measurement[] = [];
for (const size of SIZES) {
  for (const decoder of sharp ? (['sharp', 'js'] as const) : (['js'] as const)) {
    const dataset = await imageFolder(dir, { size, decoder, cacheMegabytes: 0, onWarning: () => undefined });
    const batchSize = Math.min(256, dataset.length);
    const drain = async () => {
      for await (const batch of dataset.batches({ batchSize, seed: 0, dropLast: true })) batch.dispose();
    };
    await drain();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const passes = 3;
    for (let p = 0; p < passes; p++) await drain();
    const wall = (performance.now() - t0) / (passes * Math.floor(dataset.length / batchSize) * batchSize);
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000 / (passes * Math.floor(dataset.length / batchSize) * batchSize);
    loaderRows.push(row(`imageFolder batches, ${size}² (default threads, ${availableParallelism()} cores)`, `${decoder}`, { wall, cpu }));
    dataset.dispose();
  }
}
rows.push(...loaderRows);

// The training step the loader must feed.
// One thread, as the row says: the loader rows are per core too (since threads default to every core, a plain
// useBackend('wasm') would count the pool's spinning in the step's CPU time).
await useBackend('wasm', { threads: 1 });
const training: Record<number, number> = {};
// Batch 256 at 64 px; at 96 px a batch of 256 (two views of 512 images through a full-resolution first
// convolution) needs more than the 4 GiB a wasm32 memory can hold, so 64 there (images/s barely depends on the batch).
const TRAIN_BATCH: Record<number, number> = { 64: 256, 96: 64 };
for (const size of SIZES) {
  const batch = TRAIN_BATCH[size]!;
  const encoder = convEncoder({ inputShape: [size, size, 3], seed: 0 });
  const task = new SimCLR(encoder, { seed: 1 });
  const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  task.step(images); // warm-up (kernel compilation, optimizer slots)
  const steps = 2;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) task.step(images);
  const wall = (performance.now() - t0) / steps / batch;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000 / steps / batch;
  training[size] = 1000 / wall;
  rows.push(row(`training step: convEncoder + SimCLR, batch ${batch}, ${size}²`, 'selfsup wasm (1 thread)', { wall, cpu }));
  images.dispose();
  task.dispose();
  encoder.dispose();
}

// Ratios compare CPU time with CPU time: on a shared machine wall time mostly measures the other jobs, and
// both sides here run on one core (sharp capped at one thread, jpeg-js on the main thread, wasm single-threaded).
const trainingPerCpuSecond: Record<number, number> = {};
for (const r of rows.filter((x) => x.workload.startsWith('training'))) {
  const size = SIZES.find((s) => r.workload.includes(`${s}²`))!;
  trainingPerCpuSecond[size] = 1000 / r.cpuMedianMs;
}
const notes: Record<string, string> = {};
for (const r of rows) {
  const size = SIZES.find((s) => r.workload.includes(`${s}²`));
  if (size === undefined) continue;
  const rate = 1000 / r.cpuMedianMs;
  notes[`${r.workload}|${r.impl}`] = r.workload.startsWith('training')
    ? `${Math.round(rate)} img/s per CPU-s (${(1000 / r.medianMs).toFixed(1)} wall)`
    : `${Math.round(rate)} img/s per CPU-s = ${(rate / trainingPerCpuSecond[size]!).toFixed(1)}× training`;
}
printTable(rows, notes);
console.log(`\n${count} files; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ratios: images per CPU-second of the loader ÷ of the training step`);
const path = writeResults('loader', { files: count, rows, notes, trainingImagesPerSecond: training, trainingImagesPerCpuSecond: trainingPerCpuSecond });
console.log(`results: ${path}`);
rmSync(dir, { recursive: true, force: true });
