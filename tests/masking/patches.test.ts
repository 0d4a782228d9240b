import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { gatherVisible, patchify, randomPatchMask, restoreOrder, unpatchify } from '../../src/masking/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectNoLeak } from '../helpers/numerics.js';
import { flat } from '../augment/fixture-utils.js';

interface MaeCase {
  maskRatio: number;
  noise: number[][];
  tokens: number[][][];
  visible: number[][][];
  mask: number[][];
  idsRestore: number[][];
  idsKeep: number[][];
}
const fx = loadFixture<{ images: number[][][][]; patchify: { patchSize: number; output: number[][][] }[]; mae: MaeCase[] }>('masking');

describeBackends('patchify', () => {
  it("matches MAE's patchify and inverts exactly", () => {
    const x = tf.tensor4d(fx.images) as tf.Tensor4D;
    for (const c of fx.patchify) {
      const p = expectNoLeak(() => patchify(x, c.patchSize));
      expectClose(p, flat(c.output), { atol: 1e-7, rtol: 0, label: `p=${c.patchSize}` });
      const back = expectNoLeak(() => unpatchify(p, c.patchSize, [8, 8]));
      expectClose(back, x, { atol: 0, rtol: 0 });
      tf.dispose([p, back]);
    }
    x.dispose();
  });

  it('rejects bad shapes', () => {
    const x = tf.ones([1, 8, 6, 3]) as tf.Tensor4D;
    expect(() => patchify(x, 4)).toThrow('patchify: images must have H and W divisible by patchSize 4, got [1, 8, 6, 3]');
    expect(() => patchify(tf.ones([8, 8, 3]) as never, 4)).toThrow('patchify: images must be a rank-4 tensor [B, H, W, C] (NHWC), got rank 3');
    expect(() => unpatchify(tf.ones([1, 5, 48]) as tf.Tensor3D, 4, [8, 8])).toThrow(
      'unpatchify: patches must have shape [B, 4, 4·4·C] for 8×8 images and patchSize 4, got [1, 5, 48]',
    );
    x.dispose();
  });
});

describeBackends('MAE masking', () => {
  it("matches MAE's random_masking for given noise", () => {
    for (const c of fx.mae) {
      const [b, l] = [c.noise.length, c.noise[0]!.length];
      const { mask, idsKeep, idsRestore } = expectNoLeak(() => randomPatchMask(b, l, { maskRatio: c.maskRatio, noise: flat(c.noise) }));
      expect(Array.from(idsKeep.dataSync())).toEqual(flat(c.idsKeep));
      expect(Array.from(idsRestore.dataSync())).toEqual(flat(c.idsRestore));
      expect(Array.from(mask.dataSync())).toEqual(flat(c.mask));
      const tokens = tf.tensor3d(c.tokens) as tf.Tensor3D;
      const visible = expectNoLeak(() => gatherVisible(tokens, idsKeep));
      expectClose(visible, flat(c.visible), { atol: 1e-7, rtol: 0 });
      tf.dispose([mask, idsKeep, idsRestore, tokens, visible]);
    }
  });

  it('restoreOrder undoes the shuffle, with mask tokens in the removed places', () => {
    const c = fx.mae[0]!;
    const tokens = tf.tensor3d(c.tokens) as tf.Tensor3D;
    const noise = tf.tensor2d(c.noise) as tf.Tensor2D;
    const { mask, idsKeep, idsRestore } = randomPatchMask(2, 16, { maskRatio: 0.75, noise });
    const visible = gatherVisible(tokens, idsKeep);
    const token = tf.fill([3], -1) as tf.Tensor1D;
    const full = expectNoLeak(() => restoreOrder(visible, idsRestore, { maskToken: token }));
    // Kept positions hold the original token, removed ones the mask token.
    const expected = tf.tidy(() => tf.add(tf.mul(tokens, tf.sub(1, tf.expandDims(mask, 2))), tf.mul(tf.expandDims(mask, 2), -1)));
    expectClose(full, expected, { atol: 0, rtol: 0 });
    tf.dispose([tokens, noise, mask, idsKeep, idsRestore, visible, token, full, expected]);
  });

  it('gatherVisible and restoreOrder have exact gradients (incl. the mask token)', () => {
    const tokens = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const w = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 2);
    const { idsKeep, idsRestore } = randomPatchMask(2, 6, { maskRatio: 0.5, seed: 3 });
    const maskToken = tf.tensor1d([0.1, -0.2, 0.3]);
    checkGradients(
      (t, m) => tf.sum(tf.mul(restoreOrder(gatherVisible(t as tf.Tensor3D, idsKeep), idsRestore, { maskToken: m as tf.Tensor1D }), w)),
      [tokens, maskToken],
    );
    tf.dispose([tokens, w, idsKeep, idsRestore, maskToken]);
  });

  it('keeps exactly floor(L·(1 − ratio)) patches per sample; seeded', () => {
    for (const [l, ratio] of [[196, 0.75], [49, 0.9], [10, 0.6], [16, 0]] as const) {
      const { mask, idsKeep, idsRestore } = randomPatchMask(64, l, { maskRatio: ratio, seed: 5 });
      const keep = Math.floor(l * (1 - ratio));
      expect(idsKeep.shape).toEqual([64, keep]);
      const perRow = tf.tidy(() => tf.sum(mask, 1).dataSync());
      expect(new Set(perRow)).toEqual(new Set([l - keep]));
      const again = randomPatchMask(64, l, { maskRatio: ratio, seed: 5 });
      expect(Array.from(again.idsRestore.dataSync())).toEqual(Array.from(idsRestore.dataSync()));
      tf.dispose([mask, idsKeep, idsRestore, again.mask, again.idsKeep, again.idsRestore]);
    }
  });

  it('rejects bad input', () => {
    expect(() => randomPatchMask(2, 16, { maskRatio: 1.5 })).toThrow('randomPatchMask: options.maskRatio must be a number in [0, 1], got 1.5');
    expect(() => randomPatchMask(2, 16, { noise: [1, 2] })).toThrow('randomPatchMask: options.noise must have 32 values (B·L, row-major)');
    const tokens = tf.ones([2, 4, 3]) as tf.Tensor3D;
    const dup = tf.tensor2d([[0, 0], [1, 2]], [2, 2], 'int32');
    expect(() => gatherVisible(tokens, dup)).toThrow('gatherVisible: idsKeep must hold distinct indices in [0, 4) in every row, got 0 at [0, 1]');
    const ids = tf.tensor2d([[0, 1, 2, 3]], [1, 4], 'int32');
    expect(() => restoreOrder(tokens, ids)).toThrow('restoreOrder: idsRestore must have shape [2, L] with L ≥ 4');
    const short = tf.ones([1, 2, 3]) as tf.Tensor3D;
    expect(() => restoreOrder(short, ids)).toThrow('restoreOrder: tokens must hold L = 4 tokens, or pass options.maskToken');
    tf.dispose([tokens, dup, ids, short]);
  });
});

it('MAE masking and gathers agree on cpu and wasm', async () => {
  const out = await onEachBackend(() =>
    tf.tidy(() => {
      const tokens = tf.randomNormal([3, 20, 5], 0, 1, 'float32', 4) as tf.Tensor3D;
      const { idsKeep, idsRestore } = randomPatchMask(3, 20, { seed: 8 });
      const v = gatherVisible(tokens, idsKeep);
      return [Array.from(idsKeep.dataSync()), Array.from(v.dataSync()), Array.from(restoreOrder(tf.concat([v, v, v, v], 1) as tf.Tensor3D, idsRestore).dataSync())];
    }),
  );
  out.cpu.forEach((c, k) => expect(out.wasm[k]).toEqual(c));
});
