/**
 * The differentiable nuclear norm: PyTorch's torch.linalg.matrix_norm(x,
 * 'nuc') and its autograd (scripts/fixtures/lightly_methods.py), closed
 * forms, finite differences at distinct and repeated singular values, and a
 * finite minimum-norm subgradient for rank-deficient input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { nuclearNorm, rankMe } from '../../src/index.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn } from '../losses/inputs.js';

interface NuclearCase {
  name: string;
  x: number[];
  shape: number[];
  value: number | number[];
  grad: number[];
}

const fx = loadFixture<{ cases: NuclearCase[] }>('nuclear-norm');

const norm = (x: tf.Tensor) => nuclearNorm(x as tf.Tensor2D);
const grad = (x: tf.Tensor) => tf.grad((m: tf.Tensor) => tf.sum(nuclearNorm(m as tf.Tensor2D | tf.Tensor3D)))(x);

describeBackends('nuclearNorm', () => {
  it(`matches PyTorch's matrix_norm(x, 'nuc') and its gradient (${fx.cases.length} cases)`, () => {
    for (const c of fx.cases) {
      const x = tf.tensor(c.x, c.shape);
      const value = expectNoLeak(() => nuclearNorm(x as tf.Tensor2D | tf.Tensor3D));
      expect(value.shape).toEqual(c.shape.length === 3 ? [c.shape[0]] : []);
      expectClose(value, c.value, { rtol: 1e-5, atol: 1e-6, label: `${c.name}: value` });
      const g = expectNoLeak(() => grad(x));
      expectClose(g, c.grad, { rtol: 1e-4, atol: 1e-5, label: `${c.name}: gradient` });
      tf.dispose([x, value, g]);
    }
  });

  it('closed forms: diagonal, orthonormal rows, the gradient U Vᵀ', () => {
    const d = tf.tensor2d([[3, 0], [0, -4], [0, 0]]);
    expectClose(norm(d), 7, { rtol: 1e-6 });
    expectClose(grad(d), [[1, 0], [0, -1], [0, 0]], { atol: 1e-6 });
    // Orthonormal rows (MMCR's ideal centroids): ‖Q‖_* = number of rows, gradient Q itself.
    const q = tf.tensor2d([[0.6, 0.8, 0], [0, 0, 1], [0.8, -0.6, 0]]);
    expectClose(norm(tf.mul(q, 2.5)), 7.5, { rtol: 1e-6 });
    expectClose(grad(tf.mul(q, 2.5)), q, { atol: 1e-6 });
    tf.dispose([d, q]);
  });

  it('finite-difference gradients at distinct and at repeated singular values', () => {
    checkGradients(norm, [randn([5, 3], 1)], { step: 1e-2 });
    checkGradients(norm, [randn([3, 6], 2)], { step: 1e-2 });
    checkGradients((x) => tf.sum(nuclearNorm(x as tf.Tensor3D)) as tf.Scalar, [randn([2, 4, 3], 3)], { step: 1e-2 });
    // σ = (2, 2, 2): a scaled orthogonal matrix; the eigenbasis of a repeated value is arbitrary,
    // the gradient (the projector's function) is not.
    const c = Math.SQRT1_2;
    const orthogonal = tf.tensor2d([[2 * c, 2 * c, 0], [-2 * c, 2 * c, 0], [0, 0, 2]]);
    checkGradients(norm, [orthogonal], { step: 1e-3 });
    expectClose(grad(orthogonal), tf.div(orthogonal, 2), { atol: 1e-6 });
    orthogonal.dispose();
  });

  it('rank-deficient input: a finite minimum-norm subgradient', () => {
    // The zero matrix: value 0, gradient 0 (not NaN).
    const zero = tf.zeros([4, 3]);
    expectClose(norm(zero), 0, { atol: 0 });
    const g0 = grad(zero);
    expectFinite(g0, 'gradient at 0');
    expectClose(g0, tf.zeros([4, 3]), { atol: 0 });
    // Rank one, s·u vᵀ: value s, subgradient u vᵀ (nothing along the null directions).
    const u = tf.tensor2d([[0.6], [0], [0.8], [0]]);
    const v = tf.tensor2d([[0, 1, 0]]);
    const rankOne = tf.mul(tf.matMul(u, v), 5);
    expectClose(norm(rankOne), 5, { rtol: 1e-6 });
    const g1 = grad(rankOne);
    expectClose(g1, tf.matMul(u, v), { atol: 1e-6 });
    // Rank two of four columns, repeated rows: ⟨g, Δ⟩ ≤ ‖X + Δ‖_* − ‖X‖_* for every Δ (subgradient inequality).
    const a = randn([6, 2], 4);
    const x = tf.matMul(a, randn([2, 4], 5)) as tf.Tensor2D;
    const g2 = grad(x);
    expectFinite(g2, 'gradient of a rank-2 matrix');
    // U_r V_rᵀ has spectral norm 1 and rank 2: ‖g‖_F² = 2.
    expectClose(tf.sum(tf.square(g2)), 2, { rtol: 1e-4 });
    const fx0 = norm(x).dataSync()[0]!;
    for (let s = 0; s < 8; s++) {
      const delta = randn([6, 4], 10 + s, 0.1);
      const lhs = tf.sum(tf.mul(g2, delta)).dataSync()[0]!;
      const rhs = norm(tf.add(x, delta)).dataSync()[0]! - fx0;
      expect(lhs).toBeLessThanOrEqual(rhs + 1e-4);
      delta.dispose();
    }
    tf.dispose([zero, g0, u, v, rankOne, g1, a, x, g2]);
  });

  it('non-finite input gives NaN (value and gradient), never a partial result', () => {
    const x = tf.tensor2d([[1, NaN], [0, 1]]);
    expect(Number.isNaN(norm(x).dataSync()[0]!)).toBe(true);
    expect(Array.from(grad(x).dataSync()).every(Number.isNaN)).toBe(true);
    x.dispose();
  });

  it('shares its spectrum with rankMe: equal singular values give rankMe = rank', () => {
    const q = tf.tensor2d([[0.6, 0.8, 0], [0, 0, 1], [0.8, -0.6, 0], [0, 0, 0]]);
    expectClose(rankMe(q), 3, { rtol: 1e-5 });
    expectClose(norm(q), 3, { rtol: 1e-6 });
    q.dispose();
  });

  it('leaves nothing behind, forward and backward; rejects bad input', () => {
    const x = randn([4, 3], 6);
    tf.dispose(expectNoLeak(() => norm(x)));
    tf.dispose(expectNoLeak(() => grad(x)));
    expect(() => nuclearNorm(tf.zeros([3]) as never)).toThrow('nuclearNorm: x must be a tensor of rank 2 or 3 [M, N] or [B, M, N]');
    expect(() => nuclearNorm(tf.zeros([2, 2], 'int32') as never)).toThrow('nuclearNorm: x must have dtype float32');
    expect(() => nuclearNorm(tf.zeros([0, 2]) as tf.Tensor2D)).toThrow('nuclearNorm: x must have at least one row and one column, got [0, 2]');
    x.dispose();
  });
});
