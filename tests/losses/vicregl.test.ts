/** vicreglLoss: its global part is VICReg's, gradients, stability, leaks, messages (lightly's values: methods-reference.test.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { vicregLoss, vicreglLoss, type VicreglView } from '../../src/losses/index.js';
import { describeBackends } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, valueOf } from './inputs.js';

function lattice(b: number, h: number, w: number, scale = 1, offset = 0): tf.Tensor4D {
  const values: number[] = [];
  for (let i = 0; i < b; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values.push(offset + scale * y + 0.01 * i, offset + scale * x);
  return tf.tensor4d(values, [b, h, w, 2]);
}

function view(seed: number, b = 5, h = 3, d = 4, grid = lattice(b, h, h)): VicreglView {
  return { global: randn([b, 6], seed) as tf.Tensor2D, local: randn([b, h, h, d], seed + 1) as tf.Tensor4D, grid };
}

describeBackends('vicreglLoss', () => {
  it('with α = 1 it is VICReg with the covariance weight halved (a mean over the two views, not a sum)', () => {
    const a = view(1);
    const b = view(3);
    for (const [simWeight, varWeight, covWeight] of [[25, 25, 1], [1, 2, 3]] as const) {
      expectClose(
        valueOf(vicreglLoss([a, b], [], { alpha: 1, simWeight, varWeight, covWeight })),
        valueOf(vicregLoss(a.global, b.global, { simWeight, varWeight, covWeight: covWeight / 2 })),
        { rtol: 1e-5 },
      );
    }
    tf.dispose([a, b].flatMap((v) => [v.global, v.local, v.grid]));
  });

  it('local views are matched against every global view; the result is symmetric in the global views', () => {
    const a = view(1);
    const b = view(3);
    const small = view(5, 5, 2, 4, lattice(5, 2, 2, 1.5, 0.5));
    const ab = valueOf(vicreglLoss([a, b], [small], { numMatches: [4, 2] }));
    const ba = valueOf(vicreglLoss([b, a], [small], { numMatches: [4, 2] }));
    expectClose(ab, ba, { rtol: 1e-5 });
    expectFinite(ab);
    tf.dispose([a, b, small].flatMap((v) => [v.global, v.local, v.grid]));
  });

  it('has the analytic gradients of finite differences (the matching is fixed under small steps)', () => {
    const grid = lattice(4, 2, 2);
    const fixedGrid = lattice(4, 2, 2, 0.9, 0.2);
    const f = (g1: tf.Tensor, l1: tf.Tensor, g2: tf.Tensor, l2: tf.Tensor) =>
      vicreglLoss(
        [
          { global: g1 as tf.Tensor2D, local: l1 as tf.Tensor4D, grid },
          { global: g2 as tf.Tensor2D, local: l2 as tf.Tensor4D, grid: fixedGrid },
        ],
        [],
        { numMatches: [3, 2], varWeight: 5, simWeight: 2 },
      );
    checkGradients(f, [randn([4, 3], 1, 2), randn([4, 2, 2, 3], 2, 2), randn([4, 3], 3, 2), randn([4, 2, 2, 3], 4, 2)], {
      step: 1e-3,
      rtol: 3e-2,
      atol: 3e-2,
    });
    tf.dispose([grid, fixedGrid]);
  });

  it('stays finite for zero features (every distance tied) and leaves nothing behind', () => {
    const zero = (): VicreglView => ({ global: tf.zeros([3, 4]) as tf.Tensor2D, local: tf.zeros([3, 2, 2, 4]) as tf.Tensor4D, grid: lattice(3, 2, 2) });
    const a = zero();
    const b = zero();
    const value = expectNoLeak(() => vicreglLoss([a, b], [], { numMatches: [2, 2] }));
    expectFinite(value);
    const grads = expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => vicreglLoss([{ ...a, local: x as tf.Tensor4D }, { ...b, global: y as tf.Tensor2D }], [], { numMatches: [2, 2] }))([a.local, b.global]));
    grads.forEach((g) => expectFinite(g));
    tf.dispose([value, ...grads, ...[a, b].flatMap((v) => [v.global, v.local, v.grid])]);
  });

  it('rejects bad input with messages naming the argument', () => {
    const a = view(1);
    expect(() => vicreglLoss([a])).toThrow('vicreglLoss: globalViews must be an array of at least 2 views');
    expect(() => vicreglLoss([a, { ...a, grid: tf.zeros([5, 3, 3, 3]) as tf.Tensor4D }])).toThrow(
      'vicreglLoss: globalViews[1].grid must have shape [5, 3, 3, 2] matching globalViews[1].local, got [5, 3, 3, 3]',
    );
    expect(() => vicreglLoss([a, { ...a, global: tf.zeros([4, 6]) as tf.Tensor2D }])).toThrow('vicreglLoss: globalViews[1].global must have the batch size B = 5 of the first view');
    expect(() => vicreglLoss([a, a], [], { alpha: 2 })).toThrow('vicreglLoss: options.alpha must be a number in [0, 1], got 2');
    expect(() => vicreglLoss([a, a], [], { numMatches: [0, 2] })).toThrow('vicreglLoss: options.numMatches[0] must be');
    expect(() => vicreglLoss([a, a], [], { matches: 2 } as never)).toThrow('vicreglLoss: options.matches must be one of the known options');
    tf.dispose([a.global, a.local, a.grid]);
  });
});
