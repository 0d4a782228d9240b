/**
 * What a benchmark module provides to bench/run.ts. Each module under
 * bench/workloads/ exports one `WorkloadGroup`: it measures its workloads in
 * every implementation it knows (selfsup on wasm, the naive tfjs composition,
 * tfjs's cpu backend, a Python peer) and says which ratios to report. The
 * runner prints one table, computes the ratios from the same run and writes
 * bench/results/bench.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend/use-backend.js';
import { FUSED } from '../../src/core/fused-kernels.js';
import { registerTrainingKernels, unregisterWasmKernels } from '../../src/kernels/register.js';
import { measure, type Measurement, type MeasureOptions } from './harness.js';

export interface BenchContext {
  /** Fewer runs, for a smoke test of the suite. */
  quick: boolean;
  /** Default measurement options for this run. */
  options: MeasureOptions;
  /** Thread counts to measure at, for the groups that take one (`--threads 1,2`). @default [1] */
  threads?: number[];
}

/** A measurement that could not be taken, with the reason (shown in the table's notes). */
export interface Unavailable {
  workload: string;
  impl: string;
  reason: string;
}

/** `subject / baseline` on median (and min) time, both from this run. */
export interface Comparison {
  workload: string;
  subject: string;
  baseline: string;
  /** The baseline's workload when it differs from the subject's (e.g. backward vs forward). */
  baselineWorkload?: string;
  /** Label of the ratio in the table, e.g. `vs pytorch`. */
  label: string;
}

export interface GroupResult {
  rows: Measurement[];
  unavailable: Unavailable[];
  comparisons: Comparison[];
  /** Free-form notes printed under the table (what was capped, what a ratio means). */
  notes: string[];
}

export interface WorkloadGroup {
  /** Short name for `--only`, e.g. `conv`. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<GroupResult>;
}

/** Implementation labels shared by the modules, so ratios pair up. */
export const IMPL = {
  selfsup: 'selfsup wasm',
  selfsupComposed: 'selfsup wasm, tfjs ops (no fused kernels)',
  selfsupCpu: 'selfsup cpu',
  naiveWasm: 'naive tfjs wasm (stock kernels)',
  naiveWasmKernels: 'naive tfjs wasm + selfsup kernels',
  cpu: 'tfjs cpu',
  pytorch: 'pytorch',
  sklearn: 'scikit-learn',
} as const;

/**
 * The wasm backend with selfsup's kernels registered, with `threads` threads
 * (re-created if it runs another count), or with the count it already runs
 * (bench/run.ts starts it with one).
 */
export async function selfsupWasm(threads?: number): Promise<void> {
  await useBackend('wasm', threads === undefined ? {} : { threads });
  await registerTrainingKernels('wasm');
}

/**
 * The wasm backend with selfsup's kernels but without its fused loss and
 * k-means kernels: the losses run their tfjs compositions (what selfsup did
 * before the fused kernels). `selfsupWasm()` puts them back.
 */
export async function selfsupWasmComposed(): Promise<void> {
  await selfsupWasm();
  for (const name of Object.values(FUSED)) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
}

/** The wasm backend with tfjs-backend-wasm's own kernels only (what a user gets without selfsup). */
export async function stockWasm(): Promise<void> {
  await useBackend('wasm', { kernels: false });
  unregisterWasmKernels();
}

/** The error message of a workload that cannot run, or null when it runs. */
export function failure(fn: () => void): string | null {
  try {
    tf.tidy(fn);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!.slice(0, 120);
  }
}

/**
 * Measures `fn`, or records why it cannot run. The first call (which finds
 * out) counts as one of the warm-up runs; with `warmup: 0` the first call is
 * the timed one (for capped, slow implementations).
 */
export async function measureOrExplain(
  workload: string, impl: string, fn: () => void, opts: MeasureOptions, unavailable: Unavailable[],
): Promise<Measurement | null> {
  const warmup = opts.warmup ?? 3;
  if (warmup === 0) {
    try {
      return await measure(workload, impl, () => tf.tidy(fn), opts);
    } catch (e) {
      unavailable.push({ workload, impl, reason: (e as Error).message.split('\n')[0]!.slice(0, 120) });
      return null;
    }
  }
  const reason = failure(fn);
  if (reason) {
    unavailable.push({ workload, impl, reason });
    return null;
  }
  return measure(workload, impl, fn, { ...opts, warmup: warmup - 1 });
}

/**
 * Scales a measurement taken on a smaller batch to the full batch (for the
 * slow cpu backend), recording that it was extrapolated.
 */
export function extrapolated(m: Measurement, measuredBatch: number, fullBatch: number): Measurement {
  const scale = fullBatch / measuredBatch;
  return {
    ...m,
    impl: `${m.impl} (batch ${measuredBatch}, ×${scale})`,
    medianMs: m.medianMs * scale,
    minMs: m.minMs * scale,
    cpuMedianMs: m.cpuMedianMs * scale,
    extra: { ...(m.extra ?? {}), measuredBatch, fullBatch, measuredMedianMs: m.medianMs },
  };
}

export const shapeLabel = (shape: readonly number[]) => `[${shape.join(',')}]`;
