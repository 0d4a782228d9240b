import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, MissingDataError } from '../core/errors.js';
import { assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { FASHION_MNIST_SUBSET_ASSET } from './assets/fashion-mnist-subset.js';
import type { LabeledImages, LoaderOptions } from './labeled-images.js';
import { nodeBuiltin } from '../core/node.js';
import { rowsToTensors, selectRange } from './rows-to-tensors.js';
import { vendoredBytes } from './vendored.js';
import { assertBackendReady } from '../core/backend-ready.js';

/**
 * The ten Fashion-MNIST classes, indexed by label.
 *
 * @example
 * ```ts
 * import { FASHION_MNIST_CLASSES } from 'selfsup';
 *
 * console.log(FASHION_MNIST_CLASSES[9]); // 'Ankle boot'
 * ```
 */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/**
 * Where Debian's `dataset-fashion-mnist` package installs the idx files.
 *
 * @example
 * ```ts
 * import { DEBIAN_FASHION_MNIST_DIR } from 'selfsup';
 *
 * console.log(DEBIAN_FASHION_MNIST_DIR); // '/usr/share/datasets/fashion-mnist'
 * ```
 */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions extends LoaderOptions {
  /**
   * `'train'` (60,000 images) or `'test'` (the official 10,000-image test split).
   * @default 'train'
   */
  split?: 'train' | 'test';
  /**
   * Folder holding `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.
   * @default '/usr/share/datasets/fashion-mnist' (Debian's dataset-fashion-mnist)
   */
  directory?: string;
}

function readIdx(path: string, fn: string): { dims: number[]; data: Uint8Array } {
  const hint = 'in a browser use the vendored loaders (loadDigits, loadFashionMnistSubset, loadPhotos)';
  const fs = nodeBuiltin('node:fs', fn, hint);
  const zlib = nodeBuiltin('node:zlib', fn, hint);
  const candidates = path.endsWith('.gz') ? [path, path.slice(0, -3)] : [path, `${path}.gz`];
  const found = candidates.find((p) => fs.existsSync(p));
  if (found === undefined) {
    throw new MissingDataError(
      `${fn}: ${candidates[0]} was not found. Install Debian's Fashion-MNIST package ` +
        `(apt-get install dataset-fashion-mnist, MIT licence), or pass options.directory pointing at a folder ` +
        `with the four idx files, or use loadFashionMnistSubset() for the 800-image subset vendored in selfsup.`,
    );
  }
  let bytes = fs.readFileSync(found);
  if (found.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic >>> 8 !== 0x08) {
    throw new MissingDataError(`${fn}: ${found} is not an unsigned-byte idx file (magic 0x${magic.toString(16)})`);
  }
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * rank) };
}

/**
 * The full Fashion-MNIST dataset (Xiao, Rasul & Vollgraf 2017; Zalando, MIT),
 * read from the idx files of Debian's `dataset-fashion-mnist` package. Node
 * only; nothing is downloaded. Throws a {@link MissingDataError} that says how
 * to install the package when the files are absent.
 *
 * @returns `images` `[N, 28, 28, 1]` float32 in [0, 1], `labels` `[N]` int32.
 *
 * @example
 * ```ts
 * import { loadFashionMnist, loadFashionMnistSubset } from 'selfsup';
 *
 * let data;
 * try {
 *   data = loadFashionMnist({ split: 'test', limit: 256 });
 * } catch {
 *   data = loadFashionMnistSubset({ split: 'test' }); // package not installed
 * }
 * console.log(data.images.shape, data.classNames[0]);
 * ```
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): LabeledImages {
  const fn = 'loadFashionMnist';
  assertBackendReady(fn);
  assertKnownOptions(options, ['split', 'directory', 'limit', 'offset'], fn);
  const { split = 'train', directory = DEBIAN_FASHION_MNIST_DIR } = options;
  assertOneOf(split, ['train', 'test'], fn, 'options.split');
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new InvalidArgumentError(fn, 'options.directory', 'be a folder path', describeValue(directory));
  }
  const prefix = `${directory.replace(/\/$/, '')}/${split === 'train' ? 'train' : 't10k'}`;
  const imageFile = readIdx(`${prefix}-images-idx3-ubyte.gz`, fn);
  const labelFile = readIdx(`${prefix}-labels-idx1-ubyte.gz`, fn);
  const [n = 0, h = 0, w = 0] = imageFile.dims;
  const { start, count } = selectRange(n, options.offset, options.limit, fn);
  const pixels = h * w;
  const values = new Float32Array(count * pixels);
  for (let i = 0; i < count * pixels; i++) values[i] = (imageFile.data[start * pixels + i] as number) / 255;
  const labels = Int32Array.from(labelFile.data.subarray(start, start + count));
  return {
    images: tf.tensor4d(values, [count, h, w, 1]),
    labels: tf.tensor1d(labels, 'int32'),
    classNames: [...FASHION_MNIST_CLASSES],
  };
}

/** Options of {@link loadFashionMnistSubset}. */
export interface FashionMnistSubsetOptions extends LoaderOptions {
  /**
   * `'train'` (600 images: the first 60 per class of the training file) or
   * `'test'` (200 images: the first 20 per class of the test file).
   * @default 'train'
   */
  split?: 'train' | 'test';
}

/**
 * A fixed, balanced 800-image Fashion-MNIST subset vendored inside selfsup
 * (MIT; see `data/NOTICE.md`), for tests, examples and browsers: works
 * everywhere with no files to install (in a browser, call
 * {@link fetchVendoredData} once first).
 *
 * @returns `images` `[N, 28, 28, 1]` float32 in [0, 1], `labels` `[N]` int32.
 *
 * @example
 * ```ts
 * import { loadFashionMnistSubset } from 'selfsup';
 *
 * const { images, labels, classNames } = loadFashionMnistSubset({ split: 'train', limit: 64 });
 * console.log(images.shape, classNames.length); // [64, 28, 28, 1] 10
 * ```
 */
export function loadFashionMnistSubset(options: FashionMnistSubsetOptions = {}): LabeledImages {
  const fn = 'loadFashionMnistSubset';
  assertBackendReady(fn);
  assertKnownOptions(options, ['split', 'limit', 'offset'], fn);
  const { split = 'train' } = options;
  assertOneOf(split, ['train', 'test'], fn, 'options.split');
  const available = split === 'train' ? FASHION_MNIST_SUBSET_ASSET.trainCount : FASHION_MNIST_SUBSET_ASSET.testCount;
  const { start, count } = selectRange(available, options.offset, options.limit, fn);
  const subsetBytes = vendoredBytes('fashion-mnist-subset', fn);
  const rowOffset = (split === 'train' ? 0 : FASHION_MNIST_SUBSET_ASSET.trainCount) + start;
  const { images, labels } = rowsToTensors(subsetBytes, rowOffset, count, [28, 28, 1], 255);
  return { images, labels, classNames: [...FASHION_MNIST_CLASSES] };
}
