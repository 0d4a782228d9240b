import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { importUnbundled, isNode } from '../core/node-builtins.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { registerTrainingKernels, registeredTrainingKernels } from '../kernels/register.js';
import { kernelSimdFor, setKernelWasmPaths, setRelaxedSimd, type WasmBackendLike } from '../kernels/wasm-runtime.js';
import { registerGradients } from './register-gradients.js';


/** What {@link useBackend} and {@link backendInfo} report. */
export interface BackendInfo {
  /** The active tfjs backend, e.g. `'wasm'`. */
  backend: string;
  /** Whether the wasm backend runs its SIMD build; `null` for other backends. */
  simd: boolean | null;
  /** Threads the backend computes with (1 for cpu; the wasm thread-pool size). */
  threads: number;
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
   * Size of the wasm thread pool where the browser allows threads
   * (cross-origin isolated pages). Node runs single-threaded.
   * @default undefined (tfjs's choice: the number of cores)
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
 * @param name backend name: `'wasm'`, `'cpu'`, or any registered backend.
 * @returns the same report as {@link backendInfo}.
 *
 * @example
 * ```ts
 * import { useBackend } from 'selfsup';
 *
 * const info = await useBackend('wasm');
 * console.log(info.backend, info.simd, info.threads); // wasm true 1
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
    if (threads !== undefined) wasmModule.setThreadsCount(threads);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw new BackendError(`${fn}: the '${name}' backend failed to initialise: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(
      `${fn}: the '${name}' backend failed to initialise` +
        (name === 'wasm' && environment() === 'browser'
          ? ' (in a browser, check that the .wasm files are served and pass options.wasmPaths)'
          : ''),
    );
  }
  if (name === 'wasm') {
    // Evaluate the async flags once so backendInfo() can read them synchronously.
    await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
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
 * console.log(backendInfo()); // { backend: 'cpu', simd: null, threads: 1, ... }
 * ```
 */
export function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  // tfjs keeps evaluated flags in a field its typings mark private.
  const flags = (tf.env() as unknown as { flags: Record<string, unknown> }).flags;
  let simd: boolean | null = null;
  let threads = 1;
  let kernelsSimd: BackendInfo['kernelsSimd'] = null;
  if (backend === 'wasm') {
    simd = flags['WASM_HAS_SIMD_SUPPORT'] === true;
    threads = wasmModule ? wasmModule.getThreadsCount() : 1;
    if (registeredTrainingKernels(backend).length > 1) kernelsSimd = kernelSimdFor(tf.backend() as unknown as WasmBackendLike);
  }
  return {
    backend,
    simd,
    threads,
    gradients: tf.getGradient('BatchMatMul') !== undefined,
    kernels: registeredTrainingKernels(backend),
    kernelsSimd,
    environment: environment(),
    tfjsVersion: tf.version_core,
  };
}
