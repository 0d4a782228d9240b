/**
 * `npm run bench:profile [-- --only simclr,byol] [--runs 5] [--batch 256] [--top 12] [--write NAME]`
 *
 * Where one training step's time goes on the wasm backend, kernel by kernel:
 * each step of bench/lib/steps.ts (the learning benchmark's SimCLR, BYOL,
 * MAE and rotation recipes, and one Adam step of each reference encoder) is
 * warmed up, then run `--runs` times with every kernel timed
 * (bench/lib/kernel-timer.ts). Prints per step the wall time, the time inside
 * kernels (the rest is tfjs's and the layers' JavaScript: tape, scopes,
 * shape checks), the kernel calls, the time by phase (augmentation, forward,
 * backward, optimizer) and by kernel group, and the costliest kernels.
 * `--write NAME` saves bench/results/profile-NAME.json.
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
export function kernelGroup(kernel: string): string {
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

interface StepProfile {
  step: string;
  runs: number;
  wallMs: number;
  kernelMs: number;
  calls: number;
  phases: Record<string, { ms: number; calls: number }>;
  groups: Record<string, { ms: number; calls: number }>;
  kernels: KernelStat[];
}

async function profileStep(name: StepName, images: tf.Tensor4D, runs: number): Promise<StepProfile> {
  const fixture = makeStep(name, images);
  const unmark = markOptimizer(fixture.optimizer);
  try {
    for (let i = 0; i < 3; i++) fixture.step();
    resetKernelStats();
    const walls: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      fixture.step();
      walls.push(performance.now() - t0);
    }
    walls.sort((a, b) => a - b);
    const kernels = kernelStats()
      .map((k) => ({ ...k, calls: k.calls / runs, ms: k.ms / runs }))
      .sort((a, b) => b.ms - a.ms);
    const phases: StepProfile['phases'] = {};
    const groups: StepProfile['groups'] = {};
    for (const k of kernels) {
      const p = (phases[k.phase] ??= { ms: 0, calls: 0 });
      p.ms += k.ms;
      p.calls += k.calls;
      const g = (groups[kernelGroup(k.kernel)] ??= { ms: 0, calls: 0 });
      g.ms += k.ms;
      g.calls += k.calls;
    }
    return {
      step: name,
      runs,
      wallMs: walls[Math.floor(walls.length / 2)]!,
      kernelMs: kernels.reduce((s, k) => s + k.ms, 0),
      calls: kernels.reduce((s, k) => s + k.calls, 0),
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
    `\n## ${p.step}: ${p.wallMs.toFixed(1)} ms per step (median of ${p.runs}), ${p.kernelMs.toFixed(1)} ms in ${Math.round(p.calls)} kernel calls, ` +
      `${(p.wallMs - p.kernelMs).toFixed(1)} ms outside kernels`,
  );
  console.log(`  phases: ${PHASES.map((ph) => `${ph} ${(p.phases[ph]?.ms ?? 0).toFixed(1)} ms/${Math.round(p.phases[ph]?.calls ?? 0)}`).join(', ')}`);
  for (const [g, v] of Object.entries(p.groups).sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${g.padEnd(28)} ${f(v.ms)} ms  ${String(Math.round(v.calls)).padStart(5)} calls`);
  }
  console.log('  costliest kernels:');
  for (const k of p.kernels.slice(0, top)) {
    console.log(`    ${`${k.phase}/${k.kernel}`.padEnd(44)} ${f(k.ms)} ms  ${String(Math.round(k.calls)).padStart(5)} calls`);
  }
}

async function main(): Promise<void> {
  const only = arg('--only')?.split(',') as StepName[] | undefined;
  const runs = Number(arg('--runs') ?? 5);
  const batch = Number(arg('--batch') ?? 256);
  const top = Number(arg('--top') ?? 12);
  const names = only ?? [...METHOD_STEPS, ...ENCODER_STEPS];
  await useBackend('wasm');
  const info = backendInfo();
  const loadStart = loadavg();
  console.log(`kernel profile, batch ${batch}, ${runs} runs per step; ${JSON.stringify({ ...info, kernels: info.kernels.length })}`);
  console.log(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const images = benchImages(batch);
  const profiles: StepProfile[] = [];
  startKernelTimer('wasm');
  try {
    for (const name of names) {
      const p = await profileStep(name, images, runs);
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
