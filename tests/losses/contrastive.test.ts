import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { clampLogScale, clipLoss, infoNCELoss, ntXentLoss } from '../../src/losses/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d, valueOf } from './inputs.js';

type Loss = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar;

/** The three contrastive losses as functions of two [N, D] batches (τ = 0.01 where it applies). */
const sharpLosses = (negatives?: tf.Tensor): Record<string, Loss> => ({
  ntXent: (a, b) => ntXentLoss(a, b, { temperature: 0.01 }),
  infoNCEInBatch: (a, b) => infoNCELoss(a, b, undefined, { temperature: 0.01 }),
  infoNCEQueue: (a, b) => infoNCELoss(a, b, negatives as tf.Tensor2D, { temperature: 0.01 }),
  clip: (a, b) => clipLoss(a, b, { logScale: Math.log(100) }),
});

function expectFiniteWithGradients(name: string, loss: Loss, a: tf.Tensor2D, b: tf.Tensor2D): void {
  const [value, grads] = tf.tidy(() => {
    const v = loss(a, b);
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b]);
    return [v, g] as const;
  });
  expectFinite(value, `${name}: loss`);
  grads.forEach((g, i) => expectFinite(g, `${name}: gradient ${i}`));
  tf.dispose([value, ...grads]);
}

describeBackends('contrastive losses', () => {
  it('NT-Xent of identical embeddings is log(2N − 1); one pair (no negatives) is an error, not 0', () => {
    // Issue 16, reproduction 7: N = 1 returned 0.
    const one = tf.ones([1, 4]) as tf.Tensor2D;
    expect(() => ntXentLoss(one, one)).toThrow('ntXentLoss: z1 must have N ≥ 2 on axis 0 (NT-Xent contrasts each pair with the other 2N − 2 embeddings: one pair has no negatives), got N = 1');
    expect(() => infoNCELoss(one, one)).toThrow('infoNCELoss: query must have N ≥ 2 on axis 0');
    one.dispose();
    for (const n of [2, 5, 32]) {
      const z = tf.ones([n, 4]) as tf.Tensor2D;
      for (const temperature of [0.05, 0.5, 2]) {
        expectClose(valueOf(ntXentLoss(z, z, { temperature })), Math.log(2 * n - 1), { rtol: 1e-5, atol: 1e-6 });
      }
      z.dispose();
    }
  });

  it('InfoNCE with q, key and negatives identical is log(K + 1) (shared and per-query), log N in-batch', () => {
    const q = tf.fill([3, 5], 0.7) as tf.Tensor2D;
    for (const k of [1, 4, 64]) {
      const shared = tf.fill([k, 5], 2) as tf.Tensor2D;
      const perQuery = tf.fill([3, k, 5], 3) as tf.Tensor3D;
      expectClose(valueOf(infoNCELoss(q, q, shared)), Math.log(k + 1), { rtol: 1e-5 });
      expectClose(valueOf(infoNCELoss(q, q, perQuery, { temperature: 0.2 })), Math.log(k + 1), { rtol: 1e-5 });
      tf.dispose([shared, perQuery]);
    }
    expectClose(valueOf(infoNCELoss(q, q, undefined, { temperature: 1 })), Math.log(3), { rtol: 1e-5 });
    q.dispose();
  });

  it('CLIP of identical embeddings is log N', () => {
    const z = tf.ones([6, 3]) as tf.Tensor2D;
    expectClose(valueOf(clipLoss(z, z)), Math.log(6), { rtol: 1e-5 });
    z.dispose();
  });

  it('are symmetric where the definition is (NT-Xent, CLIP) and invariant to the embeddings\' scale', () => {
    const a = randn2d(6, 5, 1);
    const b = randn2d(6, 5, 2);
    const scaled = tf.mul(a, 7.5) as tf.Tensor2D;
    expectClose(valueOf(ntXentLoss(a, b)), valueOf(ntXentLoss(b, a)), { rtol: 1e-6 });
    expectClose(valueOf(clipLoss(a, b, { logScale: 1.5 })), valueOf(clipLoss(b, a, { logScale: 1.5 })), { rtol: 1e-6 });
    expectClose(valueOf(ntXentLoss(scaled, b)), valueOf(ntXentLoss(a, b)), { rtol: 1e-5 });
    expectClose(valueOf(infoNCELoss(scaled, b)), valueOf(infoNCELoss(a, b)), { rtol: 1e-5 });
    tf.dispose([a, b, scaled]);
  });

  it('in-batch InfoNCE equals the explicit form with the other keys as negatives', () => {
    const q = randn2d(4, 3, 3);
    const k = randn2d(4, 3, 4);
    const inBatch = valueOf(infoNCELoss(q, k, undefined, { temperature: 0.3 }));
    // Per query i: negatives are the keys j ≠ i, a [N, N − 1, D] per-query set.
    const rows = k.arraySync();
    const others = tf.tensor3d(rows.map((_, i) => rows.filter((_r, j) => j !== i)));
    expectClose(valueOf(infoNCELoss(q, k, others, { temperature: 0.3 })), inBatch, { rtol: 1e-5 });
    tf.dispose([q, k, others]);
  });

  it('stay finite with finite gradients at τ = 0.01 for near-identical embeddings, zero vectors and norms of 1e4', () => {
    const base = randn2d(8, 16, 5);
    const near = tf.add(base, randn([8, 16], 6, 1e-6)) as tf.Tensor2D;
    const zeros = tf.zeros([8, 16]) as tf.Tensor2D;
    const huge = tf.mul(randn2d(8, 16, 7), 1e4) as tf.Tensor2D;
    const queue = randn2d(12, 16, 8);
    const zeroQueue = tf.zeros([12, 16]);
    const hugeQueue = tf.mul(queue, 1e4);
    const cases: [string, tf.Tensor2D, tf.Tensor2D, tf.Tensor][] = [
      ['near-identical', base, near, tf.add(base, 0)],
      ['zero vectors', zeros, zeros, zeroQueue],
      ['one zero view', base, zeros, queue],
      ['norms 1e4', huge, tf.mul(huge, 1.0001) as tf.Tensor2D, hugeQueue],
    ];
    for (const [label, a, b, negatives] of cases) {
      for (const [name, loss] of Object.entries(sharpLosses(negatives))) {
        expectFiniteWithGradients(`${name} (${label})`, loss, a, b);
      }
    }
    const perQuery = tf.stack([base, base, base], 1) as tf.Tensor3D; // [8, 3, 16]: negatives equal to the query
    expectFiniteWithGradients('infoNCE per-query (τ = 0.01, negatives = query)', (a, b) => infoNCELoss(a, b, perQuery, { temperature: 0.01 }), base, near);
    tf.dispose([base, near, zeros, huge, queue, zeroQueue, hugeQueue, perQuery, cases[0]![3]]);
  });

  it('have the analytic gradients of finite differences', () => {
    const a = randn2d(4, 3, 11);
    const b = randn2d(4, 3, 12);
    const queue = randn2d(5, 3, 13);
    const perQuery = randn([4, 2, 3], 14);
    const logScale = tf.scalar(1.2);
    checkGradients((x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.5 }), [a, b]);
    checkGradients((x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, undefined, { temperature: 0.5 }), [a, b]);
    checkGradients((x, y, n) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, n as tf.Tensor2D, { temperature: 0.5 }), [a, b, queue]);
    checkGradients((x, y, n) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, n as tf.Tensor3D, { temperature: 0.5 }), [a, b, perQuery]);
    checkGradients((x, y, s) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale: s as tf.Scalar }), [a, b, logScale]);
    tf.dispose([a, b, queue, perQuery, logScale]);
  });

  it('leave nothing alive but the loss, forward and backward', () => {
    const a = randn2d(5, 4, 21);
    const b = randn2d(5, 4, 22);
    const queue = randn2d(7, 4, 23);
    const perQuery = randn([5, 3, 4], 24);
    const logScale = tf.variable(tf.scalar(2));
    const fs: ((x: tf.Tensor, y: tf.Tensor) => tf.Scalar)[] = [
      (x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D),
      (x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D),
      (x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, queue),
      (x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, perQuery as tf.Tensor3D),
      (x, y) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale }),
    ];
    for (const f of fs) {
      tf.dispose(expectNoLeak(() => f(a, b)));
      tf.dispose(expectNoLeak(() => tf.grads(f)([a, b])));
    }
    tf.dispose(expectNoLeak(() => tf.variableGrads(() => clipLoss(a, b, { logScale }), [logScale])));
    tf.dispose([a, b, queue, perQuery, logScale]);
  });

  it('clampLogScale clamps a learnable log scale at log(100) in place', () => {
    const high = tf.variable(tf.scalar(7));
    const low = tf.variable(tf.scalar(1));
    expectNoLeak(() => clampLogScale(high));
    clampLogScale(low);
    expectClose(high, Math.log(100), { rtol: 1e-6 });
    expectClose(low, 1);
    clampLogScale(low, { max: 0.5 });
    expectClose(low, 0.5);
    tf.dispose([high, low]);
  });

  it('reject bad input with messages naming the function and argument', () => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const b = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => ntXentLoss(a, b)).toThrow('ntXentLoss: z2 must have shape [N, D] matching z1 [4, 3], got [4, 2]');
    expect(() => ntXentLoss(tf.zeros([4]) as never, a)).toThrow(
      'ntXentLoss: z1 must be a rank-2 tensor [N, D], got rank 1 with shape [4]',
    );
    expect(() => ntXentLoss(tf.zeros([0, 3]) as tf.Tensor2D, tf.zeros([0, 3]) as tf.Tensor2D)).toThrow(
      'ntXentLoss: z1 must have N ≥ 2 on axis 0 (NT-Xent contrasts each pair with the other 2N − 2 embeddings: one pair has no negatives), got N = 0 in shape [0, 3]',
    );
    expect(() => ntXentLoss(a, a, { temperature: 0 })).toThrow(
      'ntXentLoss: options.temperature must be a finite number > 0, got 0',
    );
    expect(() => ntXentLoss(a, a, { temperature: NaN })).toThrow('options.temperature must be a finite number > 0, got NaN');
    expect(() => ntXentLoss(a, a, { temprature: 0.1 } as never)).toThrow(
      'ntXentLoss: options.temprature must be one of the known options (temperature), got an unknown option',
    );
    expect(() => ntXentLoss(tf.zeros([2, 2], 'int32') as tf.Tensor2D, a)).toThrow('ntXentLoss: z1 must have dtype float32, got int32');
    expect(() => infoNCELoss(a, a, tf.zeros([5, 2]) as tf.Tensor2D)).toThrow(
      'infoNCELoss: negatives must have shape [K, D] or [N, K, D] with K ≥ 1, N = 4 and D = 3 from query [4, 3], got [5, 2]',
    );
    expect(() => infoNCELoss(a, a, tf.zeros([3, 5, 3]) as tf.Tensor3D)).toThrow('infoNCELoss: negatives must have shape');
    expect(() => infoNCELoss(a, a, tf.zeros([3]) as never)).toThrow(
      'infoNCELoss: negatives must be a tensor of rank 2 or 3 [K, D] or [N, K, D], got rank 1 with shape [3]',
    );
    expect(() => infoNCELoss(a, b)).toThrow('infoNCELoss: positiveKey must have shape [N, D] matching query [4, 3], got [4, 2]');
    expect(() => infoNCELoss(a, a, undefined, { temperature: -1 })).toThrow(
      'infoNCELoss: options.temperature must be a finite number > 0, got -1',
    );
    expect(() => clipLoss(a, a, { logScale: tf.ones([1]) as never })).toThrow(
      'clipLoss: options.logScale must be a rank-0 tensor (a scalar), got rank 1 with shape [1]',
    );
    expect(() => clipLoss(a, a, { logScale: Infinity })).toThrow('clipLoss: options.logScale must be a finite number, got Infinity');
    expect(() => clipLoss(a, b)).toThrow('clipLoss: textEmbeddings must have shape [N, D] matching imageEmbeddings [4, 3], got [4, 2]');
    expect(() => clampLogScale(tf.scalar(1) as never)).toThrow('clampLogScale: variable must be a tf.Variable, got a float32 tensor of shape []');
    tf.dispose([a, b]);
  });
});

it('contrastive losses agree on cpu and wasm', async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const a = randn2d(9, 7, 31);
      const b = randn2d(9, 7, 32);
      const queue = randn2d(11, 7, 33);
      const f = (x: tf.Tensor, y: tf.Tensor) =>
        tf.addN([
          ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.1 }),
          infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, queue),
          clipLoss(x as tf.Tensor2D, y as tf.Tensor2D),
        ]) as tf.Scalar;
      return [f(a, b).dataSync()[0]!, ...tf.grads(f)([a, b]).map((g) => Array.from(g.dataSync()))];
    }),
  );
  expectClose(results.wasm[0] as number, results.cpu[0] as number, { rtol: 1e-5 });
  expectClose(results.wasm[1] as number[], results.cpu[1] as number[], { rtol: 1e-4, atol: 1e-6 });
  expectClose(results.wasm[2] as number[], results.cpu[2] as number[], { rtol: 1e-4, atol: 1e-6 });
});
