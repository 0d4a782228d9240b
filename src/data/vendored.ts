/**
 * The vendored datasets are gzip-compressed binary files, `data/*.bin.gz` in
 * the package (written by scripts/vendor-data.py; sizes and hashes of the
 * uncompressed bytes in ./assets/). Node reads them from the installed package
 * on first use; a browser fetches them once with {@link fetchVendoredData},
 * after which the loaders are synchronous there too.
 */
import { InvalidArgumentError, MissingDataError } from '../core/errors.js';
import { nodeBuiltins, type NodeBuiltins } from '../core/node-builtins.js';
import { assertKnownOptions, describeValue } from '../core/validate.js';
import { DIGITS_ASSET } from './assets/digits.js';
import { FASHION_MNIST_SUBSET_ASSET } from './assets/fashion-mnist-subset.js';
import { PHOTOS_ASSET } from './assets/photos.js';

/** The name of a dataset vendored in the package. */
export type VendoredDataName = 'digits' | 'fashion-mnist-subset' | 'photos';

const ASSETS: Record<VendoredDataName, { file: string; bytes: number }> = {
  digits: DIGITS_ASSET,
  'fashion-mnist-subset': FASHION_MNIST_SUBSET_ASSET,
  photos: PHOTOS_ASSET,
};
const NAMES = Object.keys(ASSETS) as VendoredDataName[];

/** Which loader reads which asset, for the messages. */
const LOADER: Record<VendoredDataName, string> = {
  digits: 'loadDigits',
  'fashion-mnist-subset': 'loadFashionMnistSubset',
  photos: 'loadPhotos',
};

const cache = new Map<VendoredDataName, Uint8Array>();

/**
 * Where a browser finds each file by default: the package's data/ folder,
 * seen from the built code in dist/. Literal `new URL(…, import.meta.url)`
 * expressions, so bundlers that understand them (webpack 5, Vite, Parcel)
 * ship the files.
 */
function defaultUrl(name: VendoredDataName): URL {
  switch (name) {
    case 'digits':
      return new URL('../data/digits.bin.gz', import.meta.url);
    case 'fashion-mnist-subset':
      return new URL('../data/fashion-mnist-subset.bin.gz', import.meta.url);
    case 'photos':
      return new URL('../data/photos.bin.gz', import.meta.url);
  }
}

/** Whether `data` starts as a gzip stream does (a server may have decoded it already: Content-Encoding). */
function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

function notGzip(name: VendoredDataName, source: string, fn: string, e: unknown): MissingDataError {
  return new MissingDataError(
    `${fn}: ${source} is not a complete gzip file (${(e as Error).message}); ` +
      `serve the files of node_modules/selfsup/data/ unchanged (${ASSETS[name].file})`,
  );
}

/** The uncompressed bytes of a file read in Node (synchronously, with Node's zlib). */
function gunzipInNode(name: VendoredDataName, data: Uint8Array, source: string, fn: string, node: NodeBuiltins): Uint8Array {
  if (!isGzip(data)) return data;
  try {
    return node.zlib.gunzipSync(data);
  } catch (e) {
    throw notGzip(name, source, fn, e);
  }
}

/** The uncompressed bytes of a fetched file: the platform's `DecompressionStream` (browsers, Node ≥ 18). */
async function gunzip(name: VendoredDataName, data: Uint8Array, source: string, fn: string): Promise<Uint8Array> {
  if (!isGzip(data)) return data;
  const node = nodeBuiltins();
  if (node) return gunzipInNode(name, data, source, fn, node);
  try {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw notGzip(name, source, fn, e);
  }
}

function checked(name: VendoredDataName, data: Uint8Array, source: string, fn: string): Uint8Array {
  const { file, bytes } = ASSETS[name];
  if (data.byteLength !== bytes) {
    throw new MissingDataError(
      `${fn}: ${source} holds ${data.byteLength} bytes uncompressed, not the ${bytes} of selfsup's ${file}; ` +
        `serve the files of node_modules/selfsup/data/ unchanged`,
    );
  }
  cache.set(name, data);
  return data;
}

/** Reads `file` from the installed package: data/ beside dist/ (built code) or beside src/ (sources). */
function readFromPackage(name: VendoredDataName, fn: string): Uint8Array | undefined {
  const node = nodeBuiltins();
  if (!node) return undefined;
  const { file } = ASSETS[name];
  const candidates = [`../data/${file}`, `../../data/${file}`].map((rel) => node.url.fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((path) => node.fs.existsSync(path));
  if (found === undefined) {
    throw new MissingDataError(`${fn}: selfsup's data file ${file} is missing (looked for ${candidates.join(' and ')}); reinstall selfsup`);
  }
  return checked(name, gunzipInNode(name, node.fs.readFileSync(found), found, fn, node), found, fn);
}

/**
 * The bytes of a vendored asset for the loader `fn`, synchronously: fetched
 * earlier by {@link fetchVendoredData}, or read from the installed package in
 * Node. In a browser without a prior fetch, a {@link MissingDataError} says
 * what to call.
 */
export function vendoredBytes(name: VendoredDataName, fn: string): Uint8Array {
  const bytes = cache.get(name) ?? readFromPackage(name, fn);
  if (bytes) return bytes;
  throw new MissingDataError(
    `${fn}: in a browser, fetch the vendored data first: await fetchVendoredData() ` +
      `(or fetchVendoredData({ url: '/where/you/serve/selfsup/data/' })), then call ${fn}()`,
  );
}

/** Options of {@link fetchVendoredData}. */
export interface FetchVendoredDataOptions {
  /**
   * The folder the files are served from (a URL ending in `/`; in Node also a
   * folder path). Serve the files of `node_modules/selfsup/data/` there.
   * @default the package's data/ folder, seen from selfsup's code (`new URL('../data/', import.meta.url)`)
   */
  url?: string | URL;
  /**
   * Which datasets to fetch.
   * @default ['digits', 'fashion-mnist-subset', 'photos']
   */
  names?: VendoredDataName[];
}

async function fetchBytes(url: string, fn: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new MissingDataError(`${fn}: could not fetch ${url} (${(e as Error).message}); serve node_modules/selfsup/data/ and pass its URL as options.url`);
  }
  if (!response.ok) {
    throw new MissingDataError(`${fn}: fetching ${url} answered ${response.status} ${response.statusText}; serve node_modules/selfsup/data/ and pass its URL as options.url`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Reads `file` from the folder `base` names: a path or file: URL in Node, fetched otherwise. */
async function readFrom(base: string | URL, file: string, fn: string): Promise<{ data: Uint8Array; source: string }> {
  const node = nodeBuiltins();
  const isUrl = base instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(base);
  if (node && (!isUrl || new URL(base).protocol === 'file:')) {
    const dir = isUrl ? node.url.fileURLToPath(base) : base;
    const path = `${dir.replace(/\/?$/, '/')}${file}`;
    if (!node.fs.existsSync(path)) throw new MissingDataError(`${fn}: ${path} was not found; options.url must name a folder holding selfsup's data files`);
    return { data: node.fs.readFileSync(path), source: path };
  }
  const folder = isUrl ? new URL(base) : new URL(base, globalThis.location?.href);
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  const url = new URL(file, folder).href;
  return { data: await fetchBytes(url, fn), source: url };
}

/**
 * Fetches the datasets vendored in selfsup (`data/*.bin.gz`, 0.55 MB in all) so
 * that {@link loadDigits}, {@link loadFashionMnistSubset} and
 * {@link loadPhotos} work in a browser, where they cannot read files. Serve the
 * package's `data/` folder and pass its URL; bundlers that ship
 * `new URL(…, import.meta.url)` assets (webpack 5, Vite, Parcel) find the files
 * without it. In Node the loaders read the files themselves and this call is
 * only needed to load them from elsewhere. Fetches each file once; calling it
 * again is free.
 *
 * @example
 * ```ts
 * import { fetchVendoredData, loadDigits } from 'selfsup';
 *
 * await fetchVendoredData({ names: ['digits'] }); // in a browser: { url: '/selfsup-data/', names: ['digits'] }
 * const { images } = loadDigits({ limit: 8 });
 * console.log(images.shape); // [8, 8, 8, 1]
 * ```
 */
export async function fetchVendoredData(options: FetchVendoredDataOptions = {}): Promise<void> {
  const fn = 'fetchVendoredData';
  assertKnownOptions(options, ['url', 'names'], fn);
  const { url, names = NAMES } = options;
  if (url !== undefined && !(url instanceof URL) && (typeof url !== 'string' || url.length === 0)) {
    throw new InvalidArgumentError(fn, 'options.url', 'be a URL or a folder path', describeValue(url));
  }
  if (!Array.isArray(names) || names.some((n) => !NAMES.includes(n))) {
    throw new InvalidArgumentError(fn, 'options.names', `be an array of ${NAMES.map((n) => `'${n}'`).join(', ')}`, describeValue(names));
  }
  await Promise.all(
    names.map(async (name) => {
      if (cache.has(name)) return;
      if (url === undefined) {
        if (readFromPackage(name, LOADER[name])) return;
        const source = defaultUrl(name).href;
        checked(name, await gunzip(name, await fetchBytes(source, fn), source, fn), source, fn);
        return;
      }
      const { data, source } = await readFrom(url, ASSETS[name].file, fn);
      checked(name, await gunzip(name, data, source, fn), source, fn);
    }),
  );
}
