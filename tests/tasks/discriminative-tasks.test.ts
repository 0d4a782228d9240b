import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContextPrediction, DeepCluster, ExemplarCnn, Jigsaw, mlpEncoder, RotationPrediction, rotate90 } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/numerics.js';
import { convTrainingBackend, structuredImages, tinyConv, tinyConvGrid, trainFor } from './pretext-helpers.js';

/** Images whose pixel (y, x) holds `(y·W + x) / (H·W)`: a crop's first pixel tells where it was cut. */
function positionImages(n: number, size: number): tf.Tensor4D {
  return tf.tidy(() => tf.tile(tf.reshape(tf.div(tf.range(0, size * size), size * size), [1, size, size, 1]), [n, 1, 1, 1])) as tf.Tensor4D;
}

const hamming = (a: readonly number[], b: readonly number[]) => a.reduce((d, v, i) => d + (v === b[i] ? 0 : 1), 0);

describe('discriminative tasks (conv training backend)', () => {
  beforeAll(async () => {
    await convTrainingBackend();
  });

  it('RotationPrediction: all four rotations per image, labelled 0–3, and it learns them', () => {
    const encoder = tinyConv(8);
    const task = new RotationPrediction(encoder, { learningRate: 0.02, seed: 1 });
    const images = structuredImages(6, 8);
    const batch = task.rotationBatch(images);
    expect(batch.images.shape).toEqual([24, 8, 8, 1]);
    expect(Array.from(batch.labels.dataSync())).toEqual(Array.from({ length: 24 }, (_, i) => i % 4));
    const rowsWith = (k: number) => tf.gather(batch.images, tf.tensor1d([0, 1, 2, 3, 4, 5].map((i) => 4 * i + k), 'int32'));
    expectClose(rowsWith(1), rotate90(images, 1), { atol: 0 });
    expectClose(rowsWith(3), rotate90(images, 3), { atol: 0 });
    const { first, last } = trainFor(() => task.step(images), 40);
    expect(first).toBeCloseTo(Math.log(4), 1);
    expect(last).toBeLessThan(first * 0.6);
    expect(task.predict(images).shape).toEqual([6, 4]);
    expect(() => new RotationPrediction(encoder, { imageShape: [8, 6, 1] })).toThrow(
      'RotationPrediction: options.imageShape must be square (a rotated image keeps its shape), got [8, 6, 1]',
    );
    tf.dispose([images, batch.images, batch.labels]);
    task.dispose();
    encoder.dispose();
  });

  it('Jigsaw: a maximal-Hamming permutation set; tiles come from their cells in the permuted order', () => {
    const encoder = tinyConv(12);
    const small = new Jigsaw(encoder, { grid: 2, numPermutations: 24, normalizeTiles: false, seed: 2 });
    expect(new Set(small.permutations.map((p) => p.join())).size).toBe(24); // all 4! permutations
    const task = new Jigsaw(tinyConv(28, 1, 3), { grid: 3, numPermutations: 10, normalizeTiles: false, seed: 2 });
    const perms = task.permutations;
    expect(perms).toHaveLength(10);
    expect(perms.every((p) => [...p].sort().join() === '0,1,2,3,4,5,6,7,8')).toBe(true);
    // The greedy maximal-Hamming set keeps every pair far apart (random pairs of 9-permutations differ in 8 places on average).
    let minDistance = 9;
    for (let i = 0; i < perms.length; i++) for (let j = i + 1; j < perms.length; j++) minDistance = Math.min(minDistance, hamming(perms[i]!, perms[j]!));
    expect(minDistance).toBeGreaterThanOrEqual(7);
    const own = new Jigsaw(encoder, { grid: 2, permutations: [[0, 1, 2, 3], [3, 2, 1, 0]], seed: 0 });
    expect(own.permutations).toEqual([[0, 1, 2, 3], [3, 2, 1, 0]]);
    own.dispose();
    expect(task.cellSize).toBe(9);
    expect(task.tileSize).toBe(7);
    // A tile's first pixel tells its cell: with the permutation's label, every tile sits where the permutation says.
    const images = positionImages(5, 28);
    const { tiles, labels } = task.puzzle(images);
    expect(tiles.shape).toEqual([45, 7, 7, 1]);
    const firstPixels = tf.slice(tiles, [0, 0, 0, 0], [-1, 1, 1, 1]).dataSync();
    const label = labels.dataSync();
    const cellRows: number[][] = [];
    for (let b = 0; b < 5; b++) {
      const cells = Array.from({ length: 9 }, (_, i) => {
        const v = Math.round(firstPixels[b * 9 + i]! * 784);
        return [Math.floor(v / 28), v % 28];
      });
      // Undo the permutation: position i holds tile perms[label][i].
      const byTile: number[][] = [];
      cells.forEach((c, i) => {
        byTile[perms[label[b]!]![i]!] = c;
      });
      byTile.forEach(([y, x], t) => {
        const r = Math.floor(t / 3);
        const c = t % 3;
        // Same cell row/column offsets as the reading order of the grid (cells are 9 px, tiles 7 px).
        cellRows.push([y! - byTile[0]![0]! - 9 * r, x! - byTile[0]![1]! - 9 * c]);
      });
    }
    expect(cellRows.every(([dy, dx]) => Math.abs(dy!) <= 2 && Math.abs(dx!) <= 2)).toBe(true);
    const { first, last } = trainFor(() => task.step(structuredImages(16, 28)), 3);
    expect(first).toBeCloseTo(Math.log(10), 0);
    expect(Number.isFinite(last)).toBe(true);
    tf.dispose([images, tiles, labels]);
    small.dispose();
    task.dispose();
    (task.encoder as unknown as { dispose(): void }).dispose();
    encoder.dispose();
  });

  it('ContextPrediction: the neighbour lies in the labelled direction, a gap away, within the jitter', () => {
    const encoder = tinyConv(16);
    const task = new ContextPrediction(encoder, { patchSize: 4, gap: 1, jitter: 1, learningRate: 0.01, seed: 3 });
    const images = positionImages(64, 16);
    const { patches, labels } = task.pairs(images);
    expect(patches.shape).toEqual([128, 4, 4, 1]);
    const first = tf.slice(patches, [0, 0, 0, 0], [-1, 1, 1, 1]).dataSync();
    const label = labels.dataSync();
    const offsets = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]];
    const seen = new Set<number>();
    for (let b = 0; b < 64; b++) {
      const c = Math.round(first[2 * b]! * 256);
      const n = Math.round(first[2 * b + 1]! * 256);
      const [dy, dx] = [Math.floor(n / 16) - Math.floor(c / 16), (n % 16) - (c % 16)];
      const [ey, ex] = offsets[label[b]!]!;
      expect(Math.abs(dy - ey! * 5)).toBeLessThanOrEqual(2); // patch 4 + gap 1, each patch jittered ±1
      expect(Math.abs(dx - ex! * 5)).toBeLessThanOrEqual(2);
      seen.add(label[b]!);
    }
    expect(seen.size).toBe(8);
    const { first: l0, last } = trainFor(() => task.step(structuredImages(16, 16)), 30);
    expect(l0).toBeCloseTo(Math.log(8), 0);
    expect(last).toBeLessThan(l0);
    expect(() => new ContextPrediction(encoder, { patchSize: 5, gap: 1, jitter: 1 })).toThrow(
      'ContextPrediction: options.patchSize must leave room for the 3×3 layout: 3·patchSize + 2·gap + 2·jitter ≤ 16, got 5 (gap 1, jitter 1: 19)',
    );
    expect(() => new ContextPrediction(mlpEncoder({ inputShape: [16, 16, 1], units: [4] }))).toThrow('ContextPrediction: encoder must encode 4×4 patches');
    // An encoder that pools to a fixed grid takes only full-size images: its convolutions encode the patches.
    const grid = new ContextPrediction(tinyConvGrid(16), { patchSize: 4, gap: 1, jitter: 1, seed: 0 });
    expect(Number.isFinite(grid.step(structuredImages(4, 16)))).toBe(true);
    grid.dispose();
    tf.dispose([images, patches, labels]);
    task.dispose();
    encoder.dispose();
  });

  it('DeepCluster: whitened, normalised features; k-means rounds; balanced pseudo-labels; it trains', () => {
    const encoder = tinyConv(8, 1, 0, [4, 16]);
    const task = new DeepCluster(encoder, { numClusters: 6, pcaDim: 4, memorySize: 64, clusterEvery: 5, learningRate: 0.01, seed: 4 });
    const images = structuredImages(48, 8);
    const features = task.clusteringFeatures(images);
    expect(features.shape).toEqual([48, 4]);
    expectClose(tf.norm(features, 2, 1), tf.ones([48]), { atol: 1e-4 });
    const result = task.recluster(images);
    expect(result.k).toBe(6);
    expect(result.assignments).toHaveLength(48);
    expect(result.clusterSizes.reduce((a, b) => a + b, 0)).toBe(48);
    expect(Math.max(...result.assignments)).toBeLessThan(6);
    const labels = tf.tensor1d(result.assignments.slice(0, 16), 'int32');
    const batch = tf.slice(images, 0, 16) as tf.Tensor4D;
    const before = task.trainStep(batch, labels);
    expect(Number.isFinite(before)).toBe(true);
    expect(() => task.trainStep(batch, tf.tensor1d([0, 1], 'int32'))).toThrow('DeepCluster.trainStep: pseudoLabels must be an int32 tensor [16]');
    // The step contract: memory fills, rounds happen as it doubles and then every clusterEvery steps.
    const fresh = new DeepCluster(tinyConv(8, 1, 1, [4, 16]), { numClusters: 6, pcaDim: 4, memorySize: 64, clusterEvery: 5, learningRate: 0.01, seed: 4 });
    const ks: number[] = [];
    for (let i = 0; i < 8; i++) {
      const part = tf.slice(images, [(i * 8) % 48, 0, 0, 0], [8, -1, -1, -1]) as tf.Tensor4D;
      fresh.step(part);
      ks.push(fresh.lastClustering!.k);
      part.dispose();
    }
    expect(ks[0]).toBe(2); // 8 images: k ≤ 8 / 8, at least 2
    expect(ks.at(-1)).toBe(6);
    expect(fresh.steps).toBe(8);
    tf.dispose([features, labels, batch]);
    task.dispose();
    fresh.dispose();
    (fresh.encoder as unknown as { dispose(): void }).dispose();
    encoder.dispose();
  });

  for (const variant of ['parametric', 'non-parametric'] as const) {
    it(`ExemplarCnn (${variant}): the first N images become the classes; augmented copies are classified`, () => {
      const encoder = tinyConv(12, 1, 0, [8, 16]);
      const task = new ExemplarCnn(encoder, { numExemplars: 8, variant, learningRate: 0.01, seed: 5 });
      const images = structuredImages(8, 12);
      const { first, last } = trainFor(() => task.step(images), 40);
      expect(task.exemplarCount).toBe(8);
      expect(last).toBeLessThan(first);
      const { images: copies, labels } = task.sampleCopies(5);
      expect(copies.shape).toEqual([5, 12, 12, 1]);
      expect(Math.max(...labels.dataSync())).toBeLessThan(8);
      expect(() => task.setExemplars(tf.zeros([3, 12, 12, 1]) as tf.Tensor4D)).toThrow('ExemplarCnn.setExemplars: images must hold numExemplars = 8 images, got 3');
      tf.dispose([images, copies, labels]);
      task.dispose();
      encoder.dispose();
    });
  }
});

describeBackends('discriminative tasks: options are checked', () => {
  it('names the function, the argument and the expectation', () => {
    const encoder = tinyConv(12);
    expect(() => new Jigsaw(encoder, { grid: 4 as never })).toThrow('Jigsaw: options.grid must be one of 2, 3');
    expect(() => new Jigsaw(encoder, { grid: 2, numPermutations: 25 })).toThrow('Jigsaw: options.numPermutations must be an integer in [2, 24], got 25');
    expect(() => new Jigsaw(encoder, { tileSize: 5 })).toThrow('Jigsaw: options.tileSize must be an integer in [1, 4], got 5');
    expect(() => new DeepCluster(encoder, { numClusters: 10, memorySize: 5 })).toThrow('DeepCluster: options.memorySize must be an integer ≥ 10, got 5');
    expect(() => new DeepCluster(encoder, { pcaDim: 9 })).toThrow('DeepCluster: options.pcaDim must be an integer in [1, 8], got 9');
    expect(() => new DeepCluster(encoder, { augment: 5 as never })).toThrow('DeepCluster: options.augment must be a Transform (e.g. compose([...])) or null, got 5');
    expect(() => new ExemplarCnn(encoder, { variant: 'nn' as never })).toThrow("ExemplarCnn: options.variant must be one of 'parametric', 'non-parametric'");
    expect(() => new ExemplarCnn(encoder, { augment: {} as never })).toThrow('ExemplarCnn: options.augment must be a Transform');
    const task = new ExemplarCnn(encoder, { numExemplars: 4, seed: 0 });
    expect(() => task.sampleCopies(2)).toThrow('ExemplarCnn.sampleCopies: this must hold exemplars (call step or setExemplars first), got none');
    task.dispose();
    encoder.dispose();
  });
});
