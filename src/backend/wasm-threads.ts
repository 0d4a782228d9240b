/**
 * How many threads the wasm backend runs with, and the set-up that gets
 * tfjs-backend-wasm's threaded build that many: in Node through the shim of
 * node-wasm-threads.ts, in a browser wherever the page is cross-origin
 * isolated.
 *
 * tfjs sizes its thread pool in C as min(requested, 8, logical cores / 2),
 * where "logical cores" comes from the module's `emscripten_num_logical_cores`
 * import (`navigator.hardwareConcurrency`, or `os.cpus().length` in Node):
 * half the cores, 1 on a 2-core machine, on the assumption of two hardware
 * threads per core. While the backend initialises, selfsup wraps
 * `WebAssembly.instantiate` and `instantiateStreaming` so that this one
 * import of the module being instantiated reports 2 × the requested count;
 * nothing else changes and both are restored afterwards. The 8 stays: tfjs
 * starts 8 workers and its C code caps its pool there.
 */

import { isNode, nodeBuiltin } from '../core/node.js';

/** tfjs-backend-wasm's most threads (its C cap, and the workers Emscripten starts up front). */
export const TFJS_MAX_THREADS = 8;

type Imports = WebAssembly.Imports | undefined;

function withCoreCount(imports: Imports, threads: number): Imports {
  const env = imports?.['env'] as Record<string, unknown> | undefined;
  if (!env || typeof env['emscripten_num_logical_cores'] !== 'function') return imports;
  // tfjs's C code takes half of what this returns as the core count.
  return { ...imports, env: { ...env, emscripten_num_logical_cores: () => 2 * threads } };
}

/** Until the returned function is called, modules instantiated with an `emscripten_num_logical_cores` import see 2 × `threads` cores. */
export function reportCoresToEmscripten(threads: number): () => void {
  const wasm = WebAssembly as unknown as Record<string, (source: unknown, imports: Imports) => unknown>;
  const instantiate = wasm['instantiate']!;
  const streaming = wasm['instantiateStreaming'];
  wasm['instantiate'] = function (source: unknown, imports: Imports) {
    return instantiate.call(WebAssembly, source, withCoreCount(imports, threads));
  };
  if (streaming) {
    wasm['instantiateStreaming'] = function (source: unknown, imports: Imports) {
      return streaming.call(WebAssembly, source, withCoreCount(imports, threads));
    };
  }
  return () => {
    wasm['instantiate'] = instantiate;
    if (streaming) wasm['instantiateStreaming'] = streaming;
  };
}

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
}

/** The environment variable that replaces the default thread count in Node. */
export const THREADS_ENV = 'SELFSUP_THREADS';

/**
 * The default thread count: in Node the `SELFSUP_THREADS` environment
 * variable if set, else `os.availableParallelism()` (the cores this process
 * may use); in a browser `navigator.hardwareConcurrency`. Returns an error
 * message for a `SELFSUP_THREADS` that is not a positive integer.
 */
export function defaultThreadCount(): number | string {
  if (isNode()) {
    const os = nodeBuiltin('node:os', 'useBackend');
    const env = process.env[THREADS_ENV];
    if (env !== undefined && env !== '') {
      const n = Number(env);
      if (!Number.isInteger(n) || n < 1) return `the environment variable ${THREADS_ENV} must be an integer ≥ 1, got '${env}'`;
      return n;
    }
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  }
  const n = (globalThis as BrowserGlobals).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
}

/** Why a browser page cannot run threads, or null where it can. */
export function browserThreadBlocker(): string | null {
  const g = globalThis as BrowserGlobals;
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false) {
    return (
      'the page is not cross-origin isolated (crossOriginIsolated is false, no SharedArrayBuffer): serve it with ' +
      "the headers 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' to use threads"
    );
  }
  return null;
}
