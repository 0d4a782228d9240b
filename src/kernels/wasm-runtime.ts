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
import { BackendError } from '../core/errors.js';
import { nodeBuiltins } from '../core/node-builtins.js';
import { KERNEL_FILES } from './generated/kernels-wasm.js';

/** The functions the kernel module exports (pointers are byte offsets into tfjs's memory). */
export interface KernelExports {
  __stack_pointer: WebAssembly.Global;
  conv2d_backprop_filter_scratch(kh: number, kw: number, c: number, co: number): number;
  conv2d_backprop_filter(
    x: number, dy: number, dw: number, scratch: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, co: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number,
  ): void;
  conv2d_backprop_input_scratch(kh: number, kw: number, c: number, co: number): number;
  conv2d_backprop_input(
    dy: number, w: number, dx: number, scratch: number,
    n: number, h: number, wd: number, c: number, oh: number, ow: number, co: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number,
  ): void;
  depthwise_backprop_filter(
    x: number, dy: number, dw: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, q: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number,
  ): void;
  depthwise_backprop_input(
    dy: number, w: number, dx: number,
    n: number, h: number, wd: number, c: number, oh: number, ow: number, q: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dwl: number, pt: number, pl: number,
  ): void;
  sum_leading_axes(x: number, out: number, rows: number, cols: number, scale: number): void;
  max_pool_grad(
    x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  avg_pool_grad(
    dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  tile6(x: number, out: number, ...dimsThenReps: number[]): void;
  transpose6(x: number, out: number, ...dimsThenPerm: number[]): void;
  batch_matmul_scratch(k: number, n: number): number;
  batch_matmul(
    a: number, b: number, out: number, scratch: number, batchA: number, batchB: number,
    m: number, k: number, n: number, transA: number, transB: number,
  ): void;
  relu_grad(dy: number, x: number, out: number, n: number): void;
  nt_xent_forward_scratch(n: number, d: number): number;
  nt_xent_forward(
    z1: number, z2: number, z: number, norms: number, p: number, loss: number, scratch: number,
    n: number, d: number, invTau: number, eps: number,
  ): void;
  nt_xent_backward_scratch(n: number, d: number): number;
  nt_xent_backward(
    z: number, norms: number, p: number, dy: number, dz1: number, dz2: number, scratch: number,
    n: number, d: number, invTau: number, eps: number,
  ): void;
  info_nce_queue_forward_scratch(n: number, k: number, d: number): number;
  info_nce_queue_forward(
    q: number, k: number, neg: number, qn: number, kn: number, qNorms: number, kNorms: number, negNorms: number,
    pPos: number, pNeg: number, loss: number, scratch: number, n: number, numNeg: number, d: number, invTau: number, eps: number,
  ): void;
  info_nce_queue_backward_query_scratch(n: number, k: number, d: number): number;
  info_nce_queue_backward_query(
    qn: number, kn: number, qNorms: number, neg: number, negNorms: number, pPos: number, pNeg: number, dy: number,
    dq: number, scratch: number, n: number, numNeg: number, d: number, invTau: number, eps: number,
  ): void;
  info_nce_queue_backward_key(
    qn: number, kn: number, kNorms: number, pPos: number, dy: number, dk: number, scratch: number,
    n: number, d: number, invTau: number, eps: number,
  ): void;
  info_nce_queue_backward_negatives_scratch(n: number, d: number): number;
  info_nce_queue_backward_negatives(
    qn: number, neg: number, negNorms: number, pNeg: number, dy: number, dNeg: number, scratch: number,
    n: number, numNeg: number, d: number, invTau: number, eps: number,
  ): void;
  clip_forward_scratch(n: number, d: number): number;
  clip_forward(
    images: number, texts: number, logScale: number, imagesN: number, textsN: number, iNorms: number, tNorms: number,
    g: number, loss: number, dLogScale: number, scratch: number, n: number, d: number, eps: number,
  ): void;
  clip_backward_scratch(n: number, d: number): number;
  clip_backward(
    images: number, texts: number, norms: number, g: number, logScale: number, dy: number, dx: number, scratch: number,
    n: number, d: number, eps: number, which: number,
  ): void;
  kmeans_scratch(d: number, k: number): number;
  kmeans_assign(
    x: number, centroids: number, labels: number, sums: number, counts: number, inertia: number, scratch: number,
    n: number, d: number, k: number,
  ): void;
  kmeans_means(sums: number, counts: number, centroids: number, next: number, d: number, k: number): void;
  vexp_array(x: number, out: number, n: number): void;
  min_max(x: number, out: number, n: number): void;
  to_planar(x: number, out: number, n: number, c: number): void;
  from_planar(x: number, out: number, n: number, c: number): void;
  color_jitter_planar(x: number, out: number, params: number, b: number, hw: number): void;
  grayscale_planar(x: number, out: number, applied: number, b: number, hw: number): void;
  gaussian_blur_planar_scratch(h: number, w: number): number;
  gaussian_blur_planar(
    x: number, out: number, taps: number, applied: number, scratch: number, c: number, b: number, h: number, w: number, k: number,
  ): void;
  resample_planar_scratch(oh: number, w: number): number;
  resample_planar(
    x: number, out: number, index: number, fraction: number, scratch: number, c: number, b: number, h: number, w: number,
    oh: number, ow: number,
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

/** One instance of the kernel module bound to one backend memory, with its reusable scratch. */
export class KernelInstance {
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(
    readonly exports: KernelExports,
    private readonly backend: WasmBackendLike,
    /** Which instruction set the module uses: relaxed SIMD (fused multiply-add) or SIMD128. */
    readonly simd: KernelSimd = 'simd128',
  ) {}

  /**
   * A scratch buffer of at least `bytes` bytes, reused across calls and only
   * reallocated (with 50 % headroom) when a call needs more. Its contents are
   * undefined on entry.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchPtr !== 0) this.backend.wasm._free(this.scratchPtr);
      const size = Math.ceil((bytes * 1.5) / 65536) * 65536;
      const ptr = this.backend.wasm._malloc(size) >>> 0;
      if (ptr === 0) throw new BackendError(`selfsup wasm kernels: could not allocate ${size} bytes of scratch memory`);
      this.scratchPtr = ptr;
      this.scratchBytes = size;
    }
    return this.scratchPtr;
  }

  /** The module's stack in tfjs's heap (set by `bind`), freed with the scratch by {@link KernelInstance.release}. */
  stackPtr = 0;

  /** Frees this instance's stack and scratch (when another instance replaces it on the same memory). */
  release(): void {
    if (this.scratchPtr !== 0) this.backend.wasm._free(this.scratchPtr);
    if (this.stackPtr !== 0) this.backend.wasm._free(this.stackPtr);
    this.scratchPtr = this.scratchBytes = this.stackPtr = 0;
  }

  /** Byte offset of a tensor's data in the backend memory. */
  offset(dataId: object): number {
    const data = this.backend.dataIdMap.get(dataId);
    if (!data) throw new BackendError('selfsup wasm kernels: a tensor passed to the kernel is not on the wasm backend');
    return data.memoryOffset >>> 0;
  }
}

/** Bytes of stack the module gets (its code needs almost none: no arrays live on its stack). */
const STACK_BYTES = 64 * 1024;

let compiled: Partial<Record<Variant, Promise<WebAssembly.Module>>> = {};
const ready: Partial<Record<Variant, WebAssembly.Module>> = {};
const instances = new WeakMap<WebAssembly.Memory, KernelInstance>();

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
  const shared = isShared(memory);
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

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Compiles the kernel module variant that matches `backend`'s memory (shared
 * or not) and the runtime (relaxed SIMD where supported and allowed, else
 * SIMD128) and instantiates it on that memory (asynchronously, so it also
 * works on a browser's main thread). Rejects when the runtime cannot run it
 * (no wasm SIMD).
 */
export async function prepareKernels(backend: WasmBackendLike): Promise<KernelInstance> {
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
  const existing = instances.get(memory);
  if (existing && existing.simd === simd) return existing;
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  existing?.release();
  return bind(instance, memory, backend, simd);
}

function bind(instance: WebAssembly.Instance, memory: WebAssembly.Memory, backend: WasmBackendLike, simd: KernelSimd): KernelInstance {
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
 * instantiated here synchronously from the already compiled module.
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
