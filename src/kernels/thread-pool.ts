/**
 * The workers that run selfsup's kernels in parallel on the shared
 * `WebAssembly.Memory` of tfjs's threaded wasm build.
 *
 * Each worker (a Node `worker_threads` Worker, or a browser Worker from a
 * `blob:` URL) instantiates the same compiled kernel module on the same
 * memory, with its own shadow stack (a region of tfjs's heap), then waits
 * for jobs. A job is one kernel call split into contiguous ranges of work
 * units: the calling thread runs range 0 itself and worker t runs range t,
 * so a pool of T threads has T - 1 workers. Hand-off goes through a small
 * `SharedArrayBuffer` with `Atomics`: the caller writes the kernel's index,
 * its arguments and the ranges, bumps a sequence number and wakes the
 * workers; each worker runs its range and counts down; the caller waits for
 * the count to reach zero. Workers spin briefly before they sleep
 * (`Atomics.wait`), since kernels of one training step come back to back.
 * A browser's main thread may not block, so there the caller spins.
 */
import { BackendError } from '../core/errors.js';
import { isNode, nodeBuiltin } from '../core/node.js';

/** Int32 slots of the control buffer. */
const SEQ = 0; // job sequence number (workers wait on it)
const PENDING = 1; // workers still running the current job
const FN = 2; // index of the kernel in the names list
const NARGS = 3; // arguments before the per-thread scratch and the range
const SCRATCH = 4; // 1 + the argument index of the per-thread scratch pointer, 0 for none
const STOP = 5; // 1: workers return
const FAILED = 6; // 1: a worker's kernel threw
const SCRATCH_BASE = 7; // per-thread scratch: base pointer (unsigned)
const SCRATCH_STRIDE = 8; // and bytes per thread
const RANGES = 16; // begin/end pairs, one per thread
export const MAX_POOL_THREADS = 64;
const ARGS_BYTE = (RANGES + 2 * MAX_POOL_THREADS) * 4; // float64 arguments start here
const MAX_ARGS = 32;
const CONTROL_BYTES = ARGS_BYTE + MAX_ARGS * 8;
/** Spins (Atomics.load calls) before a waiting thread blocks: tens of microseconds. */
const SPINS = 20_000;
/** A job whose workers have not all finished after this long is abandoned (a worker that exits is noticed at once). */
const JOIN_TIMEOUT_MS = 600_000;

/**
 * The worker's source: classic-script JavaScript for both Node (`eval: true`,
 * `require` available) and browsers (a `blob:` URL). It receives one start
 * message, then only shared-memory jobs.
 */
const WORKER_SOURCE = `
'use strict';
const isNode = typeof process === 'object' && !!(process.versions && process.versions.node);
let post;
function start(m) {
  let fns;
  try {
    const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory } });
    instance.exports.__stack_pointer.value = m.stackTop;
    fns = m.names.map((name) => instance.exports[name]);
  } catch (e) {
    post({ error: String((e && e.stack) || e) });
    return;
  }
  const ctl = new Int32Array(m.control);
  const args = new Float64Array(m.control, ${ARGS_BYTE}, ${MAX_ARGS});
  const t = m.index;
  post({ ready: true });
  let seen = Atomics.load(ctl, ${SEQ});
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, ${SEQ}) === seen) {
      if (++spins > ${SPINS}) Atomics.wait(ctl, ${SEQ}, seen);
    }
    seen = Atomics.load(ctl, ${SEQ});
    if (Atomics.load(ctl, ${STOP}) === 1) return;
    const begin = ctl[${RANGES} + 2 * t], end = ctl[${RANGES} + 2 * t + 1];
    if (begin < end) {
      try {
        const n = ctl[${NARGS}];
        const call = [];
        for (let i = 0; i < n; i++) call.push(args[i]);
        const at = ctl[${SCRATCH}];
        if (at > 0) call[at - 1] = (ctl[${SCRATCH_BASE}] >>> 0) + t * ctl[${SCRATCH_STRIDE}];
        call.push(begin, end);
        fns[ctl[${FN}]].apply(null, call);
      } catch (e) {
        Atomics.store(ctl, ${FAILED}, 1);
      }
    }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
if (isNode) {
  // (The built-in's bare name: a browser bundle of selfsup names no 'node:' specifier, not even in a string.)
  const { parentPort } = require('worker_threads');
  post = (m) => parentPort.postMessage(m);
  parentPort.once('message', start);
} else {
  post = (m) => self.postMessage(m);
  self.onmessage = (e) => {
    self.onmessage = null;
    start(e.data);
  };
}
`;

interface PoolWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node only: lets the process exit while the worker waits for jobs. */
  unref?(): void;
  /** Node only. */
  on?(event: 'exit' | 'error', listener: (v: unknown) => void): unknown;
  /** Browsers only. */
  onerror?: ((e: ErrorEvent) => void) | null;
}

/**
 * V8 options that Node accepts in `NODE_OPTIONS` but refuses in a worker's
 * `execArgv` (they are process-wide; workers share them anyway).
 */
const PROCESS_WIDE = /^--(?:max-old-space-size|max-semi-space-size|huge-max-old-generation-size|stack-trace-limit|stack-size|jitless|abort-on-uncaught-exception|disallow-code-generation-from-strings|enable-etw-stack-walking|interpreted-frames-native-stack|perf-basic-prof|perf-basic-prof-only-functions|perf-prof|perf-prof-unwinding-info|title)(?:=|$)/;

/**
 * The Node options for a worker whose code is a classic script (`eval:
 * true`): `undefined` (the worker inherits the parent's, V8 flags such as
 * `--experimental-wasm-relaxed-simd` included) unless the parent runs with an
 * option that would make Node read the script as an ES module
 * (`--input-type=module`, `--experimental-default-type=module`); then the
 * parent's Node options without those. A worker's `execArgv` may hold only
 * Node's own options, so V8 flags are left out of that list (they are
 * process-wide and apply to the worker regardless).
 */
export function classicWorkerExecArgv(): string[] | undefined {
  const proc = (globalThis as { process?: { execArgv?: string[]; allowedNodeEnvironmentFlags?: ReadonlySet<string> } }).process;
  const argv = proc?.execArgv ?? [];
  const moduleType = (a: string) => a === '--input-type' || a === '--experimental-default-type' ||
    a.startsWith('--input-type=') || a.startsWith('--experimental-default-type=');
  if (!argv.some(moduleType)) return undefined;
  const allowed = proc?.allowedNodeEnvironmentFlags;
  const nodeOption = (a: string) => {
    const name = a.split('=')[0]!;
    return !PROCESS_WIDE.test(a) && (allowed === undefined || allowed.has(name));
  };
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = !a.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('-');
    if (moduleType(a) || !nodeOption(a)) {
      if (value) i++; // and its value
      continue;
    }
    kept.push(a);
    if (value) kept.push(argv[++i]!);
  }
  return kept;
}

/** Starts one worker running WORKER_SOURCE and resolves with it once it reports ready. */
function startWorker(message: Record<string, unknown>, timeoutMs: number): Promise<PoolWorker> {
  return new Promise((resolve, reject) => {
    let worker: PoolWorker | undefined;
    const timer = setTimeout(() => {
      void worker?.terminate();
      reject(new Error(`the worker did not start within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    (timer as { unref?: () => void }).unref?.();
    const settle = (data: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (data.ready) resolve(worker!);
      else reject(new Error(data.error ?? 'the worker stopped before it was ready'));
    };
    try {
      if (isNode()) {
        const { Worker } = nodeBuiltin('node:worker_threads', 'useBackend') as unknown as {
          Worker: new (src: string, options: { eval: boolean; execArgv?: string[] }) => PoolWorker & {
            once(event: string, fn: (v: unknown) => void): void;
          };
        };
        const execArgv = classicWorkerExecArgv();
        const w = new Worker(WORKER_SOURCE, { eval: true, ...(execArgv ? { execArgv } : {}) });
        worker = w;
        w.once('message', (data) => settle(data as { ready?: boolean; error?: string }));
        w.once('error', (e) => settle({ error: String(e) }));
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        const w = new Worker(url);
        URL.revokeObjectURL(url);
        worker = w;
        w.onmessage = (e: MessageEvent) => {
          w.onmessage = null;
          settle(e.data as { ready?: boolean; error?: string });
        };
        w.onerror = (e: ErrorEvent) => settle({ error: e.message || 'worker error' });
      }
    } catch (e) {
      clearTimeout(timer);
      reject(e as Error);
      return;
    }
    worker.postMessage(message);
  });
}

/** A kernel call split over the pool: `ranges[t]` is thread t's [begin, end), passed after `args`. */
export interface PoolJob {
  /** Index of the kernel in the names the pool was started with. */
  fn: number;
  args: readonly number[];
  ranges: readonly (readonly [number, number])[];
  /** Per-thread scratch: thread t's `args[index]` is `base + t * stride`. */
  scratch?: { index: number; base: number; stride: number };
}

/** T - 1 workers that run kernel ranges on a shared memory, the caller being thread 0. */
export class KernelPool {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canWait: boolean;
  private stopped = false;
  /** Why a worker is gone (it exited or threw between jobs), or null. */
  lost: string | null = null;
  /** Jobs handed to the workers so far. */
  jobs = 0;

  private constructor(
    private readonly workers: PoolWorker[],
    control: SharedArrayBuffer,
  ) {
    this.ctl = new Int32Array(control);
    this.args = new Float64Array(control, ARGS_BYTE, MAX_ARGS);
    let canWait = true;
    try {
      Atomics.wait(this.ctl, STOP, 1, 0); // "not-equal" at once where waiting is allowed; throws where it is not
    } catch {
      canWait = false;
    }
    this.canWait = canWait;
    // Noticed between jobs (the event loop does not run during one): the next job then refuses to start.
    for (const w of workers) {
      const lose = (why: string) => {
        if (!this.stopped) this.lost ??= why;
      };
      if (w.on) {
        w.on('exit', (code) => lose(`a kernel worker exited (code ${String(code)})`));
        w.on('error', (e) => lose(`a kernel worker failed: ${String(e)}`));
      } else {
        w.onerror = (e) => lose(`a kernel worker failed: ${e.message}`);
      }
    }
  }

  /** Threads a job is split over (the workers and the calling thread). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `threads - 1` workers that instantiate `module` on `memory`, each
   * with the stack whose top is `stackTops[t - 1]`, and can call the exports
   * in `names` by index.
   */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: readonly string[],
    stackTops: readonly number[],
    timeoutMs = 30_000,
  ): Promise<KernelPool> {
    if (stackTops.length + 1 > MAX_POOL_THREADS) throw new Error(`at most ${MAX_POOL_THREADS} threads`);
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const started = await Promise.allSettled(
      stackTops.map((stackTop, i) =>
        startWorker({ module, memory, control, names: [...names], stackTop, index: i + 1 }, timeoutMs),
      ),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      for (const w of workers) void w.terminate();
      throw failure.reason as Error;
    }
    for (const w of workers) w.unref?.();
    return new KernelPool(workers, control);
  }

  /** Runs `job`: thread 0's range through `runOwn` on this thread, the others on the workers; returns when all are done. */
  run(job: PoolJob, runOwn: (begin: number, end: number) => void): void {
    if (this.stopped || this.lost) {
      throw new BackendError(`selfsup wasm kernels: the kernel thread pool cannot run (${this.lost ?? 'it was stopped'})`);
    }
    const { ctl, args } = this;
    const n = job.args.length;
    if (n > MAX_ARGS) throw new BackendError(`selfsup wasm kernels: a pooled kernel takes at most ${MAX_ARGS} arguments`);
    for (let i = 0; i < n; i++) args[i] = job.args[i]!;
    ctl[FN] = job.fn;
    ctl[NARGS] = n;
    ctl[SCRATCH] = job.scratch ? job.scratch.index + 1 : 0;
    ctl[SCRATCH_BASE] = job.scratch ? job.scratch.base | 0 : 0;
    ctl[SCRATCH_STRIDE] = job.scratch ? job.scratch.stride : 0;
    for (let t = 0; t < this.threads; t++) {
      const [b, e] = job.ranges[t] ?? [0, 0];
      ctl[RANGES + 2 * t] = b;
      ctl[RANGES + 2 * t + 1] = e;
    }
    this.jobs++;
    Atomics.store(ctl, PENDING, this.workers.length);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    const [b0, e0] = job.ranges[0] ?? [0, 0];
    let ownError: unknown;
    try {
      if (b0 < e0) runOwn(b0, e0);
    } catch (e) {
      ownError = e;
    }
    this.join();
    if (ownError !== undefined) throw ownError;
    if (Atomics.exchange(ctl, FAILED, 0) === 1) {
      throw new BackendError('selfsup wasm kernels: a kernel failed on a worker thread');
    }
  }

  private join(): void {
    const { ctl } = this;
    let spins = 0;
    const start = Date.now();
    for (;;) {
      const pending = Atomics.load(ctl, PENDING);
      if (pending === 0) return;
      if (++spins > SPINS) {
        if (this.canWait) Atomics.wait(ctl, PENDING, pending, 1000);
        if ((spins & 0xffff) === 0 || this.canWait) {
          if (Date.now() - start > JOIN_TIMEOUT_MS) {
            this.stop();
            throw new BackendError('selfsup wasm kernels: a kernel worker thread stopped answering; the pool was stopped');
          }
        }
      }
    }
  }

  /** Ends the workers (they return from their loop, then are terminated). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * Contiguous ranges of `total` work units for `threads` threads: boundaries on
 * multiples of `grain`, or, with a `weight` per unit (grain 1), about equal
 * weight each.
 */
export function splitRanges(total: number, threads: number, grain = 1, weight?: (unit: number) => number): [number, number][] {
  const ranges: [number, number][] = [];
  if (!weight) {
    const chunks = Math.ceil(total / grain);
    for (let t = 0; t < threads; t++) {
      const b = Math.min(total, Math.floor((chunks * t) / threads) * grain);
      const e = Math.min(total, Math.floor((chunks * (t + 1)) / threads) * grain);
      ranges.push([b, e]);
    }
    return ranges;
  }
  let sum = 0;
  for (let u = 0; u < total; u++) sum += weight(u);
  let u = 0;
  let acc = 0;
  for (let t = 0; t < threads; t++) {
    const b = u;
    const target = (sum * (t + 1)) / threads;
    while (u < total && (t === threads - 1 || acc + weight(u) / 2 <= target)) acc += weight(u++);
    ranges.push([b, u]);
  }
  return ranges;
}
