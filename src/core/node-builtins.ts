/** The parts of Node's `fs` selfsup uses. */
export interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
}
/** The parts of Node's `zlib` selfsup uses. */
export interface NodeZlib {
  gunzipSync(data: Uint8Array): Uint8Array;
}
/** The parts of Node's `url` selfsup uses. */
export interface NodeUrl {
  fileURLToPath(url: string | URL): string;
}

/** Node's built-in modules selfsup reads files with. */
export interface NodeBuiltins {
  fs: NodeFs;
  zlib: NodeZlib;
  url: NodeUrl;
}

/**
 * Node's `fs`, `zlib` and `url`, fetched through `process.getBuiltinModule`
 * (Node ≥ 20.16) rather than an `import`, so browser bundles of selfsup never
 * see a `node:` specifier; `undefined` outside Node.
 */
export function nodeBuiltins(): NodeBuiltins | undefined {
  const get = builtinGetter();
  if (get === undefined) return undefined;
  return {
    fs: get('node:fs') as NodeFs,
    zlib: get('node:zlib') as NodeZlib,
    url: get('node:url') as NodeUrl,
  };
}

/** `process.getBuiltinModule` bound to `process`, or `undefined` outside Node ≥ 20.16 (the one place selfsup looks it up). */
export function builtinGetter(): ((id: string) => unknown) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  return typeof get === 'function' ? (id: string) => get.call(proc, id) : undefined;
}

/** Whether this runs in Node (not a browser or a worker there). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * `import(specifier)` that bundlers do not follow (the specifier is a value,
 * and webpack and Vite are told to leave it), for optional peers that only a
 * Node program loads on demand: a browser bundle then never carries them.
 */
export function importUnbundled(specifier: string): Promise<unknown> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}
