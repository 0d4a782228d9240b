/**
 * `npm run bench:profile [-- --only simclr,byol] [--runs 5] [--warmup 5] [--batch 256] [--top 12] [--shapes] [--threads 1] [--write NAME]`
 *
 * Where one training step's time goes on the wasm backend, kernel by kernel:
 * each step of bench/lib/steps.ts (the learning benchmark's SimCLR, BYOL,
 * MAE and rotation recipes, and one Adam step of each reference encoder) is
 * warmed up, then run `--runs` times with every kernel timed
 * (bench/lib/kernel-timer.ts). Prints per step the wall time, the time inside
 * kernels (the rest is tfjs's and the layers' JavaScript: tape, scopes,
 * shape checks), the kernel calls, the time by phase (augmentation, forward,
 * backward, optimizer) and by kernel group, and the costliest kernels.
 * `--shapes` tells calls apart by their input shapes. `--threads` is the wasm
 * backend's thread count (default 1, as the committed profiles: with more,
 * the process CPU time also counts the threads' waiting). `--write NAME` saves
 * bench/results/profile-NAME.json.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, useBackend } from 'selfsup';
import { writeResults } from './lib/harness.js';
import { kernelStats, markOptimizer, PHASES, resetKernelStats, startKernelTimer, stopKernelTimer, type KernelStat } from './lib/kernel-timer.js';
import { benchImages, ENCODER_STEPS, makeStep, METHOD_STEPS, type StepName } from './lib/steps.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Kernel groups of the report, by tfjs kernel name. */
export function kernelGroup(name: string): string {
  const kernel = name.split(' ')[0]!;
  if (/^(Conv2D|FusedConv2D|DepthwiseConv2dNative|FusedDepthwiseConv2D)$/.test(kernel)) return 'conv forward';
  if (/Backprop(Filter|Input)$/.test(kernel)) return 'conv backward';
  if (/^(BatchMatMul|_FusedMatMul|MatMul)$/.test(kernel)) return 'matrix products';
  if (/BatchNorm/.test(kernel)) return 'batch norm (fused kernels)';
  if (/^Selfsup(NtXent|InfoNCE|Clip|KMeans)/.test(kernel)) return 'fused losses';
  if (/^Selfsup(Adam|Sgd|Momentum|Optimizer)/.test(kernel)) return 'optimizer (fused kernels)';
  if (/^Selfsup/.test(kernel)) return 'other selfsup kernels';
  if (/^(Sum|Mean|Max|Min|Prod|All|Any|ArgMax|ArgMin)$/.test(kernel)) return 'reductions';
  if (/^(Reshape|Identity|Cast|Tile|Transpose|Concat|Slice|Split|SplitV|Pack|Unpack|GatherV2|Pad|PadV2|MirrorPad|Fill|ZerosLike|OnesLike|StridedSlice)$/.test(kernel)) {
    return 'data movement';
  }
  if (/Pool/.test(kernel)) return 'pooling';
  return 'element-wise';
}

interface Totals {
  /** Process CPU ms (the figure to compare: other jobs on the machine inflate wall time). */
  cpuMs: number;
  /** Wall ms. */
  ms: number;
  calls: number;
}

interface StepProfile {
  step: string;
  runs: number;
  /** Median over the runs of the whole step. */
  wallMs: number;
  cpuMs: number;
  /** Median over the runs of the time inside kernels. */
  kernelMs: number;
  kernelCpuMs: number;
  calls: number;
  phases: Record<string, Totals>;
  groups: Record<string, Totals>;
  /** Per phase and kernel, the median over the runs. */
  kernels: KernelStat[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per key, the median over runs (a key missing from a run counts as zero there). */
function medianStats(perRun: KernelStat[][]): KernelStat[] {
  const keys = new Map<string, KernelStat>();
  for (const run of perRun) for (const k of run) keys.set(`${k.phase}/${k.kernel}`, k);
  return [...keys].map(([key, k]) => {
    const of = (f: (s: KernelStat) => number) => median(perRun.map((run) => { const s = run.find((r) => `${r.phase}/${r.kernel}` === key); return s ? f(s) : 0; }));
    return { phase: k.phase, kernel: k.kernel, calls: of((s) => s.calls), ms: of((s) => s.ms), cpuMs: of((s) => s.cpuMs) };
  });
}

function add(into: Record<string, Totals>, key: string, k: KernelStat): void {
  const t = (into[key] ??= { cpuMs: 0, ms: 0, calls: 0 });
  t.cpuMs += k.cpuMs;
  t.ms += k.ms;
  t.calls += k.calls;
}

async function profileStep(name: StepName, images: tf.Tensor4D, runs: number, warmup: number): Promise<StepProfile> {
  const fixture = makeStep(name, images);
  const unmark = markOptimizer(fixture.optimizer);
  try {
    // Warm-up also lets V8 tier the kernels up from its baseline compiler (slow under load).
    for (let i = 0; i < warmup; i++) fixture.step();
    const walls: number[] = [];
    const cpus: number[] = [];
    const perRun: KernelStat[][] = [];
    for (let i = 0; i < runs; i++) {
      resetKernelStats();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fixture.step();
      walls.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1000);
      perRun.push(kernelStats().map((k) => ({ ...k })));
    }
    const kernels = medianStats(perRun).sort((a, b) => b.cpuMs - a.cpuMs);
    const phases: StepProfile['phases'] = {};
    const groups: StepProfile['groups'] = {};
    for (const k of kernels) {
      add(phases, k.phase, k);
      add(groups, kernelGroup(k.kernel), k);
    }
    const sum = (f: (k: KernelStat) => number) => median(perRun.map((run) => run.reduce((s, k) => s + f(k), 0)));
    return {
      step: name,
      runs,
      wallMs: median(walls),
      cpuMs: median(cpus),
      kernelMs: sum((k) => k.ms),
      kernelCpuMs: sum((k) => k.cpuMs),
      calls: sum((k) => k.calls),
      phases,
      groups,
      kernels,
    };
  } finally {
    unmark();
    fixture.dispose();
  }
}

function print(p: StepProfile, top: number): void {
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(
    `\n## ${p.step}: ${p.cpuMs.toFixed(1)} CPU ms per step (${p.wallMs.toFixed(1)} wall; medians of ${p.runs}), ` +
      `${p.kernelCpuMs.toFixed(1)} CPU ms in ${Math.round(p.calls)} kernel calls, ${(p.cpuMs - p.kernelCpuMs).toFixed(1)} outside kernels`,
  );
  console.log(`  phases (CPU ms/calls): ${PHASES.map((ph) => `${ph} ${(p.phases[ph]?.cpuMs ?? 0).toFixed(1)}/${Math.round(p.phases[ph]?.calls ?? 0)}`).join(', ')}`);
  console.log(`  ${'group'.padEnd(28)} ${'CPU ms'.padStart(7)}  ${'wall'.padStart(7)}  calls`);
  for (const [g, v] of Object.entries(p.groups).sort((a, b) => b[1].cpuMs - a[1].cpuMs)) {
    console.log(`  ${g.padEnd(28)} ${f(v.cpuMs)}  ${f(v.ms)}  ${String(Math.round(v.calls)).padStart(5)}`);
  }
  console.log('  costliest kernels:');
  for (const k of p.kernels.slice(0, top)) {
    console.log(`    ${`${k.phase}/${k.kernel}`.padEnd(44)} ${f(k.cpuMs)}  ${f(k.ms)}  ${String(Math.round(k.calls)).padStart(5)}`);
  }
}

async function main(): Promise<void> {
  const only = arg('--only')?.split(',') as StepName[] | undefined;
  const runs = Number(arg('--runs') ?? 5);
  const warmup = Number(arg('--warmup') ?? 5);
  const batch = Number(arg('--batch') ?? 256);
  const top = Number(arg('--top') ?? 12);
  const names = only ?? [...METHOD_STEPS, ...ENCODER_STEPS];
  await useBackend('wasm', { threads: Number(arg('--threads') ?? 1) });
  const info = backendInfo();
  const loadStart = loadavg();
  console.log(`kernel profile, batch ${batch}, ${runs} runs per step; ${JSON.stringify({ ...info, kernels: info.kernels.length })}`);
  console.log(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const images = benchImages(batch);
  const profiles: StepProfile[] = [];
  startKernelTimer('wasm', process.argv.includes('--shapes'));
  try {
    for (const name of names) {
      const p = await profileStep(name, images, runs, warmup);
      profiles.push(p);
      print(p, top);
    }
  } finally {
    stopKernelTimer('wasm');
    images.dispose();
  }
  console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const write = arg('--write');
  if (write) {
    const path = writeResults(`profile-${write}`, { batch, runs, backend: info, loadavgStart: loadStart, loadavgEnd: loadavg(), profiles });
    console.log(`wrote ${path}`);
  }
}

await main();
