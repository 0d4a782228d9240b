import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { MissingDataError } from '../../src/core/errors.js';
import { DIGITS_ASSET } from '../../src/data/assets/digits.js';
import { FASHION_MNIST_SUBSET_ASSET } from '../../src/data/assets/fashion-mnist-subset.js';
import { PHOTOS_ASSET } from '../../src/data/assets/photos.js';
import { decodeBase64 } from '../../src/data/decode-asset.js';
import { loadDigits } from '../../src/data/digits.js';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist, loadFashionMnistSubset } from '../../src/data/fashion-mnist.js';
import { loadPhotos } from '../../src/data/photos.js';
import { expectNoLeak } from '../helpers/numerics.js';
import { createHash } from 'node:crypto';

const hasDebianFashion = existsSync(`${DEBIAN_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

function rangeOf(t: tf.Tensor): [number, number] {
  return [tf.min(t).dataSync()[0] as number, tf.max(t).dataSync()[0] as number];
}

describe('data loaders', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('vendored assets match their recorded checksums', () => {
    for (const asset of [DIGITS_ASSET, FASHION_MNIST_SUBSET_ASSET, PHOTOS_ASSET]) {
      const digest = createHash('sha256').update(decodeBase64(asset.base64)).digest('hex');
      expect(digest).toBe(asset.sha256);
    }
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
