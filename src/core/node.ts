/**
 * Node's built-in modules for the Node-only parts of selfsup (file loaders,
 * model files, decoding threads), typed, reached through `process.getBuiltinModule`
 * (`builtinGetter` in node-builtins.ts, which the wasm kernels' loader also uses)
 * (Node ≥ 20.16) rather than an `import`: a browser bundle of selfsup never
 * sees a `node:` specifier, and bundlers never try to resolve one. Optional
 * npm packages (sharp, the pure-JS image decoders) are loaded the same way,
 * with a `require` made for this file, so bundlers do not see them either.
 *
 * @module
 */
import type * as Crypto from 'node:crypto';
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type * as Zlib from 'node:zlib';
import { MissingDataError } from './errors.js';
import { builtinGetter } from './node-builtins.js';

/** The built-in modules selfsup uses, by id. */
export interface NodeBuiltins {
  'node:crypto': typeof Crypto;
  'node:fs': typeof Fs;
  'node:fs/promises': typeof FsPromises;
  'node:os': typeof Os;
  'node:path': typeof Path;
  'node:worker_threads': typeof WorkerThreads;
  'node:zlib': typeof Zlib;
  'node:module': { createRequire(path: string): NodeJS.Require };
}

// One test for "is this Node" in the whole library (node-builtins.ts; the backend set-up uses it too).
export { isNode } from './node-builtins.js';

/**
 * A Node built-in module. Throws a {@link MissingDataError} naming `fn` outside
 * Node (`hint` says what to use instead in a browser).
 */
export function nodeBuiltin<K extends keyof NodeBuiltins>(id: K, fn: string, hint = ''): NodeBuiltins[K] {
  const get = builtinGetter();
  if (get === undefined) {
    throw new MissingDataError(
      `${fn}: this function reads or writes files and needs Node.js ≥ 20.16 (process.getBuiltinModule)${hint ? `; ${hint}` : ''}`,
    );
  }
  return get(id) as NodeBuiltins[K];
}

/** This module's own location, for resolving packages next to selfsup (ESM: import.meta.url; CommonJS build: __filename). */
function moduleBase(): string {
  if (typeof __filename === 'string' && __filename.length > 0) return __filename;
  return import.meta.url;
}

let cachedRequire: NodeJS.Require | undefined;

/** A `require` resolving from selfsup's own location (Node only). */
export function selfsupRequire(fn: string): NodeJS.Require {
  cachedRequire ??= nodeBuiltin('node:module', fn).createRequire(moduleBase());
  return cachedRequire;
}

/**
 * Loads an optional npm package (e.g. `sharp`), or returns `undefined` when it
 * is not installed or fails to load (a native package built for another
 * platform throws at load time).
 */
export function optionalPackage<T>(name: string, fn: string): T | undefined {
  try {
    return selfsupRequire(fn)(name) as T;
  } catch {
    return undefined;
  }
}

/** The absolute path of an installed package's entry file, or `undefined`. */
export function resolvePackage(name: string, fn: string): string | undefined {
  try {
    return selfsupRequire(fn).resolve(name);
  } catch {
    return undefined;
  }
}

let tempCounter = 0;

/**
 * Writes `data` to `path` atomically: into a temporary file in the same
 * folder, flushed to disk, then renamed over `path`. A reader (or a crash)
 * sees either the old file or the complete new one, never a partial one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, fn: string): Promise<void> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  const { dirname, basename, join } = nodeBuiltin('node:path', fn);
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${(tempCounter++).toString(36)}.tmp`);
  const handle = await fsp.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fsp.rm(temp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(dir, fn);
}

/** Flushes a folder's entries (a rename) to disk; a no-op where folders cannot be opened (Windows). */
export async function syncDirectory(dir: string, fn: string): Promise<void> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Folders cannot be opened or fsync'ed on some platforms; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}
