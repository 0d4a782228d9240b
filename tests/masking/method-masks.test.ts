/**
 * iBOT / DINOv2 masks (ibotMask), I-JEPA's multi-block masks (multiBlockMask)
 * and gatherMaskedTokens: the references' constraints and statistics
 * (tests/fixtures/masking-dinov2.json and ijepa.json, from the authors' code),
 * seeding, and errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { fillBlockMask } from '../../src/masking/block-mask.js';
import { gatherMaskedTokens, ibotMask, multiBlockMask } from '../../src/masking/index.js';
import { sampleBlockSize } from '../../src/masking/multi-block-mask.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectNoLeak } from '../helpers/numerics.js';

interface GeneratorStats {
  grid: [number, number];
  minBlock: number;
  maxBlock: number;
  numMasked: number;
  mean: number;
  std: number;
  draws: number;
  max: number;
}
const dinov2 = loadFixture<{ maskingGenerator: GeneratorStats[] }>('masking-dinov2');
interface BlockSizes {
  grid: [number, number];
  scale: [number, number];
  aspect: [number, number];
  draws: { r: number; h: number; w: number }[];
}
const ijepa = loadFixture<{ blockSizes: BlockSizes[] }>('ijepa');

it("the block sampler covers as many patches as DINOv2's MaskingGenerator (mean of 4,000 draws within 4 standard errors)", () => {
  for (const s of dinov2.maskingGenerator) {
    const [rows, cols] = s.grid;
    const rng = createRng(1);
    const params = { rows, cols, minBlock: s.minBlock, maxBlock: s.maxBlock, logAspect: [Math.log(0.3), Math.log(1 / 0.3)] as const, clampMinBlock: false };
    let sum = 0;
    let max = 0;
    const mask = new Float32Array(rows * cols);
    for (let i = 0; i < s.draws; i++) {
      mask.fill(0);
      fillBlockMask(mask, s.numMasked, params, rng);
      const count = mask.reduce((a, b) => a + b, 0);
      sum += count;
      max = Math.max(max, count);
    }
    const mean = sum / s.draws;
    const tolerance = 4 * Math.max(s.std, 0.05) / Math.sqrt(s.draws) * Math.SQRT2;
    expect(Math.abs(mean - s.mean), `${rows}×${cols}, ${s.numMasked} masked: ${mean} vs ${s.mean}`).toBeLessThanOrEqual(tolerance);
    expect(max).toBeLessThanOrEqual(s.numMasked);
  }
});

describeBackends('ibotMask', () => {
  it("masks floor(B·p) images with ratios spread over the range, the rest not at all (DINOv2's collate)", () => {
    const masks = expectNoLeak(() => ibotMask(20, [7, 7], { seed: 3 }));
    expect(masks.shape).toEqual([20, 49]);
    const rows = masks.arraySync() as number[][];
    const counts = rows.map((r) => r.reduce((a, b) => a + b, 0));
    expect(counts.filter((c) => c === 0).length).toBeGreaterThanOrEqual(10);
    const masked = counts.filter((c) => c > 0).sort((a, b) => a - b);
    expect(masked.length).toBeLessThanOrEqual(10);
    expect(masked.length).toBeGreaterThanOrEqual(8); // a tiny target can be missed by BEiT's ≤ 10 tries
    for (const c of masked) expect(c).toBeLessThanOrEqual(Math.floor(0.5 * 49));
    expect(masked.at(-1)!).toBeGreaterThan(masked[0]!); // the ratios are spread, not all equal
    for (const r of rows) for (const v of r) expect(v === 0 || v === 1).toBe(true);
    masks.dispose();
  });

  it('is seeded (same seed, same masks), probability 1 masks every image, 0 none', () => {
    const a = ibotMask(6, [4, 4], { seed: 9 });
    const b = ibotMask(6, [4, 4], { seed: 9 });
    expect(a.arraySync()).toEqual(b.arraySync());
    const all = ibotMask(6, [7, 7], { maskProbability: 1, maskRatio: [0.3, 0.5], seed: 1 });
    expect((tf.sum(all, 1).arraySync() as number[]).every((c) => c > 0)).toBe(true);
    const none = ibotMask(6, [7, 7], { maskProbability: 0, seed: 1 });
    expect(tf.sum(none).dataSync()[0]).toBe(0);
    tf.dispose([a, b, all, none]);
  });

  it('rejects bad options', () => {
    expect(() => ibotMask(0, [7, 7])).toThrow('ibotMask: batchSize must be an integer ≥ 1');
    expect(() => ibotMask(2, [7] as never)).toThrow('ibotMask: grid must be [rows, cols]');
    expect(() => ibotMask(2, [7, 7], { maskRatio: [0.5, 0.1] })).toThrow('ibotMask: options.maskRatio must be a [min, max] pair');
    expect(() => ibotMask(2, [7, 7], { maskProbability: 2 })).toThrow('ibotMask: options.maskProbability');
    expect(() => ibotMask(2, [7, 7], { ratio: 0.5 } as never)).toThrow('ibotMask: options.ratio must be one of the known options');
    expect(() => ibotMask(2, [7, 7], { seed: -1 })).toThrow('ibotMask: options.seed must be an integer in [0, 2^32) or an Rng, got -1');
    expect(() => multiBlockMask(2, [7, 7], { seed: 1.5 })).toThrow('multiBlockMask: options.seed must be an integer in [0, 2^32) or an Rng, got 1.5');
  });
});

describeBackends('multiBlockMask', () => {
  it("samples the block size of I-JEPA's MaskCollator._sample_block_size for the same uniform draw", () => {
    for (const c of ijepa.blockSizes) {
      for (const d of c.draws) {
        expect(sampleBlockSize(d.r, c.scale, c.aspect, c.grid[0], c.grid[1]), `${c.grid} r=${d.r}`).toEqual([d.h, d.w]);
      }
    }
  });

  it('keeps the constraints: disjoint context and targets, blocks of the sampled size, > minKeep patches, sorted ids', () => {
    for (const [grid, options] of [
      [[7, 7], {}],
      [[14, 14], { minKeep: 10 }],
      [[8, 6], { numTargets: 2, targetScale: [0.1, 0.3], targetAspect: [0.5, 2], minKeep: 2 }],
      [[4, 4], { numTargets: 2, targetScale: [0.15, 0.2], minKeep: 0 }],
    ] as const) {
      for (let seed = 0; seed < 20; seed++) {
        const { contextIds, targetIds } = expectNoLeak(() => multiBlockMask(8, grid, { ...options, seed }));
        const ctx = contextIds.arraySync() as number[][];
        const tgt = targetIds.arraySync() as number[][][];
        const minKeep = (options as { minKeep?: number }).minKeep ?? 4;
        expect(tgt.length).toBe((options as { numTargets?: number }).numTargets ?? 4);
        expect(ctx[0]!.length).toBeGreaterThan(minKeep);
        expect(tgt[0]![0]!.length).toBeGreaterThan(minKeep);
        for (let b = 0; b < 8; b++) {
          const inTargets = new Set(tgt.flatMap((blocks) => blocks[b]!));
          for (const id of ctx[b]!) expect(inTargets.has(id), `grid ${grid} seed ${seed}: context patch ${id} is a target`).toBe(false);
          for (const list of [ctx[b]!, ...tgt.map((blocks) => blocks[b]!)]) {
            expect([...list].sort((x, y) => x - y)).toEqual(list);
            expect(new Set(list).size).toBe(list.length);
            for (const id of list) expect(id >= 0 && id < grid[0] * grid[1]).toBe(true);
          }
          // Every target is (the first Kt ids of) an axis-aligned block.
          for (const blocks of tgt) {
            const rows = blocks[b]!.map((id) => Math.floor(id / grid[1]));
            const cols = blocks[b]!.map((id) => id % grid[1]);
            expect(Math.max(...rows) - Math.min(...rows)).toBeLessThan(grid[0]);
            expect(Math.max(...cols) - Math.min(...cols)).toBeLessThan(grid[1]);
          }
        }
        tf.dispose([contextIds, targetIds]);
      }
    }
  });

  it('is seeded; allowOverlap lets the context cover targets', () => {
    const a = multiBlockMask(4, [7, 7], { seed: 5 });
    const b = multiBlockMask(4, [7, 7], { seed: 5 });
    expect(a.contextIds.arraySync()).toEqual(b.contextIds.arraySync());
    expect(a.targetIds.arraySync()).toEqual(b.targetIds.arraySync());
    const overlap = multiBlockMask(4, [7, 7], { allowOverlap: true, seed: 5 });
    expect(overlap.contextIds.shape[1]).toBeGreaterThan(a.contextIds.shape[1]);
    tf.dispose([a.contextIds, a.targetIds, b.contextIds, b.targetIds, overlap.contextIds, overlap.targetIds]);
  });

  it('refuses settings that cannot be met instead of looping', () => {
    expect(() => multiBlockMask(2, [4, 4])).toThrow('multiBlockMask: options.targetScale must give target blocks of more than minKeep = 4 patches on a 4×4 grid');
    expect(() => multiBlockMask(2, [4, 4], { targetScale: [0.55, 0.6], targetAspect: [1, 1], minKeep: 7 })).toThrow(
      'multiBlockMask: options.minKeep must be below the 7 patches a target block of up to 9 leaves on a 4×4 grid, got 7',
    );
    // Six targets that could cover the whole grid: the targets are redrawn until the context keeps enough.
    const crowded = multiBlockMask(8, [7, 7], { numTargets: 6, minKeep: 2, seed: 1 });
    expect(crowded.contextIds.shape[1]).toBeGreaterThan(2);
    tf.dispose([crowded.contextIds, crowded.targetIds]);
    expect(() => multiBlockMask(2, [7, 7], { targetScale: [0.3, 0.1] })).toThrow('multiBlockMask: options.targetScale must be a [min, max] pair');
    expect(() => multiBlockMask(2, [7, 7], { targets: 3 } as never)).toThrow('multiBlockMask: options.targets must be one of the known options');
  });
});

describeBackends('gatherMaskedTokens', () => {
  it('takes the masked tokens in row-major order, with the exact gradient', () => {
    const tokens = tf.reshape(tf.range(0, 24, 1, 'float32'), [2, 4, 3]) as tf.Tensor3D;
    const mask = tf.tensor2d([[0, 1, 0, 1], [1, 0, 0, 0]]);
    const out = expectNoLeak(() => gatherMaskedTokens(tokens, mask));
    expectClose(out, [[3, 4, 5], [9, 10, 11], [12, 13, 14]], { atol: 0, rtol: 0 });
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(gatherMaskedTokens(x as tf.Tensor3D, mask), tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))))(tokens);
    expectClose(g, [[[0, 0, 0], [1, 2, 3], [0, 0, 0], [4, 5, 6]], [[7, 8, 9], [0, 0, 0], [0, 0, 0], [0, 0, 0]]], { atol: 0, rtol: 0 });
    checkGradients((x) => tf.sum(tf.square(gatherMaskedTokens(x as tf.Tensor3D, mask))) as tf.Scalar, [tf.randomNormal([2, 4, 3], 0, 1, 'float32', 1)]);
    const none = gatherMaskedTokens(tokens, tf.zeros([2, 4]) as tf.Tensor2D);
    expect(none.shape).toEqual([0, 3]);
    tf.dispose([tokens, mask, out, g, none]);
  });

  it('rejects bad input', () => {
    const tokens = tf.zeros([2, 4, 3]) as tf.Tensor3D;
    expect(() => gatherMaskedTokens(tokens, tf.zeros([2, 5]) as tf.Tensor2D)).toThrow('gatherMaskedTokens: mask must have shape [2, 4]');
    expect(() => gatherMaskedTokens(tokens, tf.fill([2, 4], 2) as tf.Tensor2D)).toThrow('gatherMaskedTokens: mask must hold only 0 and 1');
    expect(() => gatherMaskedTokens(tf.zeros([2, 4]) as never, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow('gatherMaskedTokens: tokens must be a rank-3 tensor');
    tokens.dispose();
  });
});
