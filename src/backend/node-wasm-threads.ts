/**
 * Runs tfjs-backend-wasm's threaded SIMD build in Node, which tfjs turns off
 * there (tfjs#3830: `WASM_HAS_MULTITHREAD_SUPPORT` is hard-coded to false in
 * Node, and its pthread workers are created from `blob:` URLs that Node's
 * `worker_threads` cannot load).
 *
 * For the few hundred milliseconds of the backend's initialisation, three
 * globals are wrapped and then restored:
 *
 * - `Blob` records the text of the two scripts tfjs builds at run time: the
 *   Emscripten worker script and the "main script" (the module factory) that
 *   each worker evaluates;
 * - `URL.createObjectURL` hands out a marker for the worker script instead of
 *   a `blob:` URL;
 * - `worker_threads.Worker` starts, for that marker, a small CommonJS
 *   bootstrap that runs tfjs's worker script with a `require` and serves the
 *   main script from memory (`workerData`, with the bundle-level names it
 *   refers to defined), so no file is written; and it records the workers
 *   Emscripten starts, so they can be `unref()`ed once the backend is up
 *   (otherwise the pthreads of tfjs's thread pool keep the process alive
 *   forever) and terminated if the set-up fails.
 *
 * What this depends on, and checks before it relies on it: the flag name;
 * that tfjs creates exactly one script `Blob` that it does not pass to
 * `URL.createObjectURL` (the main script) and hands the worker script to
 * `URL.createObjectURL`; and that every bundler-generated name the main
 * script uses (`require$$N`, `commonjsGlobal`) can be resolved from the
 * installed bundle. Anything unexpected is reported as a reason and the
 * caller falls back to the single-threaded build. A worker that fails to load
 * reports it instead of throwing, so a changed bundle cannot crash the process.
 *
 * Node built-ins come through `process.getBuiltinModule` (src/core/node.ts),
 * so browser bundles of selfsup never see a `node:` specifier.
 */
import { isNode, nodeBuiltin, resolvePackage } from '../core/node.js';
import { classicWorkerExecArgv } from '../kernels/thread-pool.js';

/** `{ execArgv }` where a classic-script worker needs its own Node options, else nothing (it inherits the parent's). */
function execArgvOption(): { execArgv?: string[] } {
  const execArgv = classicWorkerExecArgv();
  return execArgv ? { execArgv } : {};
}

interface NodeWorker {
  on(event: string, listener: (data: never) => void): unknown;
  unref(): void;
  terminate(): Promise<number>;
}
type NodeWorkerClass = new (...args: never[]) => NodeWorker;
interface WorkerThreadsModule {
  Worker: NodeWorkerClass;
}

/** The smallest module with a shared memory: validates only where wasm threads are supported. */
const SHARED_MEMORY_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 3, 1, 1]);

const FN = 'useBackend';

/** Where tfjs-backend-wasm's Node bundle is installed (resolved from selfsup's own location, then the working directory). */
function bundlePath(): string | undefined {
  const id = '@tensorflow/tfjs-backend-wasm';
  const beside = resolvePackage(id, FN);
  if (beside) return beside;
  try {
    return nodeBuiltin('node:module', FN).createRequire(`${process.cwd()}/`).resolve(id);
  } catch {
    return undefined;
  }
}

/** The installed bundle and the module each of its `var require$$N = require('m')` names stands for. */
export interface BundleFacts {
  path: string;
  requires: Map<string, string>;
}

/**
 * Checks that this Node can run the threaded build at all and reads what the
 * shim needs from the installed bundle. Returns the facts, or why not.
 */
export function inspectNodeRuntime(): BundleFacts | string {
  if (!isNode()) return 'threads in Node need process.getBuiltinModule (Node ≥ 20.16)';
  if (typeof SharedArrayBuffer === 'undefined') return 'this Node has no SharedArrayBuffer';
  if (!WebAssembly.validate(SHARED_MEMORY_MODULE)) return 'this Node cannot run WebAssembly threads (no shared memory)';
  const path = bundlePath();
  if (!path) return 'could not locate the installed @tensorflow/tfjs-backend-wasm bundle';
  let text: string;
  try {
    text = nodeBuiltin('node:fs', FN).readFileSync(path, 'utf8');
  } catch (e) {
    return `could not read ${path} (${(e as Error).message})`;
  }
  const requires = new Map<string, string>();
  for (const m of text.matchAll(/\bvar (require\$\$\d+) = require\((['"])([^'"]+)\2\)/g)) requires.set(m[1]!, m[3]!);
  return { path, requires };
}

/** Identifiers that bundlers generate at a bundle's top level and tfjs's main script may refer to. */
const BUNDLE_NAME = /\b(require\$\$\d+|commonjsGlobal)\b/g;

/** Definitions of the bundle-level names `mainScript` uses, or why one cannot be resolved. */
function bundleDefinitions(mainScript: string, facts: BundleFacts): string {
  const names = [...new Set(mainScript.match(BUNDLE_NAME) ?? [])].sort();
  return names
    .map((name) => {
      if (name === 'commonjsGlobal') return 'var commonjsGlobal = globalThis;';
      const id = facts.requires.get(name);
      if (!id) {
        throw new Error(
          `tfjs-backend-wasm's threaded main script refers to ${name}, which its bundle (${facts.path}) does not define ` +
            'as a plain require(); this bundle layout is not supported',
        );
      }
      return `var ${name} = require(${JSON.stringify(id)});`;
    })
    .join('\n');
}

/** What `URL.createObjectURL` returns for tfjs's worker script: the recording `Worker` starts the bootstrap below instead. */
const WORKER_SCRIPT = 'selfsup:tfjs-wasm-worker-script';
/** What the worker's `URL.createObjectURL` returns for the main-script Blob tfjs posts to it. */
const MAIN_SCRIPT = 'selfsup:tfjs-wasm-main-script';

/**
 * The worker's entry point (CommonJS, `eval: true`): runs tfjs's worker script
 * (from `workerData`) as Emscripten expects in Node, with `require` and
 * `__filename`; its `importScripts(MAIN_SCRIPT)` evaluates the main script
 * from `workerData` (followed by the bundle-level definitions), and a load
 * failure is posted back (`{ selfsupLoadError }`, which Emscripten ignores)
 * instead of thrown.
 */
const WORKER_BOOTSTRAP = `
'use strict';
// (The built-in's bare name: a browser bundle of selfsup names no 'node:' specifier, not even in a string.)
const { workerData } = require('worker_threads');
new Function('require', '__filename', workerData.worker)(require, workerData.file);
const load = globalThis.importScripts;
globalThis.importScripts = (f) => (f === ${JSON.stringify(MAIN_SCRIPT)} ? (0, eval)(workerData.main) : load(f));
URL.createObjectURL = () => ${JSON.stringify(MAIN_SCRIPT)};
URL.revokeObjectURL = () => {};
const handle = globalThis.onmessage;
globalThis.onmessage = (e) => {
  try {
    handle(e);
  } catch (err) {
    if (e && e.data && e.data.cmd === 'load') {
      postMessage({ selfsupLoadError: String((err && err.stack) || err) });
      return;
    }
    throw err;
  }
};
`;

/** The globals wrapped while the threaded build initialises, and what the wrappers saw. */
export interface NodeThreadShim {
  /** Rejects when a tfjs worker reports that it could not load. */
  readonly failed: Promise<never>;
  /** Puts the original globals back (idempotent). */
  restore(): void;
  /** Lets the process exit while tfjs's workers wait for work. */
  release(): void;
  /** Stops every worker tfjs started (after a failed set-up). */
  terminate(): void;
  /** Workers tfjs started through the shim. */
  readonly workerCount: number;
}

/** Wraps `Blob`, `URL.createObjectURL` and `worker_threads.Worker` until `restore()`. */
export function installNodeThreadShim(facts: BundleFacts): NodeThreadShim {
  const wt = nodeBuiltin('node:worker_threads', FN) as unknown as WorkerThreadsModule;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {
    Blob: globalThis.Blob,
    createObjectURL: URL.createObjectURL,
    Worker: wt.Worker,
    hadGlobalWorker: Object.prototype.hasOwnProperty.call(g, 'Worker'),
    globalWorker: g['Worker'],
  };
  const texts = new WeakMap<Blob, string>();
  const created: Blob[] = [];
  const handedOut = new Set<Blob>();
  let mainScript: string | undefined;
  let workerScript: string | undefined;
  const workers: NodeWorker[] = [];
  let reject: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, r) => {
    reject = r;
  });
  failed.catch(() => {}); // observed by the caller's race; never an unhandled rejection

  class RecordingBlob extends saved.Blob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts && parts.every((p) => typeof p === 'string')) {
        texts.set(this, (parts as string[]).join(''));
        created.push(this);
      }
    }
  }
  const OriginalWorker = saved.Worker;
  class RecordingWorker extends (OriginalWorker as unknown as new (...args: unknown[]) => NodeWorker) {
    constructor(...args: unknown[]) {
      // Emscripten starts its pthread workers from the worker script's object URL; start the bootstrap in its place.
      super(
        ...(args[0] === WORKER_SCRIPT
          ? [
              WORKER_BOOTSTRAP,
              {
                eval: true,
                ...execArgvOption(),
                workerData: { worker: workerScript, main: mainScript, file: facts.path },
              },
            ]
          : args),
      );
      workers.push(this);
      this.on('message', (data: unknown) => {
        const error = (data as { selfsupLoadError?: string } | null)?.selfsupLoadError;
        if (error) reject(new Error(`a tfjs pthread worker could not load: ${error}`));
      });
    }

    /**
     * Until the backend is up, a worker error fails the set-up (softly)
     * instead of reaching Emscripten, which throws it; after a failed set-up
     * the abandoned workers' errors are dropped.
     */
    override on(event: string, listener: (data: never) => void): unknown {
      if (event !== 'error') return super.on(event, listener);
      return super.on('error', (e: never) => {
        if (state === 'up') listener(e);
        else if (state === 'starting') reject(new Error(`a tfjs pthread worker failed: ${(e as Error)?.message ?? String(e)}`));
      });
    }
  }
  const createObjectURL = (blob: Blob | MediaSource): string => {
    const text = blob instanceof saved.Blob ? texts.get(blob) : undefined;
    if (text === undefined) return saved.createObjectURL(blob as Blob);
    handedOut.add(blob as Blob);
    if (mainScript === undefined) {
      try {
        const candidates = created.filter((b) => !handedOut.has(b));
        if (candidates.length !== 1) {
          throw new Error(
            `expected tfjs to create one main-script Blob before its worker script, found ${candidates.length}; ` +
              'this tfjs-backend-wasm version creates its threaded build differently',
          );
        }
        const main = texts.get(candidates[0]!)!;
        mainScript = `${main}\n;${bundleDefinitions(main, facts)}`;
      } catch (e) {
        reject(e as Error); // the reason, ahead of tfjs's generic failure
        throw e;
      }
    }
    workerScript = text;
    // Emscripten passes the result straight to `new Worker(...)` (the recording one).
    return WORKER_SCRIPT;
  };

  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = createObjectURL;
  wt.Worker = RecordingWorker as unknown as NodeWorkerClass;
  let restored = false;
  let state: 'starting' | 'up' | 'abandoned' = 'starting';
  return {
    failed,
    get workerCount() {
      return workers.length;
    },
    restore() {
      if (restored) return;
      restored = true;
      globalThis.Blob = saved.Blob;
      URL.createObjectURL = saved.createObjectURL;
      wt.Worker = saved.Worker;
      // Emscripten's Node glue sets globalThis.Worker = worker_threads.Worker; put back what was there.
      if (saved.hadGlobalWorker) g['Worker'] = saved.globalWorker;
      else delete g['Worker'];
    },
    release() {
      state = 'up';
      for (const w of workers) w.unref();
    },
    terminate() {
      state = 'abandoned';
      for (const w of workers) void w.terminate();
    },
  };
}
