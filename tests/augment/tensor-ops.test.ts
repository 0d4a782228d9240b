import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { applyToSubset, cropExact, resampleSeparable, selectSamples, takeRows, toPlanes, fromPlanes } from '../../src/augment/tensor-ops.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

// The backend-specific data-movement helpers must give identical values on every backend.
describeBackends('tensor-ops', () => {
  it('cropExact copies exact integer crops (incl. full-size, 1-pixel and edge crops)', () => {
    let bad = 0;
    for (const [H, W] of [[37, 45], [8, 8], [5, 300]] as const) {
      const x = tf.reshape(tf.range(0, H * W), [1, H, W, 1]) as tf.Tensor4D;
      for (const [h, w] of [[1, 1], [2, 3], [5, 5], [H, W], [Math.floor(H / 2), W - 1]] as const) {
        const tops: number[] = [];
        const lefts: number[] = [];
        for (let t = 0; t <= H - h; t++) for (let l = 0; l <= W - w; l += Math.max(1, Math.floor(W / 40))) { tops.push(t); lefts.push(l); }
        const y = expectNoLeak(() => cropExact(x, new Int32Array(tops.length), Int32Array.from(tops), Int32Array.from(lefts), h, w));
        const d = y.dataSync();
        for (let k = 0; k < tops.length; k++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) if (d[(k * h + i) * w + j] !== (tops[k]! + i) * W + lefts[k]! + j) bad++;
        y.dispose();
      }
      x.dispose();
    }
    expect(bad).toBe(0);
  });

  it('takeRows, selectSamples, applyToSubset and planes are exact', () => {
    const x = tf.reshape(tf.range(0, 6 * 4 * 2 * 3), [6, 4, 2, 3]) as tf.Tensor4D;
    const flat = tf.reshape(x, [24, 6]) as tf.Tensor2D;
    const rows = expectNoLeak(() => takeRows(flat, Int32Array.of(23, 0, 5, 5)));
    expectClose(rows, tf.gather(flat, [23, 0, 5, 5]), { atol: 0, rtol: 0 });
    const y = tf.neg(x) as tf.Tensor4D;
    const sel = expectNoLeak(() => selectSamples(x, y, Uint8Array.of(1, 0, 0, 1, 1, 0)));
    expect(Array.from(tf.sum(sel, [1, 2, 3]).dataSync()).map(Math.sign)).toEqual([-1, 1, 1, -1, -1, 1]);
    const sub = expectNoLeak(() => applyToSubset(x, Uint8Array.of(0, 1, 0, 0, 1, 0), (s, idx) => tf.add(s, tf.tensor4d(Float32Array.from(idx), [idx.length, 1, 1, 1]))));
    expectClose(tf.sub(sub, x), tf.tile(tf.tensor4d([0, 1, 0, 0, 4, 0], [6, 1, 1, 1]), [1, 4, 2, 3]), { atol: 0, rtol: 0 });
    const planes = toPlanes(x);
    expect(Array.from(planes[1].dataSync()).slice(0, 3)).toEqual([1, 4, 7]);
    expectClose(fromPlanes(planes, 4, 2), x, { atol: 0, rtol: 0 });
    tf.dispose([x, flat, rows, y, sel, sub, ...planes]);
  });

  it('resampleSeparable copies integer positions exactly and interpolates fractional ones', () => {
    const x = tf.reshape(tf.range(0, 2 * 4 * 5), [2, 4, 5, 1]) as tf.Tensor4D;
    const rows = Float64Array.of(3, 2, 1, 0, 0, 0.5, 1, 3);
    const cols = Float64Array.of(0, 4, 2, 4, 3.25, 0);
    const y = expectNoLeak(() => resampleSeparable(x, rows, cols, 4, 3));
    // Sample 1, row 0.5, col 3.25: bilinear of 20 + 5·r + c.
    expectClose(tf.slice(y, [1, 1, 1, 0], [1, 1, 1, 1]), [20 + 2.5 + 3.25], { atol: 1e-5 });
    expectClose(tf.slice(y, [0, 0, 0, 0], [1, 4, 3, 1]), [15, 19, 17, 10, 14, 12, 5, 9, 7, 0, 4, 2], { atol: 0, rtol: 0 });
    tf.dispose([x, y]);
  });
});
