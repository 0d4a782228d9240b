import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  barlowTwinsLoss,
  byolLoss,
  negativeCosineSimilarity,
  simSiamLoss,
  vicregLoss,
  vicregTerms,
} from '../../src/losses/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d, valueOf } from './inputs.js';

type Pair = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar;

const PAIR_LOSSES: Record<string, Pair> = {
  negativeCosine: (a, b) => negativeCosineSimilarity(a, b, { stopGradient: false }),
  simSiam: (a, b) => simSiamLoss(a, b, b, a),
  byol: (a, b) => byolLoss(a, b, b, a),
  barlowBatchnorm: (a, b) => barlowTwinsLoss(a, b),
  barlowUnbiased: (a, b) => barlowTwinsLoss(a, b, { standardize: 'unbiased' }),
  vicreg: (a, b) => vicregLoss(a, b),
};

describeBackends('siamese and redundancy-reduction losses', () => {
  it('negative cosine, SimSiam and BYOL take their documented values', () => {
    const a = tf.tensor2d([[1, 2], [-3, 1]]);
    const opposite = tf.neg(a) as tf.Tensor2D;
    const orthogonal = tf.tensor2d([[-2, 1], [1, 3]]);
    const scaled = tf.mul(a, 3) as tf.Tensor2D;
    expectClose(valueOf(negativeCosineSimilarity(a, scaled)), -1, { rtol: 1e-6 });
    expectClose(valueOf(negativeCosineSimilarity(a, opposite)), 1, { rtol: 1e-6 });
    expectClose(valueOf(negativeCosineSimilarity(a, orthogonal)), 0, { atol: 1e-7 });
    expectClose(valueOf(simSiamLoss(a, a, scaled, scaled)), -1, { rtol: 1e-6 });
    expectClose(valueOf(byolLoss(a, a, scaled, scaled)), 0, { atol: 1e-6 });
    expectClose(valueOf(byolLoss(a, a, orthogonal, orthogonal)), 4, { rtol: 1e-6 });
    expectClose(valueOf(byolLoss(a, a, opposite, opposite)), 8, { rtol: 1e-6 });
    tf.dispose([a, opposite, orthogonal, scaled]);
  });

  it('stop the gradient of the target branch', () => {
    const [p1, p2, z1, z2] = [1, 2, 3, 4].map((s) => randn2d(3, 4, s));
    const gNeg = tf.grads((p: tf.Tensor, z: tf.Tensor) => negativeCosineSimilarity(p as tf.Tensor2D, z as tf.Tensor2D))([p1!, z1!]);
    expectClose(gNeg[1]!, tf.zeros([3, 4]));
    const gFree = tf.grads((p: tf.Tensor, z: tf.Tensor) =>
      negativeCosineSimilarity(p as tf.Tensor2D, z as tf.Tensor2D, { stopGradient: false }),
    )([p1!, z1!]);
    expect(tf.max(tf.abs(gFree[1]!)).dataSync()[0]).toBeGreaterThan(1e-3);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      simSiamLoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor2D);
    const gSimSiam = tf.grads(f)([p1!, p2!, z1!, z2!]);
    const gByol = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      byolLoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor2D),
    )([p1!, p2!, z1!, z2!]);
    for (const g of [gSimSiam, gByol]) {
      expectClose(g[2]!, tf.zeros([3, 4]));
      expectClose(g[3]!, tf.zeros([3, 4]));
    }
    tf.dispose([p1, p2, z1, z2, ...gNeg, ...gFree, ...gSimSiam, ...gByol]);
  });

  it('Barlow Twins is 0 at C = I and D at collapse, for both standardisations', () => {
    // Standardised, perfectly decorrelated features, identical in both views.
    const z = tf.tensor2d([[1, 1], [-1, 1], [1, -1], [-1, -1]]);
    expectClose(valueOf(barlowTwinsLoss(z, z)), 0, { atol: 1e-8 });
    const collapsed = tf.fill([6, 5], 3) as tf.Tensor2D;
    expectClose(valueOf(barlowTwinsLoss(collapsed, collapsed)), 5, { rtol: 1e-6 });
    expectClose(valueOf(barlowTwinsLoss(collapsed, collapsed, { standardize: 'unbiased' })), 5, { rtol: 1e-6 });
    // With the unbiased std, a feature's own correlation is C_ii = (N − 1)/N, not 1.
    const c = 3 / 4;
    expectClose(valueOf(barlowTwinsLoss(z, z, { standardize: 'unbiased', lambda: 0 })), 2 * (1 - c) ** 2, { rtol: 1e-5 });
    tf.dispose([z, collapsed]);
  });

  it('VICReg: the three terms, their weighting, and the collapse value 25·0.99', () => {
    const a = randn2d(6, 4, 5);
    const b = randn2d(6, 4, 6);
    const terms = vicregTerms(a, b);
    const weighted = 2 * terms.invariance.dataSync()[0]! + 3 * terms.variance.dataSync()[0]! + 0.5 * terms.covariance.dataSync()[0]!;
    expectClose(valueOf(vicregLoss(a, b, { simWeight: 2, varWeight: 3, covWeight: 0.5 })), weighted, { rtol: 1e-6 });
    const collapsed = tf.fill([5, 3], -2) as tf.Tensor2D;
    expectClose(valueOf(vicregLoss(collapsed, collapsed)), 25 * 0.99, { rtol: 1e-6 });
    tf.dispose([a, b, collapsed, terms.invariance, terms.variance, terms.covariance]);
  });

  it('are symmetric in the two views', () => {
    const a = randn2d(7, 5, 7);
    const b = randn2d(7, 5, 8);
    for (const [name, loss] of Object.entries(PAIR_LOSSES)) {
      expectClose(valueOf(loss(a, b)), valueOf(loss(b, a)), { rtol: 1e-5, atol: 1e-6, label: name });
    }
    tf.dispose([a, b]);
  });

  it('stay finite with finite gradients for zero vectors, norms of 1e4 and near-identical views', () => {
    const base = randn2d(8, 6, 9);
    const inputs: [string, tf.Tensor2D, tf.Tensor2D][] = [
      ['zero vectors', tf.zeros([8, 6]) as tf.Tensor2D, tf.zeros([8, 6]) as tf.Tensor2D],
      ['norms 1e4', tf.mul(base, 1e4) as tf.Tensor2D, tf.mul(randn2d(8, 6, 10), 1e4) as tf.Tensor2D],
      ['near-identical', base, tf.add(base, randn([8, 6], 11, 1e-6)) as tf.Tensor2D],
    ];
    for (const [label, a, b] of inputs) {
      for (const [name, loss] of Object.entries(PAIR_LOSSES)) {
        const value = loss(a, b);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b]);
        expectFinite(value, `${name} (${label})`);
        grads.forEach((g, i) => expectFinite(g, `${name} (${label}) gradient ${i}`));
        tf.dispose([value, ...grads]);
      }
    }
    tf.dispose(inputs.flatMap(([, a, b]) => [a, b]));
  });

  it('have the analytic gradients of finite differences', () => {
    const a = randn2d(5, 3, 12);
    const b = tf.add(tf.mul(a, 0.5), randn2d(5, 3, 13)) as tf.Tensor2D;
    for (const [name, loss] of Object.entries(PAIR_LOSSES)) {
      // VICReg's hinge terms at its defaults need a smaller step to stay on one side of the kink.
      checkGradients((x, y) => loss(x as tf.Tensor2D, y as tf.Tensor2D), [a, b], name === 'vicreg' ? { step: 2e-3, rtol: 3e-2, atol: 3e-2 } : {});
    }
    checkGradients((x, y) => barlowTwinsLoss(x as tf.Tensor2D, y as tf.Tensor2D, { lambda: 0.3 }), [a, b]);
    tf.dispose([a, b]);
  });

  it('leave nothing alive but their outputs, forward and backward', () => {
    const a = randn2d(5, 4, 14);
    const b = randn2d(5, 4, 15);
    for (const loss of Object.values(PAIR_LOSSES)) {
      tf.dispose(expectNoLeak(() => loss(a, b)));
      tf.dispose(expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b])));
    }
    tf.dispose(expectNoLeak(() => vicregTerms(a, b)) as unknown as tf.Tensor[]);
    tf.dispose([a, b]);
  });

  it('reject bad input with messages naming the function and argument', () => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => negativeCosineSimilarity(a, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(
      'negativeCosineSimilarity: z must have shape [N, D] matching p [4, 3], got [4, 2]',
    );
    expect(() => negativeCosineSimilarity(a, a, { stopGradient: 'yes' as never })).toThrow(
      'negativeCosineSimilarity: options.stopGradient must be one of true, false, got "yes"',
    );
    expect(() => simSiamLoss(a, a, a, tf.zeros([3, 3]) as tf.Tensor2D)).toThrow(
      'simSiamLoss: z2 must have shape [N, D] matching p1 [4, 3], got [3, 3]',
    );
    expect(() => byolLoss(a, a, tf.zeros([4, 3, 1]) as never, a)).toThrow('byolLoss: t1 must have shape [N, D] matching p1 [4, 3], got [4, 3, 1]');
    expect(() => barlowTwinsLoss(one, one)).toThrow(
      'barlowTwinsLoss: z1 must have N ≥ 2 on axis 0 (a batch statistic needs two samples), got N = 1 in shape [1, 3]',
    );
    expect(() => barlowTwinsLoss(a, a, { standardize: 'batch' as never })).toThrow(
      "barlowTwinsLoss: options.standardize must be one of 'batchnorm', 'unbiased', got \"batch\"",
    );
    expect(() => barlowTwinsLoss(a, a, { lambda: -1 })).toThrow('barlowTwinsLoss: options.lambda must be a finite number ≥ 0, got -1');
    expect(() => barlowTwinsLoss(a, a, { lambda: NaN })).toThrow('barlowTwinsLoss: options.lambda must be a finite number ≥ 0, got NaN');
    expect(() => vicregLoss(one, one)).toThrow('vicregLoss: z1 must have N ≥ 2 on axis 0');
    expect(() => vicregLoss(a, a, { eps: 0 })).toThrow('vicregLoss: options.eps must be a finite number > 0, got 0');
    expect(() => vicregLoss(a, a, { simWeight: Infinity })).toThrow('vicregLoss: options.simWeight must be a finite number ≥ 0, got Infinity');
    expect(() => vicregLoss(a, a, { covweight: 1 } as never)).toThrow('vicregLoss: options.covweight must be one of the known options');
    expect(() => vicregTerms(a, a, { simWeight: 1 } as never)).toThrow('vicregTerms: options.simWeight must be one of the known options (eps)');
    tf.dispose([a, one]);
  });
});

it('siamese losses agree on cpu and wasm', async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const a = randn2d(9, 6, 41);
      const b = randn2d(9, 6, 42);
      return Object.values(PAIR_LOSSES).map((loss) => [
        loss(a, b).dataSync()[0]!,
        ...tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b]).flatMap((g) => Array.from(g.dataSync())),
      ]);
    }),
  );
  results.cpu.forEach((cpu, i) => expectClose(results.wasm[i]!, cpu, { rtol: 1e-4, atol: 1e-6 }));
});
