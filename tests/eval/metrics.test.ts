import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignment, detectCollapse, embeddingStd, rankMe, uniformity, useBackend } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';

interface MetricsFixture {
  rankMe: { name: string; shape: [number, number]; z: number[]; rankMe: number; singularValues: number[] }[];
  x: number[];
  y: number[];
  shape: [number, number];
  alignment: { alpha2: number; alpha1: number; gradX: number[] };
  uniformity: { t2: number; t5: number; gradX: number[] };
  embeddingStd: number;
}

const fx = loadFixture<MetricsFixture>('eval-metrics');

describe('rankMe', () => {
  beforeAll(() => useBackend('cpu'));

  for (const c of fx.rankMe) {
    it(`matches numpy's SVD-based value: ${c.name}`, () => {
      const z = tf.tensor2d(c.z, c.shape);
      expect(rankMe(z)).toBeCloseTo(c.rankMe, 4);
      z.dispose();
    });
  }

  it('closed forms: equal spectrum → min(N, D); rank one → 1; zero matrix → 1', () => {
    const eye = tf.eye(6, 8) as tf.Tensor2D;
    // p_k = 1/6 + ε for 6 values: exp(−6 (1/6+ε) log(1/6+ε)) ≈ 6.
    expect(rankMe(eye)).toBeCloseTo(6, 4);
    expect(rankMe(tf.tensor2d([[1, 2], [2, 4], [-3, -6]]))).toBeCloseTo(1, 5);
    expect(rankMe(tf.zeros([4, 3]) as tf.Tensor2D)).toBe(1);
    expect(rankMe(eye, { epsilon: 1e-3 })).toBeCloseTo(Math.exp(-6 * (1 / 6 + 1e-3) * Math.log(1 / 6 + 1e-3)), 10);
  });

  it('explains bad input', () => {
    expect(() => rankMe(tf.tensor2d([[NaN, 1]]))).toThrow('rankMe: z must hold finite features (no NaN or infinity), got NaN at flat index 0 (row 0)');
    expect(() => rankMe(tf.zeros([3]) as never)).toThrow('rankMe: z must be a rank-2 tensor [N, D], got rank 1 with shape [3]');
    expect(() => rankMe(tf.eye(2) as tf.Tensor2D, { epsilon: 0 })).toThrow('rankMe: options.epsilon must be a finite number > 0, got 0');
  });
});

describeBackends('alignment, uniformity, embeddingStd', (backend) => {
  let x: tf.Tensor2D;
  let y: tf.Tensor2D;
  beforeAll(() => {
    x = tf.tensor2d(fx.x, fx.shape);
    y = tf.tensor2d(fx.y, fx.shape);
  });
  afterAll(() => tf.dispose([x, y]));

  it("match Wang & Isola's PyTorch definitions, values and gradients", () => {
    expectClose(expectNoLeak(() => alignment(x, y)), fx.alignment.alpha2, { rtol: 1e-5, label: backend });
    expectClose(alignment(x, y, { alpha: 1 }), fx.alignment.alpha1, { rtol: 1e-5 });
    expectClose(expectNoLeak(() => uniformity(x)), fx.uniformity.t2, { rtol: 1e-5 });
    expectClose(uniformity(x, { t: 5 }), fx.uniformity.t5, { rtol: 1e-5 });
    expectClose(tf.grad((v: tf.Tensor) => alignment(v as tf.Tensor2D, y))(x), fx.alignment.gradX, { rtol: 1e-4, atol: 1e-6 });
    expectClose(tf.grad((v: tf.Tensor) => uniformity(v as tf.Tensor2D))(x), fx.uniformity.gradX, { rtol: 1e-4, atol: 1e-6 });
    expectClose(expectNoLeak(() => embeddingStd(x)), fx.embeddingStd, { rtol: 1e-5 });
  });

  it('finite-difference gradients, and stability at collapse, huge norms and zero rows', () => {
    const a = tf.tensor2d([[0.3, -1.2, 0.5], [1.1, 0.2, -0.4], [-0.6, 0.9, 0.8]]);
    const b = tf.tensor2d([[0.1, -1.0, 0.9], [1.3, -0.2, -0.1], [-0.2, 0.4, 1.1]]);
    checkGradients((p, q) => alignment(p as tf.Tensor2D, q as tf.Tensor2D), [a, b]);
    checkGradients((p) => uniformity(p as tf.Tensor2D), [a]);
    const collapsed = tf.ones([5, 3]) as tf.Tensor2D;
    expectClose(uniformity(collapsed), 0, { atol: 1e-6 });
    expectClose(alignment(collapsed, collapsed), 0, { atol: 1e-12 });
    expectFinite(tf.grad((v: tf.Tensor) => uniformity(v as tf.Tensor2D))(collapsed));
    expectFinite(tf.grad((v: tf.Tensor) => alignment(v as tf.Tensor2D, collapsed, { alpha: 1 }))(collapsed));
    const huge = tf.mul(a, 1e4) as tf.Tensor2D;
    expectClose(uniformity(huge), uniformity(a), { rtol: 1e-5 });
    const withZero = tf.tensor2d([[0, 0, 0], [1, 0, 0]]);
    expectFinite(uniformity(withZero));
    expectFinite(tf.grad((v: tf.Tensor) => uniformity(v as tf.Tensor2D))(withZero));
    tf.dispose([a, b, collapsed, huge, withZero]);
  });

  it('closed forms', () => {
    // Antipodal pair: distance² = 4 → log exp(−2·4) = −8.
    expectClose(uniformity(tf.tensor2d([[2, 0], [-3, 0]])), -8, { atol: 1e-5 });
    // Orthonormal rows: every pairwise distance² is 2.
    expectClose(uniformity(tf.eye(4) as tf.Tensor2D), -2 * 2, { atol: 1e-5 });
    expectClose(alignment(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), { alpha: 2 }), 2, { atol: 1e-6 });
    expectClose(alignment(tf.tensor2d([[1, 0]]), tf.tensor2d([[-1, 0]]), { alpha: 3 }), 8, { atol: 1e-5 });
    expectClose(embeddingStd(tf.eye(4) as tf.Tensor2D), 0.5, { atol: 1e-6 });
    expectClose(embeddingStd(tf.tensor2d([[1, 1], [2, 2], [5, 5]])), 0, { atol: 1e-7 });
  });

  it('explains bad input', () => {
    expect(() => alignment(x, tf.zeros([32, 4]) as tf.Tensor2D)).toThrow(
      'alignment: y must have shape [N, D] matching x [32, 8], got [32, 4]',
    );
    expect(() => uniformity(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow('uniformity: x must have N ≥ 2 on axis 0, got N = 1 in shape [1, 4]');
    expect(() => uniformity(x, { t: -1 })).toThrow('uniformity: options.t must be a finite number > 0, got -1');
    expect(() => embeddingStd(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow('embeddingStd: z must have N ≥ 2 on axis 0');
    expect(() => alignment(tf.zeros([2, 2], 'int32') as tf.Tensor2D, tf.zeros([2, 2], 'int32') as tf.Tensor2D)).toThrow(
      'alignment: x must have dtype float32, got int32',
    );
  });
});

describe('detectCollapse', () => {
  beforeAll(() => useBackend('cpu'));

  it('flags a loss at ln K and collapsed embeddings, and nothing for healthy statistics', () => {
    const uniformLoss = Math.log(127);
    expect(detectCollapse({ loss: uniformLoss * 1.005, uniformLoss }).map((w) => w.kind)).toEqual(['uniform-loss']);
    expect(detectCollapse({ loss: uniformLoss * 0.9, uniformLoss })).toEqual([]);
    expect(detectCollapse({ loss: uniformLoss * 0.9, uniformLoss }, { lossTolerance: 0.2 })).toHaveLength(1);
    const collapsed = tf.add(tf.ones([16, 8]), tf.mul(tf.randomNormal([16, 8], 0, 1, 'float32', 1), 1e-4)) as tf.Tensor2D;
    const healthy = tf.eye(16, 8) as tf.Tensor2D;
    const [w] = detectCollapse({ embeddings: collapsed });
    expect(w!.kind).toBe('collapsed-embeddings');
    expect(w!.message).toMatch(/healthy ≈ 1\/√D = 0.3536/);
    expect(detectCollapse({ embeddings: healthy })).toEqual([]);
    expect(detectCollapse({ embeddingStd: 0.001, dim: 128 })).toHaveLength(1);
    expect(detectCollapse({ embeddingStd: 0.05, dim: 128 })).toEqual([]);
    expect(expectNoLeak(() => detectCollapse({ embeddings: collapsed }))).toHaveLength(1);
    tf.dispose([collapsed, healthy]);
  });

  it('explains bad input', () => {
    expect(() => detectCollapse({ loss: 1 })).toThrow('detectCollapse: stats must give loss and uniformLoss together, got only one of them');
    expect(() => detectCollapse({ loss: NaN, uniformLoss: 2 })).toThrow('detectCollapse: stats.loss must be a finite number, got NaN');
    expect(() => detectCollapse({ embeddingStd: 0.1 })).toThrow('detectCollapse: stats.dim must be an integer ≥ 1, got undefined');
    expect(() => detectCollapse({ std: 1 } as never)).toThrow(/stats.std must be one of the known options/);
  });
});
