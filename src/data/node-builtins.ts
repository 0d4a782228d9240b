import { MissingDataError } from '../core/errors.js';

interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
}
interface NodeZlib {
  gunzipSync(data: Uint8Array): Uint8Array;
}

/**
 * Node's `fs` and `zlib`, fetched through `process.getBuiltinModule` (Node ≥ 20.16)
 * rather than an `import`, so browser bundles of selfsup never see a `node:`
 * specifier. Throws a {@link MissingDataError} outside Node.
 */
export function nodeFileAccess(fn: string): { fs: NodeFs; zlib: NodeZlib } {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') {
    throw new MissingDataError(
      `${fn}: reading data files needs Node.js ≥ 20.16 (process.getBuiltinModule); in a browser use the ` +
        `vendored loaders (loadDigits, loadFashionMnistSubset, loadPhotos).`,
    );
  }
  return { fs: get.call(proc, 'node:fs') as NodeFs, zlib: get.call(proc, 'node:zlib') as NodeZlib };
}
