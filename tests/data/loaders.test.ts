import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { MissingDataError } from '../../src/core/errors.js';
import { DIGITS_ASSET } from '../../src/data/assets/digits.js';
import { FASHION_MNIST_SUBSET_ASSET } from '../../src/data/assets/fashion-mnist-subset.js';
import { PHOTOS_ASSET } from '../../src/data/assets/photos.js';
import { loadDigits } from '../../src/data/digits.js';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist, loadFashionMnistSubset } from '../../src/data/fashion-mnist.js';
import { loadPhotos } from '../../src/data/photos.js';
import { fetchVendoredData } from '../../src/data/vendored.js';
import { expectNoLeak } from '../helpers/numerics.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

const dataDir = fileURLToPath(new URL('../../data/', import.meta.url));

const hasDebianFashion = existsSync(`${DEBIAN_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

function rangeOf(t: tf.Tensor): [number, number] {
  return [tf.min(t).dataSync()[0] as number, tf.max(t).dataSync()[0] as number];
}

describe('data loaders', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('vendored assets are gzip-compressed binary files in data/ that match their recorded sizes and checksums', () => {
    for (const asset of [DIGITS_ASSET, FASHION_MNIST_SUBSET_ASSET, PHOTOS_ASSET]) {
      const bytes = gunzipSync(readFileSync(`${dataDir}${asset.file}`));
      expect(bytes.length).toBe(asset.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(asset.sha256);
    }
  });

  it('fetchVendoredData reads a folder (path or file: URL) and refuses a truncated file or one of the wrong size', async () => {
    const fresh = async () => {
      vi.resetModules(); // a fresh cache of fetched files
      return (await import('../../src/data/vendored.js')) as typeof import('../../src/data/vendored.js');
    };
    let m = await fresh();
    await m.fetchVendoredData({ url: pathToFileURL(dataDir), names: ['digits'] });
    expect(m.vendoredBytes('digits', 'loadDigits').length).toBe(DIGITS_ASSET.bytes);
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-data-'));
    try {
      writeFileSync(join(dir, 'digits.bin.gz'), readFileSync(`${dataDir}digits.bin.gz`).subarray(0, 100));
      m = await fresh();
      await expect(m.fetchVendoredData({ url: dir, names: ['digits'] })).rejects.toThrow(
        `fetchVendoredData: ${join(dir, 'digits.bin.gz')} is not a complete gzip file (`,
      );
      // A server that decoded the file already (Content-Encoding) hands over the plain bytes: they are checked as they are.
      writeFileSync(join(dir, 'digits.bin.gz'), gunzipSync(readFileSync(`${dataDir}digits.bin.gz`)).subarray(0, 100));
      m = await fresh();
      await expect(m.fetchVendoredData({ url: dir, names: ['digits'] })).rejects.toThrow(
        `fetchVendoredData: ${join(dir, 'digits.bin.gz')} holds 100 bytes uncompressed, not the 116805 of selfsup's digits.bin.gz`,
      );
      await expect(m.fetchVendoredData({ url: join(dir, 'nowhere'), names: ['photos'] })).rejects.toThrow(`fetchVendoredData: ${join(dir, 'nowhere', 'photos.bin.gz')} was not found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a browser (no file access) the loaders ask for fetchVendoredData, which fetches the files once', async () => {
    vi.resetModules();
    const m = (await import('../../src/data/vendored.js')) as typeof import('../../src/data/vendored.js');
    const proc = process as { getBuiltinModule?: unknown };
    const getBuiltinModule = proc.getBuiltinModule;
    const fetched: string[] = [];
    proc.getBuiltinModule = undefined;
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      const file = url.split('/').pop()!;
      return file === 'digits.bin.gz' ? new Response(readFileSync(`${dataDir}digits.bin.gz`)) : new Response('not found', { status: 404, statusText: 'Not Found' });
    });
    try {
      expect(() => m.vendoredBytes('digits', 'loadDigits')).toThrow(
        'loadDigits: in a browser, fetch the vendored data first: await fetchVendoredData()',
      );
      await m.fetchVendoredData({ url: 'https://example.org/assets/selfsup', names: ['digits'] });
      await m.fetchVendoredData({ url: 'https://example.org/assets/selfsup', names: ['digits'] });
      expect(fetched).toEqual(['https://example.org/assets/selfsup/digits.bin.gz']); // decompressed with DecompressionStream, as in a browser
      expect(m.vendoredBytes('digits', 'loadDigits').length).toBe(DIGITS_ASSET.bytes);
      await expect(m.fetchVendoredData({ url: 'https://example.org/x/', names: ['photos'] })).rejects.toThrow(
        'fetchVendoredData: fetching https://example.org/x/photos.bin.gz answered 404 Not Found; serve node_modules/selfsup/data/',
      );
    } finally {
      proc.getBuiltinModule = getBuiltinModule;
      vi.unstubAllGlobals();
    }
  });

  it('fetchVendoredData validates its options', async () => {
    await fetchVendoredData();
    await expect(fetchVendoredData({ names: ['mnist' as never] })).rejects.toThrow(
      "fetchVendoredData: options.names must be an array of 'digits', 'fashion-mnist-subset', 'photos', got [\"mnist\"]",
    );
    await expect(fetchVendoredData({ url: 3 as never })).rejects.toThrow('fetchVendoredData: options.url must be a URL or a folder path, got 3');
    await expect(fetchVendoredData({ nmes: [] } as never)).rejects.toThrow('fetchVendoredData: options.nmes must be one of the known options');
  });

  it('loadDigits returns 1,797 8×8 images in [0, 1] with balanced labels', () => {
    const { images, labels, classNames } = expectNoLeak(() => loadDigits());
    expect(images.shape).toEqual([1797, 8, 8, 1]);
    expect(images.dtype).toBe('float32');
    expect(labels.dtype).toBe('int32');
    expect(rangeOf(images)).toEqual([0, 1]);
    const counts = tf.tidy(() => Array.from(tf.bincount(labels, tf.tensor1d([], 'float32'), 10).dataSync()));
    for (const c of counts) expect(c).toBeGreaterThan(170);
    expect(classNames).toHaveLength(10);
    // first sklearn digit is a 0
    expect(labels.dataSync()[0]).toBe(0);
    tf.dispose([images, labels]);
  });

  it('loadDigits honours offset and limit, and validates them', () => {
    const a = loadDigits({ offset: 10, limit: 5 });
    const b = loadDigits({ limit: 15 });
    expect(Array.from(a.labels.dataSync())).toEqual(Array.from(b.labels.dataSync()).slice(10));
    expect(() => loadDigits({ limit: 0 })).toThrow('loadDigits: options.limit must be an integer in [1, 1797], got 0');
    expect(() => loadDigits({ offset: 1797, limit: 1 })).toThrow('options.limit');
    tf.dispose([a, b] as never);
  });

  it('loadFashionMnistSubset: 600 train + 200 test, balanced, 28×28 in [0, 1]', () => {
    const train = loadFashionMnistSubset();
    const test = loadFashionMnistSubset({ split: 'test' });
    expect(train.images.shape).toEqual([600, 28, 28, 1]);
    expect(test.images.shape).toEqual([200, 28, 28, 1]);
    const counts = tf.tidy(() => Array.from(tf.bincount(train.labels, tf.tensor1d([], 'float32'), 10).dataSync()));
    expect(counts).toEqual(new Array(10).fill(60));
    const [lo, hi] = rangeOf(train.images);
    expect(lo).toBe(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.9);
    expect(() => loadFashionMnistSubset({ split: 'val' as never })).toThrow(
      "loadFashionMnistSubset: options.split must be one of 'train', 'test', got \"val\"",
    );
    tf.dispose([train, test] as never);
  });

  it('loadFashionMnist explains how to install the Debian package when files are absent', () => {
    expect(() => loadFashionMnist({ directory: '/nonexistent/fashion' })).toThrow(MissingDataError);
    expect(() => loadFashionMnist({ directory: '/nonexistent/fashion' })).toThrow(
      /\/nonexistent\/fashion\/train-images-idx3-ubyte\.gz was not found\. Install Debian's Fashion-MNIST package \(apt-get install dataset-fashion-mnist/,
    );
  });

  it.skipIf(!hasDebianFashion)('loadFashionMnist reads the Debian package, and the vendored subset is its prefix per class', () => {
    const test = expectNoLeak(() => loadFashionMnist({ split: 'test', limit: 300 }));
    expect(test.images.shape).toEqual([300, 28, 28, 1]);
    const full = loadFashionMnist({ split: 'test', offset: 9990 });
    expect(full.images.shape).toEqual([10, 28, 28, 1]);
    // The subset's first test image is the file's first image of class 0, i.e. the first T-shirt.
    const labels = Array.from(test.labels.dataSync());
    const firstTshirt = labels.indexOf(0);
    const sub = loadFashionMnistSubset({ split: 'test' });
    const subFirstTshirt = Array.from(sub.labels.dataSync()).indexOf(0);
    const a = tf.tidy(() => tf.gather(test.images, [firstTshirt]).dataSync());
    const b = tf.tidy(() => tf.gather(sub.images, [subFirstTshirt]).dataSync());
    expect(Array.from(a)).toEqual(Array.from(b));
    tf.dispose([test, full, sub] as never);
  });

  it('loadPhotos returns the four RGB photos, resized on request', () => {
    const p = loadPhotos();
    expect(p.images.shape).toEqual([4, 128, 128, 3]);
    expect(p.names).toEqual(['astronaut', 'chelsea', 'coffee', 'rocket']);
    const small = expectNoLeak(() => loadPhotos({ size: 32 }));
    expect(small.images.shape).toEqual([4, 32, 32, 3]);
    const [lo, hi] = rangeOf(small.images);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(() => loadPhotos({ size: 0 })).toThrow('loadPhotos: options.size must be an integer in [1, 4096], got 0');
    tf.dispose([p.images, small.images]);
  });
});
