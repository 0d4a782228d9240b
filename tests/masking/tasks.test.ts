import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import {
  applyMask,
  blockMask,
  centerMask,
  irregularMask,
  jigsawBatch,
  jigsawPermutations,
  labMerge,
  labSplit,
  pixelDropout,
  randomRectangleMask,
  relativePositionPairs,
  rotationBatch,
  saltAndPepper,
} from '../../src/masking/index.js';
import { selectPermutations } from '../../src/masking/jigsaw.js';
import { rgbToLab, rotate90 } from '../../src/augment/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectNoLeak } from '../helpers/numerics.js';

const fx = loadFixture<{ images: number[][][][]; jigsaw: { tiles: number; count: number; first: number; permutations: number[][] }[] }>('masking');

beforeAll(async () => {
  await useBackend('cpu');
});

function hamming(a: readonly number[], b: readonly number[]): number {
  return a.reduce((d, v, i) => d + (v === b[i] ? 0 : 1), 0);
}

it("jigsaw permutations: Noroozi & Favaro's greedy selection (reference), distances, seeds", () => {
  for (const c of fx.jigsaw) {
    expect(selectPermutations(c.tiles, c.count, c.first, 'sum')).toEqual(c.permutations);
  }
  const perms = jigsawPermutations(30, { seed: 3, selection: 'maxAverageHamming' });
  const again = jigsawPermutations(30, { seed: 3, selection: 'maxAverageHamming' });
  expect(again).toEqual(perms);
  const minMin = jigsawPermutations(30, { seed: 3 });
  expect(jigsawPermutations(30, { seed: 3, selection: 'maxHamming' })).toEqual(minMin);
  const stats = (ps: number[][]) => {
    let min = Infinity;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < ps.length; i++) {
      expect([...ps[i]!].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      for (let j = i + 1; j < ps.length; j++) {
        const d = hamming(ps[i]!, ps[j]!);
        min = Math.min(min, d);
        sum += d;
        n++;
      }
    }
    return { min, mean: sum / n };
  };
  const s1 = stats(perms);
  const s2 = stats(minMin);
  const s3 = stats(jigsawPermutations(30, { seed: 3, selection: 'random' }));
  // All distinct; the greedy sets beat random on the mean, the default max-min on the minimum.
  expect(s1.min).toBeGreaterThan(0);
  expect(s1.mean).toBeGreaterThan(s3.mean);
  expect(s2.min).toBeGreaterThanOrEqual(6);
  expect(s2.min).toBeGreaterThan(s3.min);
  expect(() => jigsawPermutations(5, { tiles: 10 })).toThrow('jigsawPermutations: options.tiles must be an integer in [2, 9], got 10');
  expect(() => jigsawPermutations(25, { tiles: 4 })).toThrow('jigsawPermutations: count must be an integer in [1, 24], got 25');
});

it('blockMask: BEiT blocks up to the target count, seeded', () => {
  const mask = blockMask(32, [14, 14], { numMasked: 75, seed: 1 });
  const counts = Array.from(tf.sum(mask, 1).dataSync());
  expect(Math.max(...counts)).toBeLessThanOrEqual(75);
  expect(counts.filter((c) => c >= 70).length).toBeGreaterThan(28);
  // Blocks, not scattered pixels: most masked patches have a masked 4-neighbour.
  const m = mask.arraySync() as number[][];
  let isolated = 0;
  let total = 0;
  m.forEach((row) =>
    row.forEach((v, k) => {
      if (!v) return;
      total++;
      const [i, j] = [Math.floor(k / 14), k % 14];
      const nb = [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]].filter(([a, b]) => a! >= 0 && a! < 14 && b! >= 0 && b! < 14 && row[a! * 14 + b!]);
      if (nb.length === 0) isolated++;
    }),
  );
  expect(isolated / total).toBeLessThan(0.02);
  const again = blockMask(32, [14, 14], { numMasked: 75, seed: 1 });
  expect(Array.from(again.dataSync())).toEqual(Array.from(mask.dataSync()));
  expect(() => blockMask(2, [4, 4], { numMasked: 17 })).toThrow('blockMask: options.numMasked must be an integer in [0, 16], got 17');
  tf.dispose([mask, again]);
});

it('inpainting masks: centre, rectangles, free-form strokes', () => {
  const c = centerMask(2, [8, 10], { holeSize: [4, 6] });
  const rows = c.arraySync()[0]!.map((r) => r.map((v) => v[0]));
  expect(rows[1]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  expect(rows[2]).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
  expect(tf.sum(c).dataSync()[0]).toBe(2 * 24);
  const r = randomRectangleMask(200, [32, 32], { count: [1, 3], seed: 2 });
  const frac = Array.from(tf.mean(r, [1, 2, 3]).dataSync());
  expect(Math.min(...frac)).toBeGreaterThan(0);
  expect(Math.max(...frac)).toBeLessThan(0.75);
  const s = irregularMask(50, [64, 64], { seed: 3 });
  const cover = Array.from(tf.mean(s, [1, 2, 3]).dataSync());
  const mean = cover.reduce((a, b) => a + b, 0) / cover.length;
  expect(mean).toBeGreaterThan(0.03);
  expect(mean).toBeLessThan(0.5);
  expect(new Set(s.dataSync())).toEqual(new Set([0, 1]));
  const again = irregularMask(50, [64, 64], { seed: 3 });
  expect(Array.from(again.dataSync())).toEqual(Array.from(s.dataSync()));
  expect(() => centerMask(1, [8, 8], { holeSize: 9 })).toThrow('centerMask: options.holeSize must fit in the 8×8 image, got 9×9');
  expect(() => randomRectangleMask(1, [8, 8], { height: [2, 9] })).toThrow('randomRectangleMask: options.height must lie within [1, 8] (the image height), got [2, 9]');
  tf.dispose([c, r, s, again]);
});

describeBackends('masks and corruptions', () => {
  it('applyMask fills holes and is differentiable', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const mask = centerMask(2, [8, 8]);
    const y = expectNoLeak(() => applyMask(x, mask, { fill: [1, 0, 0.5] }));
    const d = y.arraySync();
    expect(d[0]![4]![4]).toEqual([1, 0, 0.5]);
    expectClose(d[1]![0]![0]!, fx.images[1]![0]![0]!, { atol: 1e-7 });
    const soft = tf.fill([1, 8, 8, 1], 0.25) as tf.Tensor4D;
    checkGradients((a, m) => tf.sum(applyMask(a as tf.Tensor4D, m as tf.Tensor4D, { fill: 0.3 })), [tf.slice(x, [0], [1]), soft]);
    expect(() => applyMask(x, tf.ones([2, 4, 4, 1]) as tf.Tensor4D)).toThrow('applyMask: mask must have shape [2 or 1, 8, 8, 1 or 3] for images [2, 8, 8, 3], got [2, 4, 4, 1]');
    tf.dispose([x, mask, y, soft]);
  });

  it('pixelDropout and saltAndPepper: rates, seeds, ranges', () => {
    const x = tf.fill([4, 32, 32, 3], 0.5) as tf.Tensor4D;
    const { images, mask } = expectNoLeak(() => pixelDropout(x, { rate: 0.3, seed: 1, returnMask: true }));
    const rate = tf.mean(mask).dataSync()[0]!;
    expect(Math.abs(rate - 0.3)).toBeLessThan(0.03);
    expectClose(tf.mean(images), 0.5 * (1 - rate), { atol: 1e-5 });
    const sp = saltAndPepper(x, { amount: 0.2, saltVsPepper: 0.25, seed: 2 });
    const v = Array.from(sp.dataSync());
    const salt = v.filter((e) => e === 1).length / v.length;
    const pepper = v.filter((e) => e === 0).length / v.length;
    expect(Math.abs(salt - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(pepper - 0.15)).toBeLessThan(0.015);
    expect(() => pixelDropout(x, { rate: 2 })).toThrow('pixelDropout: options.rate must be a number in [0, 1], got 2');
    tf.dispose([x, images, mask, sp]);
  });

  it('rotationBatch: four rotations per image, consecutive, labels 0–3', () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const { images, labels } = expectNoLeak(() => rotationBatch(x));
    expect(images.shape).toEqual([8, 8, 8, 3]);
    expect(Array.from(labels.dataSync())).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    for (let k = 0; k < 4; k++) {
      const ref = rotate90(tf.slice(x, [1], [1]) as tf.Tensor4D, k);
      expectClose(tf.slice(images, [4 + k], [1]), ref, { atol: 0, rtol: 0 });
    }
    expect(() => rotationBatch(tf.ones([1, 4, 6, 3]) as tf.Tensor4D)).toThrow('rotationBatch: images must be square (H = W)');
    tf.dispose([x, images, labels]);
  });

  it('jigsawBatch cuts tiles from their cells in the permuted order', () => {
    // Pixel value = its (row, col) code, so each tile's source cell can be read back.
    const code = tf.tidy(() => {
      const r = tf.reshape(tf.range(0, 30), [30, 1]);
      const c = tf.reshape(tf.range(0, 30), [1, 30]);
      return tf.tile(tf.reshape(tf.add(tf.mul(r, 100), c), [1, 30, 30, 1]), [3, 1, 1, 1]);
    }) as tf.Tensor4D;
    const perms = jigsawPermutations(6, { seed: 0 });
    const { tiles, labels } = expectNoLeak(() => jigsawBatch(code, perms, { seed: 4 }));
    expect(tiles.shape).toEqual([3, 9, 8, 8, 1]);
    const t = tiles.arraySync();
    const lab = labels.dataSync();
    for (let b = 0; b < 3; b++) {
      for (let pos = 0; pos < 9; pos++) {
        const src = perms[lab[b]!]![pos]!;
        const topLeft = t[b]![pos]![0]![0]![0]!;
        const [row, col] = [Math.floor(topLeft / 100), topLeft % 100];
        expect(Math.floor(row / 10)).toBe(Math.floor(src / 3));
        expect(Math.floor(col / 10)).toBe(src % 3);
        // Contiguous 8×8 crop.
        expect(t[b]![pos]![7]![7]![0]).toBe(topLeft + 707);
      }
    }
    const norm = jigsawBatch(code, perms, { seed: 4, normalizeTiles: true });
    expectClose(tf.mean(norm.tiles, [2, 3]), new Array(27).fill(0), { atol: 1e-4 });
    expect(() => jigsawBatch(code, [[0, 1, 2]])).toThrow('jigsawBatch: permutations[0] must be a permutation of 0..8 (grid 3×3), got [0, 1, 2]');
    expect(() => jigsawBatch(code, perms, { tileSize: 11 })).toThrow('jigsawBatch: options.tileSize must be at most the cell side 10');
    tf.dispose([code, tiles, labels, norm.tiles, norm.labels]);
  });

  it('relativePositionPairs: neighbour offsets match the label, with gap and jitter', () => {
    const code = tf.tidy(() => {
      const r = tf.reshape(tf.range(0, 64), [64, 1]);
      const c = tf.reshape(tf.range(0, 64), [1, 64]);
      return tf.tile(tf.reshape(tf.add(tf.mul(r, 100), c), [1, 64, 64, 1]), [40, 1, 1, 1]);
    }) as tf.Tensor4D;
    const { center, neighbor, labels } = expectNoLeak(() => relativePositionPairs(code, { patchSize: 12, gap: 6, jitter: 2, seed: 5 }));
    expect(center.shape).toEqual([40, 12, 12, 1]);
    const cv = center.arraySync();
    const nv = neighbor.arraySync();
    const offsets = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]];
    labels.dataSync().forEach((label, i) => {
      const c0 = cv[i]![0]![0]![0]!;
      const n0 = nv[i]![0]![0]![0]!;
      const dy = Math.floor(n0 / 100) - Math.floor(c0 / 100);
      const dx = (n0 % 100) - (c0 % 100);
      const [oy, ox] = offsets[label]!;
      // Step 18 px (patch + gap) per grid cell, ±2·jitter.
      expect(Math.abs(dy - 18 * oy!)).toBeLessThanOrEqual(4);
      expect(Math.abs(dx - 18 * ox!)).toBeLessThanOrEqual(4);
    });
    expect(new Set(labels.dataSync()).size).toBe(8);
    const five = relativePositionPairs(code, { grid: 5, patchSize: 8, gap: 4, jitter: 1, seed: 2 });
    expect(Math.max(...five.labels.dataSync())).toBeLessThan(24);
    expect(() => relativePositionPairs(code, { grid: 4 })).toThrow('relativePositionPairs: options.grid must be an odd integer ≥ 3');
    tf.dispose([five.center, five.neighbor, five.labels]);
    expect(() => relativePositionPairs(code, { patchSize: 20, gap: 10 })).toThrow(
      'relativePositionPairs: images must be at least 3·patchSize + 2·gap + 2·jitter = 82 pixels on the shorter side (patchSize 20, gap 10, jitter 1), got [40, 64, 64, 1]',
    );
    tf.dispose([code, center, neighbor, labels]);
  });

  it("labSplit scales as Zhang et al.'s colorization code and labMerge inverts it", () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    const { l, ab } = expectNoLeak(() => labSplit(x));
    const lab = rgbToLab(x);
    const [L, a, b] = tf.split(lab, 3, 3);
    expectClose(l, tf.div(tf.sub(L!, 50), 100), { atol: 1e-6 });
    expectClose(ab, tf.div(tf.concat([a!, b!], 3), 110), { atol: 1e-6 });
    const raw = labSplit(x, { scaling: 'raw' });
    expectClose(raw.l, L!, { atol: 1e-4 });
    const back = labMerge(l, ab);
    expectClose(back, x, { atol: 1e-4, rtol: 0 });
    tf.dispose([x, l, ab, lab, L!, a!, b!, raw.l, raw.ab, back]);
  });
});

it('masking tasks agree on cpu and wasm', async () => {
  const out = await onEachBackend(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(fx.images) as tf.Tensor4D;
      const perms = jigsawPermutations(4, { tiles: 4, seed: 1 });
      return [
        jigsawBatch(x, perms, { grid: 2, seed: 2 }).tiles,
        relativePositionPairs(tf.image.resizeBilinear(x, [32, 32]) as tf.Tensor4D, { seed: 3 }).neighbor,
        rotationBatch(x).images,
        labSplit(x).ab,
      ].map((t) => Array.from(t.dataSync()));
    }),
  );
  // Exact except Lab (pow differs in the last bits) and the bilinear resize feeding task 1.
  out.cpu.forEach((c, k) => expectClose(out.wasm[k]!, c, { atol: k === 3 ? 1e-5 : k === 1 ? 1e-6 : 0, rtol: 0, label: `task ${k}` }));
});
