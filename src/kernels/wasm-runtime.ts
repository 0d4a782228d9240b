/**
 * Runs selfsup's WebAssembly kernels zero-copy inside the memory of tfjs's
 * wasm backend.
 *
 * The module (built from src/kernels/c/ by scripts/build-kernels.ts into
 * `selfsup-kernels.wasm` and `selfsup-kernels-threaded.wasm`, and the same
 * two with relaxed SIMD, `selfsup-kernels-relaxed*.wasm`, which the package
 * ships in dist/) imports its memory, and is instantiated once per
 * backend memory with tfjs's own `WebAssembly.Memory`. Node reads the file
 * beside this code; a browser fetches it from `useBackend`'s `wasmPaths`
 * (beside tfjs's own .wasm files) or, by default, from beside this module. A kernel then reads its
 * inputs where tfjs keeps them (`dataIdMap.get(dataId).memoryOffset`), writes
 * into an output allocated by `backend.makeOutput`, and uses one scratch
 * buffer per memory that is allocated with the backend's malloc and reused
 * (fresh pages cost ~15 µs each on small VMs). No typed-array view of the
 * memory is ever cached: any allocation may grow the memory and detach it,
 * and the kernels only need pointers.
 */
import { BackendError, ResourceError } from '../core/errors.js';
import { formatBytes, WASM32_HEAP_BYTES } from '../core/memory-budget.js';
import { nodeBuiltins } from '../core/node-builtins.js';
import { KERNEL_FILES } from './generated/kernels-wasm.js';
import { KernelPool, MAX_POOL_THREADS, splitRanges } from './thread-pool.js';

/**
 * The functions the kernel module exports (pointers are byte offsets into
 * tfjs's memory). Those that end in a range (`begin, end` of their work
 * units; `m0, m1` output pixels, `c0, c1` channels, `r0, r1` rows, `i0, i1`
 * elements) compute that part of their output and are split over threads
 * (see {@link RANGED_KERNELS}).
 */
export interface KernelExports {
  __stack_pointer: WebAssembly.Global;
  conv2d_backprop_filter_units(kh: number, kw: number, c: number, co: number): number;
  conv2d_backprop_filter_scratch(kh: number, kw: number, c: number, co: number): number;
  conv2d_backprop_filter(
    x: number, dy: number, dw: number, scratch: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, co: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  conv2d_backprop_input_scratch(kh: number, kw: number, c: number, co: number): number;
  conv2d_backprop_input(
    dy: number, w: number, dx: number, scratch: number,
    n: number, h: number, wd: number, c: number, oh: number, ow: number, co: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  depthwise_backprop_filter_units(c: number): number;
  depthwise_backprop_filter(
    x: number, dy: number, dw: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, q: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  depthwise_backprop_input(
    dy: number, w: number, dx: number,
    n: number, h: number, wd: number, c: number, oh: number, ow: number, q: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  sum_block_rows(cols: number): number;
  sum_leading_axes_blocks(x: number, partials: number, rows: number, cols: number, begin: number, end: number): void;
  sum_leading_axes_total(partials: number, out: number, blocks: number, cols: number, scale: number): void;
  max_pool_grad(
    x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  avg_pool_grad(
    dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, begin: number, end: number,
  ): void;
  tile6(x: number, out: number, ...dimsThenReps: number[]): void;
  transpose6(x: number, out: number, ...dimsThenPerm: number[]): void;
  batch_matmul_units(batchA: number, batchB: number, m: number, k: number, n: number): number;
  batch_matmul_scratch(k: number, n: number): number;
  batch_matmul(
    a: number, b: number, out: number, scratch: number, batchA: number, batchB: number,
    m: number, k: number, n: number, transA: number, transB: number, begin: number, end: number,
  ): void;
  relu_grad(dy: number, x: number, out: number, begin: number, end: number): void;
  normalize_rows(x: number, y: number, norms: number, d: number, eps: number, begin: number, end: number): void;
  pack_rows_as_columns(b: number, packed: number, invNorm: number, n: number, k: number, begin: number, end: number): void;
  pack_column_panels(b: number, packed: number, invNorm: number, k: number, n: number, begin: number, end: number): void;
  mean_of_doubles(v: number, n: number, out: number): void;
  sum_of_doubles(v: number, n: number, out: number): void;
  nt_xent_blocks(m: number): number;
  nt_xent_block_scratch(): number;
  nt_xent_similarity(z: number, packed: number, p: number, scratch: number, m: number, d: number, invTau: number, begin: number, end: number): void;
  nt_xent_softmax(p: number, rowLoss: number, n: number, begin: number, end: number): void;
  nt_xent_symmetrize(p: number, scratch: number, m: number, begin: number, end: number): void;
  nt_xent_fused(z: number, packed: number, p: number, rowLoss: number, scratch: number, n: number, d: number, invTau: number): void;
  nt_xent_backward_rows(
    z: number, norms: number, w: number, packed: number, dy: number, dz1: number, dz2: number, scratch: number,
    n: number, d: number, invTau: number, eps: number, begin: number, end: number,
  ): void;
  info_nce_queue_norms(neg: number, negNorms: number, inv: number, d: number, eps: number, begin: number, end: number): void;
  inverse_denominators(norms: number, inv: number, n: number, eps: number): void;
  info_nce_queue_logits(
    qn: number, kn: number, packed: number, pPos: number, pNeg: number, rowLoss: number,
    n: number, numNeg: number, d: number, invTau: number, begin: number, end: number,
  ): void;
  info_nce_queue_backward_query_rows(
    qn: number, kn: number, qNorms: number, packed: number, pPos: number, pNeg: number, dy: number, dq: number, g: number,
    n: number, numNeg: number, d: number, invTau: number, eps: number, begin: number, end: number,
  ): void;
  info_nce_queue_backward_key(
    qn: number, kn: number, kNorms: number, pPos: number, dy: number, dk: number, scratch: number,
    n: number, d: number, invTau: number, eps: number, begin: number, end: number,
  ): void;
  panel_rows_scratch(n: number, d: number): number;
  info_nce_queue_backward_negatives_rows(
    packed: number, neg: number, negNorms: number, pNeg: number, dy: number, dNeg: number, scratch: number,
    n: number, numNeg: number, d: number, invTau: number, eps: number, begin: number, end: number,
  ): void;
  clip_logits(images: number, packed: number, logScale: number, g: number, n: number, d: number, begin: number, end: number): void;
  clip_row_stats(g: number, rmax: number, rinv: number, rowLse: number, diag: number, n: number, begin: number, end: number): void;
  clip_column_stats(g: number, cmax: number, cinv: number, colLse: number, n: number, begin: number, end: number): void;
  clip_gradient(g: number, rmax: number, rinv: number, cmax: number, cinv: number, rowGl: number, n: number, begin: number, end: number): void;
  clip_finish(rowLse: number, colLse: number, rowGl: number, diag: number, loss: number, dLogScale: number, n: number): void;
  clip_backward_rows(
    images: number, texts: number, norms: number, g: number, packed: number, logScale: number, dy: number, dx: number,
    scratch: number, n: number, d: number, eps: number, which: number, begin: number, end: number,
  ): void;
  kmeans_scratch(d: number, k: number): number;
  kmeans_row_chunks(n: number): number;
  kmeans_column_groups(d: number): number;
  kmeans_prepare(centroids: number, packed: number, cnorm: number, d: number, k: number, begin: number, end: number): void;
  kmeans_assign_rows(
    x: number, centroids: number, packed: number, cnorm: number, labels: number, rowInertia: number, scratch: number,
    n: number, d: number, k: number, begin: number, end: number,
  ): void;
  kmeans_sums(x: number, labels: number, sums: number, counts: number, n: number, d: number, k: number, begin: number, end: number): void;
  kmeans_means(sums: number, counts: number, centroids: number, next: number, d: number, k: number): void;
  vexp_array(x: number, out: number, n: number): void;
  min_max(x: number, out: number, n: number): void;
  to_planar(x: number, out: number, n: number, c: number, begin: number, end: number): void;
  from_planar(x: number, out: number, n: number, c: number, begin: number, end: number): void;
  color_jitter_planar(x: number, out: number, params: number, b: number, hw: number, begin: number, end: number): void;
  grayscale_planar(x: number, out: number, applied: number, b: number, hw: number, begin: number, end: number): void;
  gaussian_blur_planar_scratch(h: number, w: number): number;
  gaussian_blur_planar(
    x: number, out: number, taps: number, applied: number, scratch: number, c: number, b: number, h: number, w: number, k: number,
    begin: number, end: number,
  ): void;
  resample_planar_scratch(oh: number, w: number): number;
  resample_planar(
    x: number, out: number, index: number, fraction: number, scratch: number, c: number, b: number, h: number, w: number,
    oh: number, ow: number, begin: number, end: number,
  ): void;
  conv2d_forward_packed_floats(kh: number, kw: number, c: number, co: number): number;
  conv2d_forward_block_floats(kh: number, kw: number, c: number): number;
  conv2d_forward_pack(w: number, packed: number, k: number, co: number): void;
  conv2d_forward(
    x: number, packed: number, bias: number, y: number, block: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, co: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number, activation: number, m0: number, m1: number,
  ): void;
  bias_activation_grad(dy: number, y: number, dz: number, db: number, rows: number, cols: number, activation: number, c0: number, c1: number): void;
  gelu_forward(x: number, y: number, i0: number, i1: number): void;
  gelu_backward(x: number, dy: number, dx: number, i0: number, i1: number): void;
  batch_norm_moments(x: number, mean: number, variance: number, rows: number, cols: number, c0: number, c1: number): void;
  batch_norm_factors(variance: number, scale: number, factor: number, cols: number, eps: number, c0: number, c1: number): void;
  batch_norm_apply(x: number, mean: number, factor: number, offset: number, y: number, rows: number, cols: number, r0: number, r1: number): void;
  batch_norm_grad_sums(dy: number, x: number, mean: number, sums: number, rows: number, cols: number, c0: number, c1: number): void;
  batch_norm_grad_coefficients(
    sums: number, variance: number, scale: number, dmean: number, dvariance: number, dscale: number, doffset: number, coef: number,
    rows: number, cols: number, eps: number, c0: number, c1: number,
  ): void;
  batch_norm_grad_apply(dy: number, x: number, mean: number, coef: number, dx: number, rows: number, cols: number, r0: number, r1: number): void;
  adam_update(
    x: number, m: number, v: number, g: number, xOut: number, mOut: number, vOut: number, bias1: number, bias2: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, negLr: number, i0: number, i1: number,
  ): void;
  momentum_update(x: number, a: number, g: number, xOut: number, aOut: number, c: number, mu: number, nesterov: number, i0: number, i1: number): void;
  sgd_update(x: number, g: number, xOut: number, c: number, i0: number, i1: number): void;
}

/** The exports that take a work range `begin, end` last, in the order the pool's workers index them. */
export const RANGED_KERNELS = [
  'conv2d_backprop_filter',
  'conv2d_backprop_input',
  'depthwise_backprop_filter',
  'depthwise_backprop_input',
  'sum_leading_axes_blocks',
  'max_pool_grad',
  'avg_pool_grad',
  'batch_matmul',
  'relu_grad',
  'normalize_rows',
  'pack_rows_as_columns',
  'pack_column_panels',
  'nt_xent_similarity',
  'nt_xent_softmax',
  'nt_xent_symmetrize',
  'nt_xent_backward_rows',
  'info_nce_queue_norms',
  'info_nce_queue_logits',
  'info_nce_queue_backward_query_rows',
  'info_nce_queue_backward_key',
  'info_nce_queue_backward_negatives_rows',
  'clip_logits',
  'clip_row_stats',
  'clip_column_stats',
  'clip_gradient',
  'clip_backward_rows',
  'kmeans_prepare',
  'kmeans_assign_rows',
  'kmeans_sums',
  'to_planar',
  'from_planar',
  'color_jitter_planar',
  'grayscale_planar',
  'gaussian_blur_planar',
  'resample_planar',
  'conv2d_forward',
  'bias_activation_grad',
  'gelu_forward',
  'gelu_backward',
  'batch_norm_moments',
  'batch_norm_apply',
  'batch_norm_grad_sums',
  'batch_norm_grad_apply',
  'adam_update',
  'momentum_update',
  'sgd_update',
] as const satisfies readonly (keyof KernelExports)[];

/** A kernel that computes a range of work units. */
export type RangedKernel = (typeof RANGED_KERNELS)[number];

/** The parts of tfjs-backend-wasm's `BackendWasm` the kernels use (typed structurally: the package is an optional peer). */
export interface WasmBackendLike {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    HEAPU8: Uint8Array;
    asm?: Record<string, unknown>;
    wasmMemory?: WebAssembly.Memory;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): { dataId: object; shape: number[]; dtype: 'float32' | 'int32' };
}

/** How a ranged kernel call is split over threads. */
export interface RunOptions {
  /** Range boundaries fall on multiples of this many units (the last range ends at the total). @default 1 */
  grain?: number;
  /** Approximate cost of the whole call (flops or element operations): small calls stay on one thread. */
  work: number;
  /**
   * Bytes of scratch each thread gets for itself: the argument that is
   * {@link THREAD_SCRATCH} in `args` becomes the thread's own pointer.
   */
  threadScratch?: number;
  /** Relative cost of each unit, for uneven units (grain 1). */
  weight?: (unit: number) => number;
}

/** Marks the argument of a ranged call that is replaced by each thread's own scratch pointer. */
export const THREAD_SCRATCH = -1;

/** A call below this much work runs on the calling thread: waking the workers costs more than it saves. */
const MIN_PARALLEL_WORK = 1 << 18;

/** How ranged calls are split (tests lower both to split small calls, or cap the threads to compare with one). */
const split = { maxThreads: Number.POSITIVE_INFINITY, minWork: MIN_PARALLEL_WORK };

/**
 * @internal Caps the threads a ranged kernel call uses and sets the work
 * below which it stays on one thread; `undefined` restores the defaults. For
 * tests that compare 1-thread and N-thread results on small inputs.
 */
export function setKernelSplitForTesting(options: { maxThreads?: number; minWork?: number } | undefined): void {
  split.maxThreads = options?.maxThreads ?? Number.POSITIVE_INFINITY;
  split.minWork = options?.minWork ?? MIN_PARALLEL_WORK;
}

/** One instance of the kernel module bound to one backend memory, with its reusable scratch and thread pool. */
export class KernelInstance {
  private scratchPtr = 0;
  private scratchBytes = 0;
  private threadScratchPtr = 0;
  private threadScratchBytes = 0;
  private pool: KernelPool | undefined;
  private poolTried = false;
  private poolReason: string | null = null;
  private stacks: number[] = [];

  constructor(
    readonly exports: KernelExports,
    private readonly backend: WasmBackendLike,
    /** Which instruction set the module uses: relaxed SIMD (fused multiply-add) or SIMD128. */
    readonly simd: KernelSimd = 'simd128',
  ) {}

  /** Threads a ranged kernel is split over (1 without a pool). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Calls split over the pool's workers so far. */
  get pooledCalls(): number {
    return this.pool?.jobs ?? 0;
  }

  /** Why the pool has fewer threads than were asked for, or null. */
  get threadsReason(): string | null {
    return this.poolReason;
  }

  private allocate(current: number, currentBytes: number, bytes: number, what: string, forget: () => void): [number, number] {
    if (bytes <= currentBytes) return [current, currentBytes];
    // The caller forgets the buffer before it is freed: if the allocation below throws (a ResourceError), no later call may reuse it.
    forget();
    if (current !== 0) this.backend.wasm._free(current);
    const size = Math.ceil((bytes * 1.5) / 65536) * 65536;
    const ptr = this.backend.wasm._malloc(size) >>> 0;
    if (ptr === 0) throw new BackendError(`selfsup wasm kernels: could not allocate ${size} bytes of ${what}`);
    return [ptr, size];
  }

  /**
   * A scratch buffer of at least `bytes` bytes, reused across calls and only
   * reallocated (with 50 % headroom) when a call needs more. Its contents are
   * undefined on entry.
   */
  scratch(bytes: number): number {
    [this.scratchPtr, this.scratchBytes] = this.allocate(this.scratchPtr, this.scratchBytes, bytes, 'scratch memory', () => {
      this.scratchPtr = 0;
      this.scratchBytes = 0;
    });
    return this.scratchPtr;
  }

  /** The threads a ranged call of `work` over `total` units (boundaries on multiples of `grain`) would use. */
  threadsFor(work: number, total: number, grain = 1): number {
    if (!this.pool || work < split.minWork) return 1;
    return Math.max(1, Math.min(this.pool.threads, split.maxThreads, Math.ceil(total / grain)));
  }

  /** The module's stack in tfjs's heap (set by `bind`), freed with the scratch by {@link KernelInstance.release}. */
  stackPtr = 0;

  /**
   * Stops the workers and frees this instance's stacks and scratch (when
   * another instance, of the other instruction set, replaces it on the same memory).
   */
  release(): void {
    this.stopPool();
    for (const ptr of [this.scratchPtr, this.threadScratchPtr, this.stackPtr]) {
      if (ptr !== 0) this.backend.wasm._free(ptr);
    }
    this.scratchPtr = this.scratchBytes = this.threadScratchPtr = this.threadScratchBytes = this.stackPtr = 0;
  }

  /** Byte offset of a tensor's data in the backend memory. */
  offset(dataId: object): number {
    const data = this.backend.dataIdMap.get(dataId);
    if (!data) throw new BackendError('selfsup wasm kernels: a tensor passed to the kernel is not on the wasm backend');
    return data.memoryOffset >>> 0;
  }

  /**
   * Calls the ranged kernel `name` over the work units [0, total): split
   * into contiguous ranges over the pool's threads when the call is large
   * enough, else in one range on this thread. Each thread's range is passed
   * as the kernel's last two arguments, after `args`; with `threadScratch`,
   * the argument given as {@link THREAD_SCRATCH} is the thread's own scratch.
   */
  run(name: RangedKernel, args: readonly number[], total: number, options: RunOptions): void {
    if (total <= 0) return;
    const fn = this.exports[name] as unknown as (...a: number[]) => void;
    const grain = options.grain ?? 1;
    const threads = this.threadsFor(options.work, total, grain);
    const index = args.indexOf(THREAD_SCRATCH);
    if ((index >= 0) !== (options.threadScratch !== undefined)) {
      throw new BackendError(`selfsup wasm kernels: ${name} needs both a THREAD_SCRATCH argument and threadScratch bytes`);
    }
    let stride = 0;
    let base = 0;
    const own = [...args];
    if (index >= 0) {
      stride = Math.ceil(options.threadScratch! / 64) * 64;
      [this.threadScratchPtr, this.threadScratchBytes] = this.allocate(
        this.threadScratchPtr, this.threadScratchBytes, stride * threads, 'per-thread scratch memory', () => {
          this.threadScratchPtr = 0;
          this.threadScratchBytes = 0;
        },
      );
      base = this.threadScratchPtr;
      own[index] = base;
    }
    if (threads === 1) {
      fn(...own, 0, total);
      return;
    }
    if (this.pool!.lost) {
      // A worker is gone: the kernels go on, on this thread alone, and backendInfo says why.
      this.poolReason = `selfsup's kernels run on one thread: ${this.pool!.lost}`;
      this.stopPool();
      fn(...own, 0, total);
      return;
    }
    const ranges = splitRanges(total, threads, grain, options.weight);
    this.pool!.run(
      { fn: RANGED_KERNELS.indexOf(name), args: own, ranges, ...(index >= 0 ? { scratch: { index, base, stride } } : {}) },
      (begin, end) => fn(...own, begin, end),
    );
  }

  /** Starts `threads - 1` workers on `module` (shared memory only); on failure runs single-threaded and keeps the reason. */
  async startPool(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<void> {
    if (threads <= 1 || this.poolTried) return;
    this.poolTried = true;
    const wanted = Math.min(threads, MAX_POOL_THREADS);
    try {
      for (let t = 1; t < wanted; t++) {
        const stack = this.backend.wasm._malloc(STACK_BYTES) >>> 0;
        if (stack === 0) throw new Error('could not allocate a worker stack');
        this.stacks.push(stack);
      }
      this.pool = await KernelPool.start(module, memory, RANGED_KERNELS, this.stacks.map((s) => (s + STACK_BYTES) & ~15));
    } catch (e) {
      this.poolReason = `selfsup's kernel workers did not start (${(e as Error).message}); its kernels run on one thread`;
      this.freeStacks();
    }
  }

  private freeStacks(): void {
    for (const s of this.stacks) this.backend.wasm._free(s);
    this.stacks = [];
  }

  /** Stops the workers and frees their stacks (the backend is about to go away, or a worker is lost). */
  stopPool(): void {
    this.pool?.stop();
    this.pool = undefined;
    this.freeStacks();
  }
}

const guarded = new WeakSet<object>();

/**
 * Makes every allocation of the wasm backend checked: tfjs-backend-wasm's
 * `write`/`makeOutput` (which selfsup's kernels use for their outputs too)
 * take whatever `_malloc` returns, and a failed allocation returns 0 — the
 * kernel then writes its output over the start of the heap and the backend
 * is broken for the rest of the process. Wrapped, a failed allocation throws
 * a {@link ResourceError} before anything is written, and the backend stays
 * usable. Idempotent.
 */
export function guardWasmAllocations(backend: WasmBackendLike): void {
  const wasm = backend.wasm;
  if (guarded.has(wasm)) return;
  // The raw export, not emscripten's lazy binder (which would replace the wrapper on first call).
  const raw = (wasm.asm?.['malloc'] as ((bytes: number) => number) | undefined) ?? wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number): number => {
    // malloc takes a 32-bit size: 4 GiB and more would wrap to a small size that succeeds.
    const ptr = bytes > WASM32_HEAP_BYTES || !(bytes >= 0) ? 0 : raw(bytes) >>> 0;
    if (ptr === 0 && bytes !== 0) {
      const heap = backendMemory(backend).buffer.byteLength;
      throw new ResourceError(
        'wasm backend',
        'allocation',
        bytes,
        Math.max(0, WASM32_HEAP_BYTES - heap),
        `of ${formatBytes(bytes)} failed: the wasm32 heap is limited to 4 GiB (now ${formatBytes(heap)}, with ` +
          `fragmentation). Nothing was written; free tensors or use smaller sizes`,
      );
    }
    return ptr;
  };
  guarded.add(wasm);
}

/** Bytes of stack the module gets per thread (its code needs little: a few small arrays, no recursion). */
const STACK_BYTES = 64 * 1024;

let compiled: Partial<Record<Variant, Promise<WebAssembly.Module>>> = {};
const ready: Partial<Record<Variant, WebAssembly.Module>> = {};
const instances = new WeakMap<WebAssembly.Memory, KernelInstance>();
/** Threads asked for per backend memory (set by useBackend before the kernels are prepared). */
const requestedThreads = new WeakMap<WebAssembly.Memory, number>();

type Variant = keyof typeof KERNEL_FILES;

/** The instruction set of a kernel module: WebAssembly relaxed SIMD or plain SIMD128. */
export type KernelSimd = 'relaxed' | 'simd128';

/**
 * The smallest module that uses `f32x4.relaxed_madd` (a function returning
 * relaxed_madd of three zero vectors): it validates exactly where the runtime
 * implements relaxed SIMD (Chromium ≥ 114, Node ≥ 22; Node 20 only with
 * `--experimental-wasm-relaxed-simd`), as tfjs detects SIMD.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section, one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // three v128.const 0
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x0b, // end
]);

let relaxedSupport: boolean | undefined;

/** Whether this runtime's WebAssembly has relaxed SIMD (checked once). */
export function relaxedSimdSupported(): boolean {
  relaxedSupport ??= typeof WebAssembly.validate === 'function' && WebAssembly.validate(RELAXED_SIMD_PROBE);
  return relaxedSupport;
}

/** Whether the next instantiation may use the relaxed-SIMD modules (`useBackend`'s `relaxedSimd` option). */
let allowRelaxed = true;

/**
 * Chooses between the relaxed-SIMD and SIMD128 kernel modules for the
 * instances created from now on (`useBackend('wasm', { relaxedSimd })`):
 * relaxed SIMD is used where `allow` is true and the runtime supports it.
 * An existing instance of the other kind is replaced on the next
 * {@link prepareKernels}.
 */
export function setRelaxedSimd(allow: boolean): void {
  allowRelaxed = allow;
}

function wantedSimd(): KernelSimd {
  return allowRelaxed && relaxedSimdSupported() ? 'relaxed' : 'simd128';
}

function variantOf(memory: WebAssembly.Memory, simd: KernelSimd): Variant {
  const shared = isSharedMemory(memory);
  if (simd === 'relaxed') return shared ? 'relaxedShared' : 'relaxed';
  return shared ? 'shared' : 'plain';
}

/**
 * The instruction set of the kernel instance bound to `backend`'s memory, or
 * null when none is (for `backendInfo`).
 */
export function kernelSimdFor(backend: WasmBackendLike): KernelSimd | null {
  try {
    return instances.get(backendMemory(backend))?.simd ?? null;
  } catch {
    return null;
  }
}

/** Where a browser fetches the kernel files from, as tfjs's `setWasmPaths` takes it (set by `useBackend`). */
let wasmPaths: string | Record<string, string> | undefined;

/**
 * Makes a browser fetch the kernel modules from `paths` (a URL prefix ending
 * in `/`, or a map from file name to URL, as tfjs-backend-wasm's
 * `setWasmPaths` takes them), so `selfsup-kernels*.wasm` can be served beside
 * tfjs's `.wasm` files. Node ignores it and reads the installed files.
 */
export function setKernelWasmPaths(paths: string | Record<string, string> | undefined): void {
  if (paths === wasmPaths) return;
  wasmPaths = paths;
  compiled = {};
}

/**
 * The default URL of a variant: beside the code that loads it (dist/ in the
 * package). Written as literal `new URL(…, import.meta.url)` expressions so
 * that bundlers which understand them (webpack 5, Vite, Parcel) emit the file.
 */
function defaultUrl(variant: Variant): URL {
  switch (variant) {
    case 'shared':
      return new URL('./selfsup-kernels-threaded.wasm', import.meta.url);
    case 'relaxed':
      return new URL('./selfsup-kernels-relaxed.wasm', import.meta.url);
    case 'relaxedShared':
      return new URL('./selfsup-kernels-relaxed-threaded.wasm', import.meta.url);
    default:
      return new URL('./selfsup-kernels.wasm', import.meta.url);
  }
}

const SERVE_HINT =
  "serve the file (from node_modules/selfsup/dist/) beside tfjs-backend-wasm's .wasm files and pass their URL " +
  "prefix: useBackend('wasm', { wasmPaths: '/path/to/wasm/' })";

/** The bytes of a kernel module variant: read from disk in Node, fetched in a browser. */
async function moduleBytes(variant: Variant): Promise<Uint8Array> {
  const { file, bytes } = KERNEL_FILES[variant];
  const node = nodeBuiltins();
  let data: Uint8Array;
  let source: string;
  if (node) {
    // The built package keeps the files beside its code (dist/); the sources keep them in generated/.
    const candidates = [`./${file}`, `./generated/${file}`].map((rel) => node.url.fileURLToPath(new URL(rel, import.meta.url)));
    const found = candidates.find((path) => node.fs.existsSync(path));
    if (found === undefined) {
      throw new BackendError(`selfsup wasm kernels: ${file} is missing (looked for ${candidates.join(' and ')}); reinstall selfsup`);
    }
    source = found;
    data = node.fs.readFileSync(found);
  } else {
    const url = typeof wasmPaths === 'string' ? `${wasmPaths}${file}` : (wasmPaths?.[file] ?? defaultUrl(variant).href);
    source = url;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new BackendError(`selfsup wasm kernels: could not fetch ${url} (${(e as Error).message}); ${SERVE_HINT}`);
    }
    if (!response.ok) {
      throw new BackendError(`selfsup wasm kernels: fetching ${url} answered ${response.status} ${response.statusText}; ${SERVE_HINT}`);
    }
    data = new Uint8Array(await response.arrayBuffer());
  }
  if (data.byteLength !== bytes) {
    throw new BackendError(
      `selfsup wasm kernels: ${source} holds ${data.byteLength} bytes, not the ${bytes} of this selfsup version's ` +
        `${file}; ${node ? 'reinstall selfsup' : SERVE_HINT}`,
    );
  }
  return data;
}

/** The backend's `WebAssembly.Memory` (exported by the plain build, created in JS by the threaded build). */
export function backendMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const fromExports = backend.wasm.asm?.['memory'];
  if (fromExports instanceof WebAssembly.Memory) return fromExports;
  if (backend.wasm.wasmMemory instanceof WebAssembly.Memory) return backend.wasm.wasmMemory;
  for (const value of Object.values(backend.wasm.asm ?? {})) {
    if (value instanceof WebAssembly.Memory) return value;
  }
  throw new BackendError(
    'selfsup wasm kernels: cannot find the WebAssembly.Memory of the wasm backend; ' +
      'this @tensorflow/tfjs-backend-wasm version is not supported (4.x is)',
  );
}

/** Whether `memory` is shared (tfjs's threaded build). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Sets how many threads selfsup's kernels use on `backend` (its memory must
 * be shared for more than one); takes effect when the kernels are prepared.
 */
export function configureKernelThreads(backend: WasmBackendLike, threads: number): void {
  requestedThreads.set(backendMemory(backend), threads);
}

/** The threads selfsup's kernels run with on `backend`, why fewer than asked for, and how many calls were split so far. */
export function kernelThreadInfo(backend: WasmBackendLike): { threads: number; reason: string | null; pooledCalls: number } {
  const instance = instances.get(backendMemory(backend));
  return { threads: instance?.threads ?? 1, reason: instance?.threadsReason ?? null, pooledCalls: instance?.pooledCalls ?? 0 };
}

/** Stops selfsup's kernel workers on `backend` and forgets its instance (before the backend is removed). */
export function releaseKernels(backend: WasmBackendLike): void {
  let memory: WebAssembly.Memory;
  try {
    memory = backendMemory(backend);
  } catch {
    return;
  }
  instances.get(memory)?.stopPool();
  instances.delete(memory);
}

/**
 * Compiles the kernel module variant that matches `backend`'s memory (shared
 * or not) and the runtime (relaxed SIMD where supported and allowed, else
 * SIMD128) and instantiates it on that memory (asynchronously, so it also
 * works on a browser's main thread), with the thread pool
 * {@link configureKernelThreads} asked for on a shared memory (its workers
 * run the same variant). Rejects when the runtime cannot run it (no wasm SIMD).
 */
export async function prepareKernels(backend: WasmBackendLike): Promise<KernelInstance> {
  guardWasmAllocations(backend);
  const memory = backendMemory(backend);
  const simd = wantedSimd();
  const variant = variantOf(memory, simd);
  // Read or fetched on first use only: nothing is loaded by programs that never train on wasm.
  compiled[variant] ??= moduleBytes(variant).then((bytes) => WebAssembly.compile(bytes as BufferSource));
  let module: WebAssembly.Module;
  try {
    module = await compiled[variant];
  } catch (e) {
    compiled = { ...compiled, [variant]: undefined };
    throw e;
  }
  ready[variant] = module;
  let kernels = instances.get(memory);
  if (kernels?.simd !== simd) {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    // (Another call may have bound the same kind meanwhile.)
    kernels = instances.get(memory);
    if (kernels?.simd !== simd) {
      kernels?.release();
      kernels = bind(instance, memory, backend, simd);
    }
  }
  const threads = requestedThreads.get(memory) ?? 1;
  if (isSharedMemory(memory) && threads > 1) await kernels.startPool(module, memory, threads);
  return kernels;
}

function bind(instance: WebAssembly.Instance, memory: WebAssembly.Memory, backend: WasmBackendLike, simd: KernelSimd): KernelInstance {
  guardWasmAllocations(backend);
  const exports = instance.exports as unknown as KernelExports;
  // The module's shadow stack must live in memory tfjs will not hand out.
  const stack = backend.wasm._malloc(STACK_BYTES) >>> 0;
  if (stack === 0) throw new BackendError('selfsup wasm kernels: could not allocate the kernel stack');
  exports.__stack_pointer.value = (stack + STACK_BYTES) & ~15;
  const kernels = new KernelInstance(exports, backend, simd);
  kernels.stackPtr = stack;
  instances.set(memory, kernels);
  return kernels;
}

/**
 * The kernel instance for `backend`'s memory. Instantiated by
 * {@link prepareKernels}; if the backend was re-created since (new memory),
 * instantiated here synchronously from the already compiled module (single-threaded).
 */
export function kernelsFor(backend: WasmBackendLike): KernelInstance {
  const memory = backendMemory(backend);
  const existing = instances.get(memory);
  if (existing) return existing;
  const simd = wantedSimd();
  const module = ready[variantOf(memory, simd)];
  if (!module) {
    throw new BackendError(
      "selfsup wasm kernels are not ready for this backend: call await useBackend('wasm') " +
        "(or await registerTrainingKernels('wasm')) after the wasm backend is initialised",
    );
  }
  return bind(new WebAssembly.Instance(module, { env: { memory } }), memory, backend, simd);
}
