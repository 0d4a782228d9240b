import { MissingDataError } from './errors.js';

/**
 * A Node.js built-in module (`node:fs`, `node:path`, …), fetched through
 * `process.getBuiltinModule` (Node ≥ 20.16) rather than an `import`, so that
 * browser bundles of selfsup never see a `node:` specifier. Throws a
 * {@link MissingDataError} naming `fn` and `what` (and `hint`, what to do
 * instead) outside Node.
 */
export function nodeBuiltin<T>(id: string, fn: string, what: string, hint?: string): T {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') {
    throw new MissingDataError(`${fn}: ${what} needs Node.js ≥ 20.16 (process.getBuiltinModule)${hint ? `; ${hint}` : ''}`);
  }
  return get.call(proc, id) as T;
}
