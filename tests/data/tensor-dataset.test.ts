/**
 * tensorDataset: the Dataset interface over tensors in memory (the same
 * streams, state and errors as a folder), and embedDataset over any dataset.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import type { Batch } from '../../src/data/dataset.js';
import { embedDataset } from '../../src/data/embed-dataset.js';
import { imageFolder } from '../../src/data/image-folder.js';
import { tensorDataset } from '../../src/data/tensor-dataset.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Images whose pixels all equal their index, so a batch shows which images it holds. */
const indexed = (n: number) => tf.tidy(() => tf.tile(tf.reshape(tf.range(0, n, 1, 'float32'), [n, 1, 1, 1]), [1, 2, 2, 1])) as tf.Tensor4D;

describe('tensorDataset', () => {
  it('streams the images its indices name, labels alongside, without leaks', async () => {
    const images = indexed(7);
    const dataset = tensorDataset(images, [0, 1, 2, 0, 1, 2, 0], { classNames: ['a', 'b', 'c'] });
    expect(dataset.length).toBe(7);
    expect(dataset.imageShape).toEqual([2, 2, 1]);
    expect(dataset.classNames).toEqual(['a', 'b', 'c']);
    expect(dataset.names[3]).toBe('#3');
    const before = tf.memory().numTensors;
    for await (const batch of dataset.batches({ batchSize: 3, seed: 4, epochs: 2 })) {
      const values = tf.tidy(() => Array.from(tf.reshape(tf.slice(batch.images, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1]).dataSync()));
      expect(values).toEqual(Array.from(batch.indices));
      expect(Array.from(batch.labels!.dataSync())).toEqual(Array.from(batch.indices, (i) => i % 3));
      batch.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
  });

  it('gives the same batch order as a folder of the same length and seed (one shuffling rule for every dataset)', async () => {
    const folder = await imageFolder('tests/fixtures/images/unlabeled', { size: 2, onWarning: () => undefined });
    const images = indexed(folder.length);
    const memory = tensorDataset(images);
    const order = async (stream: AsyncIterable<Batch>) => {
      const out: number[][] = [];
      for await (const b of stream) {
        out.push(Array.from(b.indices));
        b.dispose();
      }
      return out;
    };
    const options = { batchSize: 2, seed: 9, epochs: 3 };
    expect(await order(memory.batches(options))).toEqual(await order(folder.batches(options)));
    folder.dispose();
    images.dispose();
  });

  it('state() / restore() and load() as for files', async () => {
    const images = indexed(10);
    const dataset = tensorDataset(images);
    const stream = dataset.batches({ batchSize: 4, seed: 1, epochs: 3 });
    const all: number[][] = [];
    for await (const b of stream) {
      all.push(Array.from(b.indices));
      b.dispose();
    }
    const again = dataset.batches({ batchSize: 4, seed: 1, epochs: 3 });
    (await again.next()).value!.dispose();
    (await again.next()).value!.dispose();
    const state = again.state();
    const resumed = dataset.batches({ batchSize: 4, epochs: 3 });
    resumed.restore(JSON.parse(JSON.stringify(state)));
    const rest: number[][] = [];
    for await (const b of resumed) {
      rest.push(Array.from(b.indices));
      b.dispose();
    }
    expect(rest).toEqual(all.slice(2));
    const { images: some, labels, indices } = await dataset.load([9, 2]);
    expect(Array.from(some.dataSync()).filter((_, i) => i % 4 === 0)).toEqual([9, 2]);
    expect(labels).toBe(null);
    expect(Array.from(indices)).toEqual([9, 2]);
    some.dispose();
    images.dispose();
    expect(() => dataset.batches()).toThrow(/tensorDataset: batches: images must stay alive while the dataset is used/);
  });

  it('checks its arguments', () => {
    const images = indexed(3);
    expect(() => tensorDataset(tf.zeros([3, 2, 2]) as unknown as tf.Tensor4D)).toThrow(/tensorDataset: images must be a rank-4 tensor/);
    expect(() => tensorDataset(images, [0, 1])).toThrow(/tensorDataset: labels must hold 3 labels/);
    expect(() => tensorDataset(images, tf.tensor1d([0, 1, 2]) as tf.Tensor1D)).toThrow(/labels must have dtype int32/);
    expect(() => tensorDataset(images, [0, 1, -1])).toThrow(/labels\[2\] must be an integer/);
    expect(() => tensorDataset(images, [0, 1, 2], { classNames: ['a'] })).toThrow(/options.classNames must name every label up to 2/);
    expect(() => tensorDataset(images, undefined, { classNames: ['a'] })).toThrow(/options.classNames must come with labels/);
    expect(() => tensorDataset(images, null, { names: ['x'] })).toThrow(/options.names must be an array of 3 strings/);
    images.dispose();
  });
});

describe('embedDataset', () => {
  it('embeds every image in order with names and labels; bad files are left out', async () => {
    const dataset = await imageFolder('tests/fixtures/images/classes', { size: 4, onWarning: () => undefined });
    const before = tf.memory().numTensors;
    const result = await embedDataset(dataset, (x) => tf.reshape(tf.mean(x, [1, 2]), [-1, 3]) as tf.Tensor2D, { batchSize: 3 });
    expect(result.embeddings.shape).toEqual([8, 3]);
    expect(result.names).toEqual(Array.from(result.indices, (i) => dataset.names[i]));
    expect(result.names).not.toContain('square/truncated.jpg');
    expect(Array.from(result.labels!)).toEqual([0, 0, 0, 0, 1, 1, 2, 2]);
    expect(result.classNames).toEqual(['circle', 'square', 'triangle']);
    expect(tf.memory().numTensors).toBe(before + 1);
    result.embeddings.dispose();
    await expect(embedDataset(dataset, (x) => tf.reshape(x, [-1]) as unknown as tf.Tensor2D)).rejects.toThrow(/embedDataset: embed must return \[B, D\]/);
    expect(tf.memory().numTensors).toBe(before);
    dataset.dispose();
  });
});
