import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { patchMaskToPixels } from '../../src/index.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

describeBackends('patchMaskToPixels', () => {
  it('repeats every patch value over its p×p pixels (SimMIM’s repeat_interleave), non-square grids too', () => {
    const mask = tf.tensor2d([[1, 0, 0, 0, 1, 1], [0, 1, 0, 1, 0, 0]]); // grid 2×3
    const pixels = expectNoLeak(() => patchMaskToPixels(mask, [2, 3], 2));
    expect(pixels.shape).toEqual([2, 4, 6, 1]);
    const rows = (pixels.arraySync() as number[][][][])[0]!.map((r) => r.map((v) => v[0]));
    expect(rows).toEqual([
      [1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [0, 0, 1, 1, 1, 1],
      [0, 0, 1, 1, 1, 1],
    ]);
    // The fraction of masked pixels equals the fraction of masked patches.
    expectClose(tf.mean(pixels), tf.mean(mask), { atol: 1e-7 });
    expectClose(patchMaskToPixels(mask, [2, 3], 1), tf.reshape(mask, [2, 2, 3, 1]), { atol: 0 });
    tf.dispose([mask, pixels]);
  });

  it('rejects a mask that does not fit the grid', () => {
    const mask = tf.zeros([1, 4]) as tf.Tensor2D;
    expect(() => patchMaskToPixels(mask, [2, 3], 2)).toThrow('patchMaskToPixels: mask must have L = gh·gw = 6 patches for grid [2, 3], got [1, 4]');
    expect(() => patchMaskToPixels(mask, [2, 2], 0)).toThrow('patchMaskToPixels: patchSize must be');
    expect(() => patchMaskToPixels(tf.zeros([4]) as never, [2, 2], 2)).toThrow('patchMaskToPixels: mask must be a rank-2 tensor');
    mask.dispose();
  });
});
