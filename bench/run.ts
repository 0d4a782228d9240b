/**
 * `npm run bench [-- --only conv,encoder] [--quick] [--threads 1,2]`: runs the benchmark
 * modules of bench/workloads/, prints one table with the ratios measured in
 * this run, and writes bench/results/bench.json (bench-<groups>.json for a
 * partial run). Never a test: timings depend
 * on what else runs on the machine, so the load average is printed with every
 * row, and ratios (same run, side by side) are what to compare.
 *
 * Adding a workload: write a module exporting a `WorkloadGroup`
 * (bench/lib/workload.ts) and list it in GROUPS.
 */
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/use-backend.js';
import { printTable, writeResults, type Measurement } from './lib/harness.js';
import type { Comparison, GroupResult, WorkloadGroup } from './lib/workload.js';
import { auditGroup } from './workloads/audit.js';
import { convGroup } from './workloads/conv.js';
import { encoderGroup } from './workloads/encoder.js';
import { kmeansGroup } from './workloads/kmeans.js';
import { lossesGroup } from './workloads/losses.js';
import { stepGroup } from './workloads/step.js';
import { threadsGroup } from './workloads/threads.js';

const GROUPS: WorkloadGroup[] = [convGroup, encoderGroup, auditGroup, lossesGroup, kmeansGroup, stepGroup, threadsGroup];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Ratio extends Comparison {
  median: number;
  min: number;
  /** On median process CPU time: the least disturbed by other jobs (at one thread; with more, it also counts the threads' spinning). */
  cpu: number;
}

function findRow(rows: Measurement[], workload: string, impl: string): Measurement | undefined {
  return rows.find((r) => r.workload === workload && (r.impl === impl || r.impl.startsWith(`${impl} (`)));
}

function ratios(rows: Measurement[], comparisons: Comparison[]): Ratio[] {
  const out: Ratio[] = [];
  for (const c of comparisons) {
    const s = findRow(rows, c.workload, c.subject);
    const b = findRow(rows, c.baselineWorkload ?? c.workload, c.baseline);
    if (!s || !b) continue;
    out.push({ ...c, median: s.medianMs / b.medianMs, min: s.minMs / b.minMs, cpu: s.cpuMedianMs / b.cpuMedianMs });
  }
  return out;
}

/** ×0.31 for ratios near 1; ×1/1081 for large speed-ups, which two decimals would round to ×0.00. */
function formatRatio(r: number): string {
  return r >= 0.1 ? `×${r.toFixed(2)}` : `×1/${(1 / r).toFixed(0)}`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = arg('--only')?.split(',');
  const groups = GROUPS.filter((g) => !only || only.includes(g.name));
  const options = quick ? { warmup: 1, runs: 3 } : { warmup: 3, runs: 10 };
  // Thread counts for the groups that take one (the whole-step group); each runs selfsup and its peer at each count.
  const threads = (arg('--threads') ?? '1').split(',').map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads: expected counts such as 1,2, got ${arg('--threads')}`);
  const startLoad = loadavg();
  console.log(`selfsup benchmarks — ${new Date().toISOString()}`);
  console.log(`${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}, tfjs ${tf.version_core}; load average ${startLoad.map((l) => l.toFixed(2)).join(' ')}`);
  console.log('Times in ms per run (median and min after warm-up), process CPU ms per run, 1-minute load when the row finished.');
  console.log('Ratios: median wall / median wall (min / min, median CPU / median CPU). Other jobs on the machine inflate wall');
  console.log('time but not CPU time; at one thread (the default) the CPU ratio is the steadiest; with more threads compare wall times.\n');

  // One thread unless a group asks for more: the single-threaded groups compare with single-threaded peers.
  await useBackend('wasm', { threads: 1 });
  const results: Record<string, GroupResult & { ratios: Ratio[] }> = {};
  for (const group of groups) {
    console.log(`## ${group.name}: ${group.description}`);
    const result = await group.run({ quick, options, threads });
    const rs = ratios(result.rows, result.comparisons);
    const notes: Record<string, string> = {};
    for (const r of rs) {
      const key = `${r.workload}|${r.subject}`;
      const text = `${r.label} ${formatRatio(r.median)} (min ${formatRatio(r.min)}, cpu ${formatRatio(r.cpu)})`;
      notes[key] = notes[key] ? `${notes[key]}; ${text}` : text;
    }
    printTable(result.rows, notes);
    for (const u of result.unavailable) console.log(`  not measured: ${u.workload} — ${u.impl}: ${u.reason}`);
    for (const n of result.notes) console.log(`  note: ${n}`);
    console.log('');
    results[group.name] = { ...result, ratios: rs };
  }
  // A partial run (--only) writes its own file, so it never replaces the full suite's results.
  const path = writeResults(only ? `bench-${only.join('-')}` : 'bench', {
    quick,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    tfjs: tf.version_core,
    threads,
    loadavgStart: startLoad,
    loadavgEnd: loadavg(),
    groups: results,
  });
  console.log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}; wrote ${path}`);
}

await main();
