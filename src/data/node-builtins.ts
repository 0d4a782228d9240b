import { nodeBuiltin } from '../core/node-modules.js';

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
 * specifier. Throws a `MissingDataError` outside Node.
 */
export function nodeFileAccess(fn: string): { fs: NodeFs; zlib: NodeZlib } {
  const what = 'reading data files';
  const hint = 'in a browser use the vendored loaders (loadDigits, loadFashionMnistSubset, loadPhotos).';
  return { fs: nodeBuiltin<NodeFs>('node:fs', fn, what, hint), zlib: nodeBuiltin<NodeZlib>('node:zlib', fn, what, hint) };
}
