import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { importUnbundled, isNode } from '../core/node-builtins.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { registerTrainingKernels, registeredTrainingKernels } from '../kernels/register.js';
import {
  backendMemory,
  configureKernelThreads,
  isSharedMemory,
  kernelSimdFor,
  kernelThreadInfo,
  releaseKernels,
  setKernelWasmPaths,
  setRelaxedSimd,
  type WasmBackendLike,
} from '../kernels/wasm-runtime.js';
import { installNodeThreadShim, inspectNodeRuntime, type BundleFacts, type NodeThreadShim } from './node-wasm-threads.js';
import { browserThreadBlocker, defaultThreadCount, reportCoresToEmscripten, TFJS_MAX_THREADS } from './wasm-threads.js';
import { registerGradients } from './register-gradients.js';


/** What {@link useBackend} and {@link backendInfo} report. */
export interface BackendInfo {
  /** The active tfjs backend, e.g. `'wasm'`. */
  backend: string;
  /** Whether the wasm backend runs its SIMD build; `null` for other backends. */
  simd: boolean | null;
  /**
   * Threads the backend computes with: the size of tfjs-backend-wasm's thread
   * pool on wasm (1 for its single-threaded build), 1 on cpu.
   */
  threads: number;
  /** Threads selfsup's own wasm kernels split their work over (equal to `threads` unless its workers failed to start). */
  kernelThreads: number;
  /**
   * Why `threads` is lower than asked for (or than the default, all cores):
   * e.g. a page that is not cross-origin isolated, tfjs's cap of 8, or a
   * tfjs-backend-wasm build the Node shim does not recognise. `null` when
   * nothing was limited.
   */
  threadsReason: string | null;
  /** Whether tfjs-core's gradients are registered (training works). */
  gradients: boolean;
  /** Kernels selfsup registered for this backend. */
  kernels: string[];
  /**
   * The instruction set of selfsup's wasm kernels: `'relaxed'` (WebAssembly
   * relaxed SIMD, fused multiply-add: Chromium ≥ 114, Node ≥ 22) or
   * `'simd128'`; `null` when they are not loaded (other backends, `kernels: false`).
   */
  kernelsSimd: 'relaxed' | 'simd128' | null;
  /** `'node'` or `'browser'`. */
  environment: 'node' | 'browser';
  /** The version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
}

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Where the browser fetches the wasm binaries: a URL prefix ending in `/`, or
   * a map from file name (`tfjs-backend-wasm-simd.wasm`, …) to URL. It serves
   * tfjs-backend-wasm's files (`node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm`)
   * and selfsup's kernels (`node_modules/selfsup/dist/selfsup-kernels*.wasm`)
   * alike. Not needed in Node, where both are read from the installed packages.
   * @default undefined (tfjs's default, and selfsup's kernels beside selfsup's code)
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * Threads of the wasm backend (tfjs's thread pool and selfsup's kernels
   * alike). `1` runs tfjs's single-threaded SIMD build. More than one runs its
   * threaded SIMD build: in Node always (selfsup starts it, tfjs alone does
   * not), in a browser where the page is cross-origin isolated (COOP/COEP
   * headers); elsewhere the backend falls back to one thread and
   * `threadsReason` says why. At most 8 (tfjs's limit). The count is fixed
   * when the backend is created: asking for another one later re-creates the
   * wasm backend, which is refused while tensors live on it. Ignored by other
   * backends.
   * @default the cores available: `os.availableParallelism()` in Node (or the
   * environment variable `SELFSUP_THREADS` where it is set),
   * `navigator.hardwareConcurrency` in a cross-origin-isolated page, else 1
   */
  threads?: number;
  /**
   * Register selfsup's training kernels for the backend (conv gradients and
   * fused losses on wasm).
   * @default true
   */
  kernels?: boolean;
  /**
   * Let selfsup's wasm kernels use WebAssembly relaxed SIMD (fused
   * multiply-add) where the runtime has it; `false` keeps the SIMD128 build
   * everywhere. The two builds compute the same functions; sums may differ
   * in their last bits (a fused multiply-add rounds once).
   * @default true
   */
  relaxedSimd?: boolean;
}

interface WasmModule {
  setWasmPaths(prefixOrMap: string | Record<string, string>, usePlatformFetch?: boolean): void;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

let wasmModule: WasmModule | undefined;

async function loadBackendPackage(name: string): Promise<void> {
  if (tf.findBackendFactory(name) !== null && name !== 'wasm') return;
  try {
    if (name === 'wasm') {
      wasmModule = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmModule;
    } else if (name === 'cpu') {
      // Kept out of browser bundles: an app on wasm does not ship the cpu backend (Node loads it on demand).
      await importUnbundled('@tensorflow/tfjs-backend-cpu');
    }
  } catch (e) {
    const install = `npm install @tensorflow/tfjs-backend-${name}@${tf.version_core}`;
    throw new BackendError(
      `useBackend: could not import @tensorflow/tfjs-backend-${name} (${(e as Error).message.split('\n')[0]}). ` +
        (name === 'wasm'
          ? `Install it (the @tensorflow/tfjs union package does not include it): ${install}`
          : isNode()
            ? `Install it: ${install}`
            : `In a browser, import it yourself before this call (import '@tensorflow/tfjs-backend-cpu'): ` +
              `selfsup leaves it out of bundles of apps that train on wasm.`),
    );
  }
  if (tf.findBackendFactory(name) === null) {
    throw new BackendError(
      `useBackend: no tfjs backend named '${name}' is registered. selfsup loads 'cpu' and 'wasm' itself; ` +
        `for another backend, import its package first (e.g. import '@tensorflow/tfjs-backend-webgl').`,
    );
  }
}

function environment(): 'node' | 'browser' {
  return isNode() ? 'node' : 'browser';
}

/** What the wasm backend instance was created with. */
interface WasmThreads {
  /** The count asked for (explicitly or by default). */
  requested: number;
  threads: number;
  reason: string | null;
}
const wasmThreads = new WeakMap<object, WasmThreads>();

const MULTITHREAD_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';
/** A threaded initialisation that takes longer than this is abandoned for the single-threaded build. */
const THREADED_INIT_TIMEOUT_MS = 60_000;

/** Lets tests run the Node shim against doctored bundle facts (the fail-soft paths). */
let nodeFactsOverride: BundleFacts | undefined;
/** @internal */
export function overrideNodeBundleFactsForTesting(facts: BundleFacts | undefined): void {
  nodeFactsOverride = facts;
}

function setMultithreadFlag(value: boolean): string | null {
  try {
    tf.env().set(MULTITHREAD_FLAG, value);
    return null;
  } catch (e) {
    return `tfjs-backend-wasm registers no ${MULTITHREAD_FLAG} flag (${(e as Error).message})`;
  }
}

/** Removes the wasm backend instance (and selfsup's kernel workers on it) so it can be created again. */
function recreateWasmRegistration(): void {
  const factory = tf.findBackendFactory('wasm');
  const registry = (tf.engine() as unknown as { registryFactory?: Record<string, { priority?: number }> }).registryFactory;
  const priority = registry?.['wasm']?.priority ?? 2;
  const backend = tf.findBackend('wasm');
  if (backend) releaseKernels(backend as unknown as WasmBackendLike);
  tf.removeBackend('wasm');
  if (factory) tf.registerBackend('wasm', factory, priority);
}

async function setBackendOrFail(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw new BackendError(`useBackend: the '${name}' backend failed to initialise: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(
      `useBackend: the '${name}' backend failed to initialise` +
        (name === 'wasm' && environment() === 'browser'
          ? ' (in a browser, check that the .wasm files are served and pass options.wasmPaths)'
          : ''),
    );
  }
}

/** Races tfjs's initialisation against a worker's load failure and a time limit; true when the backend came up. */
async function initialiseWithin(failed: Promise<never> | undefined): Promise<true | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`tfjs's threaded build did not start within ${THREADED_INIT_TIMEOUT_MS / 1000} s`), THREADED_INIT_TIMEOUT_MS);
    (timer as { unref?: () => void }).unref?.();
  });
  try {
    const outcome = await Promise.race([
      tf.setBackend('wasm').then((ok) => (ok && tf.getBackend() === 'wasm' ? (true as const) : "tfjs's threaded build failed to initialise")),
      timeout,
      ...(failed ? [failed] : []),
    ]);
    return outcome;
  } catch (e) {
    return (e as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the wasm backend with `requested` threads where the runtime allows, else one; returns what it got and why. */
async function createWasmBackend(wasm: WasmModule, requested: number, byDefault: boolean): Promise<WasmThreads> {
  let want = Math.min(requested, TFJS_MAX_THREADS);
  let reason: string | null =
    requested > TFJS_MAX_THREADS
      ? `tfjs-backend-wasm runs at most ${TFJS_MAX_THREADS} threads (${requested} ${byDefault ? 'cores available' : 'asked for'})`
      : null;
  if (want > 1 && environment() === 'browser') {
    const blocker = browserThreadBlocker();
    if (blocker) [want, reason] = [1, blocker];
  }
  let shim: NodeThreadShim | undefined;
  if (want > 1 && environment() === 'node') {
    const facts = nodeFactsOverride ?? inspectNodeRuntime();
    const flagProblem = typeof facts === 'string' ? null : setMultithreadFlag(true);
    if (typeof facts === 'string' || flagProblem) {
      [want, reason] = [1, `threads are off: ${typeof facts === 'string' ? facts : flagProblem}`];
    } else {
      shim = installNodeThreadShim(facts);
    }
  }
  if (want > 1) {
    const restoreImports = reportCoresToEmscripten(want);
    wasm.setThreadsCount(want);
    let outcome: true | string;
    try {
      outcome = await initialiseWithin(shim?.failed);
    } finally {
      restoreImports();
      shim?.restore();
    }
    if (outcome === true) {
      shim?.release();
      const threads = wasm.getThreadsCount();
      const backend = tf.findBackend('wasm') as unknown as WasmBackendLike;
      if (!isSharedMemory(backendMemory(backend))) {
        return { requested, threads: 1, reason: 'tfjs loaded its single-threaded build (was a single .wasm file set with setWasmPaths?)' };
      }
      if (threads < want) reason = `tfjs-backend-wasm started ${threads} of the ${want} threads asked for`;
      return { requested, threads, reason };
    }
    // Fail soft: forget the half-made backend and its workers, then take the single-threaded build.
    shim?.terminate();
    recreateWasmRegistration();
    reason = `threads are off: ${outcome}`;
  }
  // One thread: tfjs's single-threaded SIMD build (also in an isolated page, where tfjs would pick the threaded one).
  setMultithreadFlag(false);
  wasm.setThreadsCount(1);
  await setBackendOrFail('wasm');
  return { requested, threads: 1, reason };
}

/** Makes the wasm backend current with the requested thread count (re-creating it for a different explicit count). */
async function readyWasm(wasm: WasmModule, threads: number | undefined): Promise<WasmThreads> {
  const existing = tf.findBackend('wasm');
  if (existing) {
    // A backend created without useBackend runs whatever tfjs gave it.
    const count = wasm.getThreadsCount();
    const state = wasmThreads.get(existing) ?? { requested: count, threads: count, reason: null };
    if (threads === undefined || threads === state.requested) {
      await setBackendOrFail('wasm');
      return state;
    }
    const live = (existing as unknown as { numDataIds(): number }).numDataIds();
    if (live > 0) {
      throw new BackendError(
        `useBackend: the wasm backend runs ${state.threads} thread(s) and the thread count is fixed when it is created; ` +
          `re-creating it for options.threads = ${threads} would lose the ${live} tensor(s) that live on it. ` +
          'Dispose them first (or pass threads on the first useBackend call)',
      );
    }
    recreateWasmRegistration();
  }
  const requested = threads ?? defaultThreadCount();
  if (typeof requested === 'string') throw new BackendError(`useBackend: ${requested}`);
  const state = await createWasmBackend(wasm, requested, threads === undefined);
  wasmThreads.set(tf.findBackend('wasm')!, state);
  return state;
}

/** The wasm set-up in progress, which the next one waits for. */
let wasmSetUp: Promise<unknown> = Promise.resolve();

let lastInfo: BackendInfo | undefined;

/**
 * Makes a tfjs backend ready for self-supervised training and reports it.
 *
 * It loads the backend package on demand (`'wasm'` →
 * `@tensorflow/tfjs-backend-wasm`, which the `@tensorflow/tfjs` union package
 * does not include: install it beside; `'cpu'` → `@tensorflow/tfjs-backend-cpu`,
 * which a browser app imports itself, so that bundles of apps on wasm do not
 * carry it; other backends must be imported by the caller), registers tfjs-core's
 * gradients ({@link registerGradients}) and selfsup's training kernels, sets the
 * backend and waits until it is ready. In Node the wasm binaries are found in
 * the installed package; in a browser pass `wasmPaths` unless the bundler
 * serves them next to the script. Nothing happens at import time: this call is
 * the whole setup.
 *
 * The wasm backend uses every core by default (`options.threads`), for tfjs's
 * thread pool and selfsup's kernels alike: in Node selfsup starts tfjs's
 * threaded build itself (tfjs keeps it off there), in a browser it needs a
 * cross-origin-isolated page and falls back to one thread elsewhere, saying why
 * in `threadsReason`. Results at N threads equal those at one, bit for bit,
 * for selfsup's kernels.
 *
 * @param name backend name: `'wasm'`, `'cpu'`, or any registered backend.
 * @returns the same report as {@link backendInfo}.
 *
 * @example
 * ```ts
 * import { useBackend } from 'selfsup';
 *
 * const info = await useBackend('wasm');
 * console.log(info.backend, info.simd, info.threads); // wasm true 2 (on a 2-core machine)
 * ```
 */
export async function useBackend(name = 'wasm', options: UseBackendOptions = {}): Promise<BackendInfo> {
  const fn = 'useBackend';
  assertKnownOptions(options, ['wasmPaths', 'threads', 'kernels', 'relaxedSimd'], fn);
  if (typeof name !== 'string' || name.length === 0) {
    throw new BackendError(`${fn}: name must be a backend name such as 'wasm' or 'cpu', got ${describeValue(name)}`);
  }
  const { wasmPaths, threads, kernels = true, relaxedSimd = true } = options;
  assertOneOf(relaxedSimd, [true, false], fn, 'options.relaxedSimd');
  if (threads !== undefined) assertInteger(threads, fn, 'options.threads', { min: 1 });

  await registerGradients();
  await loadBackendPackage(name);
  if (name === 'wasm' && wasmModule) {
    if (wasmPaths !== undefined) {
      wasmModule.setWasmPaths(wasmPaths);
      setKernelWasmPaths(wasmPaths); // selfsup's kernel modules are served beside tfjs's
    }
    // One set-up at a time: two concurrent calls must not both create (and shim) the backend.
    const wasm = wasmModule;
    const setUp = wasmSetUp.then(() => readyWasm(wasm, threads));
    wasmSetUp = setUp.catch(() => undefined);
    const state = await setUp;
    // Evaluate the async flags once so backendInfo() can read them synchronously.
    await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    configureKernelThreads(tf.findBackend('wasm') as unknown as WasmBackendLike, state.threads);
  } else {
    await setBackendOrFail(name);
  }
  if (name === 'wasm') setRelaxedSimd(relaxedSimd);
  if (kernels) await registerTrainingKernels(name);
  lastInfo = backendInfo();
  return lastInfo;
}

/**
 * Reports the active backend: its name, whether wasm runs with SIMD, the
 * thread count, whether gradients are registered and which selfsup kernels
 * are in place. Synchronous; call {@link useBackend} first for complete
 * wasm information.
 *
 * @example
 * ```ts
 * import { backendInfo, useBackend } from 'selfsup';
 *
 * await useBackend('cpu');
 * console.log(backendInfo()); // { backend: 'cpu', simd: null, threads: 1, kernelThreads: 1, threadsReason: null, ... }
 * ```
 */
export function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  // tfjs keeps evaluated flags in a field its typings mark private.
  const flags = (tf.env() as unknown as { flags: Record<string, unknown> }).flags;
  let simd: boolean | null = null;
  let threads = 1;
  let kernelThreads = 1;
  let threadsReason: string | null = null;
  let kernelsSimd: BackendInfo['kernelsSimd'] = null;
  const instance = tf.findBackend(backend);
  if (backend === 'wasm' && instance) {
    simd = flags['WASM_HAS_SIMD_SUPPORT'] === true;
    const state = wasmThreads.get(instance);
    threads = state?.threads ?? (wasmModule ? wasmModule.getThreadsCount() : 1);
    const k = kernelThreadInfo(instance as unknown as WasmBackendLike);
    kernelThreads = k.threads;
    threadsReason = [state?.reason, k.reason].filter((r) => r).join('; ') || null;
    if (registeredTrainingKernels(backend).length > 1) kernelsSimd = kernelSimdFor(instance as unknown as WasmBackendLike);
  }
  return {
    backend,
    simd,
    threads,
    kernelThreads,
    threadsReason,
    gradients: tf.getGradient('BatchMatMul') !== undefined,
    kernels: registeredTrainingKernels(backend),
    kernelsSimd,
    environment: environment(),
    tfjsVersion: tf.version_core,
  };
}
