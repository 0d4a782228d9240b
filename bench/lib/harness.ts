/**
 * Benchmark harness shared by every file in bench/. Benchmarks are never timed
 * tests: they print a table, write JSON under bench/results/, and report ratios
 * measured side by side in the same run, because other processes share these
 * 2-core machines. Each measurement records median and min wall time after
 * warm-up, the process CPU time per run next to it, and the load average.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Measurement {
  /** Workload name, e.g. `ntXent N=256 D=128 fwd+bwd`. */
  workload: string;
  /** Which implementation: `selfsup wasm`, `naive tfjs wasm`, `tfjs cpu`, `pytorch`, … */
  impl: string;
  runs: number;
  medianMs: number;
  minMs: number;
  /** Median process CPU time (user + system) per run, ms. */
  cpuMedianMs: number;
  /** 1-minute load average when the measurement ended. */
  load1: number;
  /** Free-form extras (throughput, sizes). */
  extra?: Record<string, number | string>;
}

export interface MeasureOptions {
  /** Untimed runs first (JIT, wasm compilation, allocator warm-up). @default 3 */
  warmup?: number;
  /** Timed runs. @default 10 */
  runs?: number;
  /** Stop early once this much time was spent timing (ms), keeping at least 3 runs. @default 20000 */
  maxTimeMs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Times `fn` (which must finish its work before returning: read a value back
 * with `dataSync()` for async backends).
 */
export async function measure(
  workload: string,
  impl: string,
  fn: () => unknown | Promise<unknown>,
  { warmup = 3, runs = 10, maxTimeMs = 20_000 }: MeasureOptions = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    wall.push(t1 - t0);
    cpu.push((c1.user + c1.system) / 1000);
    if (i >= 2 && performance.now() - start > maxTimeMs) break;
  }
  return {
    workload,
    impl,
    runs: wall.length,
    medianMs: median(wall),
    minMs: Math.min(...wall),
    cpuMedianMs: median(cpu),
    load1: loadavg()[0] as number,
  };
}

/** `a / b` on median times, rounded for display. */
export function ratio(a: Measurement | undefined, b: Measurement | undefined): number | null {
  if (!a || !b || b.medianMs === 0) return null;
  return Math.round((a.medianMs / b.medianMs) * 100) / 100;
}

/** Prints measurements as an aligned table. */
export function printTable(rows: Measurement[], ratios: Record<string, string> = {}): void {
  const header = ['workload', 'impl', 'median ms', 'min ms', 'cpu ms', 'runs', 'load1', 'note'];
  const body = rows.map((r) => [
    r.workload,
    r.impl,
    r.medianMs.toFixed(2),
    r.minMs.toFixed(2),
    r.cpuMedianMs.toFixed(2),
    String(r.runs),
    r.load1.toFixed(2),
    ratios[`${r.workload}|${r.impl}`] ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

/** Writes `bench/results/<name>.json` with the environment next to the data. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = `${resultsDir}${name}.json`;
  const payload = {
    date: new Date().toISOString(),
    node: process.version,
    loadavg: loadavg(),
    data,
  };
  writeFileSync(path, `${JSON.stringify(payload, null, 2)}\n`);
  return path;
}

/** Environment that gives PyTorch its best single-threaded case on these VMs (see TOOLCHAIN.md). */
export const PYTORCH_ENV = {
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
  OMP_WAIT_POLICY: 'passive',
  MALLOC_MMAP_THRESHOLD_: '4294967296',
  MALLOC_TRIM_THRESHOLD_: '68719476736',
  MALLOC_TOP_PAD_: '1073741824',
};

const PYTHON = '/usr/bin/python3';

/**
 * Runs a committed peer script `bench/peers/<script>` with `/usr/bin/python3`
 * and the tuned single-thread environment; the script prints one JSON array of
 * `{workload, impl, medianMs, minMs, cpuMedianMs, runs}` on its last line.
 * `threads` > 1 lets its thread pools (OpenMP, BLAS) use that many threads.
 * Returns `null` (after printing why) when Python or the module it needs is
 * missing, so the JavaScript side still runs.
 */
export function runPythonPeer(script: string, args: string[] = [], requires: string[] = ['torch'], threads = 1): Measurement[] | null {
  if (!existsSync(PYTHON)) {
    console.log(`(peer ${script} skipped: ${PYTHON} not found)`);
    return null;
  }
  for (const mod of requires) {
    try {
      execFileSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore', env: { ...process.env, ...PYTORCH_ENV } });
    } catch {
      const pkg = mod === 'torch' ? 'python3-torch' : mod === 'torchvision' ? 'python3-torchvision' : mod === 'sklearn' ? 'python3-sklearn' : mod;
      console.log(`(peer ${script} skipped: Python module ${mod} is not installed; apt-get install ${pkg})`);
      return null;
    }
  }
  const path = fileURLToPath(new URL(`../peers/${script}`, import.meta.url));
  const n = String(threads);
  const out = execFileSync(PYTHON, [path, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...PYTORCH_ENV, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  const last = out.trim().split('\n').pop() ?? '[]';
  const rows = JSON.parse(last) as Omit<Measurement, 'load1'>[];
  return rows.map((r) => ({ ...r, load1: loadavg()[0] as number }));
}
