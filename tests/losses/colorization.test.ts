import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { colorizationBins, colorizationLoss, estimateAbPrior } from '../../src/losses/index.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randu, valueOf } from './inputs.js';

const fixture = loadFixture<{
  bins: number[][];
  prior: { abImages: number[][][][]; sigma: number; prior: number[] }[];
}>('losses-colorization');

describeBackends('colorization', () => {
  it("colorizationBins() are Zhang et al.'s 313 in-gamut bins, in their order", () => {
    const bins = expectNoLeak(() => colorizationBins());
    expect(bins.shape).toEqual([313, 2]);
    expect(bins.arraySync()).toEqual(fixture.bins);
    const keys = new Set(fixture.bins.map(([a, b]) => `${a},${b}`));
    expect(keys.size).toBe(313);
    expect(fixture.bins.flat().every((v) => v % 10 === 0)).toBe(true);
    bins.dispose();
  });

  it('estimateAbPrior matches the reference histogram and its Gaussian smoothing', () => {
    const bins = colorizationBins();
    for (const c of fixture.prior) {
      const ab = tf.tensor4d(c.abImages);
      const prior = expectNoLeak(() => estimateAbPrior(ab, bins, { sigma: c.sigma }));
      expectClose(prior, c.prior, { rtol: 1e-5, atol: 1e-7, label: `sigma ${c.sigma}` });
      expectClose(tf.sum(prior), 1, { rtol: 1e-5 });
      tf.dispose([ab, prior]);
    }
    bins.dispose();
  });

  it('estimateAbPrior counts exactly over several chunks of pixels', () => {
    const bins = colorizationBins();
    // 17,000 pixels (more than one chunk) placed on bin centres: bin i gets i % 7 + 1 shares.
    const table = bins.arraySync();
    const values: number[] = [];
    const expected = new Array(313).fill(0);
    for (let p = 0; values.length < 17000 * 2; p++) {
      const bin = (p * 37) % 313;
      values.push(...table[bin]!);
      expected[bin] += 1;
    }
    const ab = tf.tensor4d(values, [1, 100, 170, 2]);
    const prior = estimateAbPrior(ab, bins, { sigma: 0 });
    expectClose(prior, expected.map((c) => c / 17000), { rtol: 1e-6, atol: 1e-9 });
    tf.dispose([bins, ab, prior]);
  });

  it('colorizationLoss: ln Q for uniform logits, the pixel weight with a prior, one-hot targets on bin centres', () => {
    const bins = colorizationBins();
    const ab = randu([1, 2, 3, 2], 1, -40, 40) as tf.Tensor4D;
    const uniform = tf.zeros([1, 2, 3, 313]) as tf.Tensor4D;
    expectClose(valueOf(colorizationLoss(uniform, ab)), Math.log(313), { rtol: 1e-6 });
    // With a prior, uniform logits give ln Q times the mean pixel weight; λ = 1 disables rebalancing.
    const prior = tf.div(tf.add(randu([313], 2), 0.01), 313) as tf.Tensor1D;
    expectClose(valueOf(colorizationLoss(uniform, ab, { bins, priorProbabilities: prior, lambda: 1 })), Math.log(313), {
      rtol: 1e-6,
    });
    // A target on bin 5's centre with one neighbour is a one-hot target: plain cross-entropy.
    const logits = randn([1, 1, 1, 313], 3) as tf.Tensor4D;
    const centre = tf.tensor4d(bins.arraySync()[5]!, [1, 1, 1, 2]);
    const ce = -tf.tidy(() => tf.logSoftmax(tf.reshape(logits, [1, 313])).dataSync()[5]!);
    expectClose(valueOf(colorizationLoss(logits, centre, { neighbours: 1 })), ce, { rtol: 1e-5 });
    tf.dispose([bins, ab, uniform, prior, logits, centre]);
  });

  it('colorizationLoss sends gradients to the logits only, matching finite differences, and leaks nothing', () => {
    const bins = tf.tensor2d([[-10, -10], [-10, 0], [0, -10], [0, 0], [10, 0], [0, 10], [10, 10]]);
    const prior = tf.tensor1d([0.3, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1]);
    const logits = randn([1, 2, 2, 7], 4) as tf.Tensor4D;
    const ab = randu([1, 2, 2, 2], 5, -8, 8) as tf.Tensor4D;
    const options = { bins, priorProbabilities: prior, neighbours: 3 };
    const grads = tf.grads((l: tf.Tensor, a: tf.Tensor) => colorizationLoss(l as tf.Tensor4D, a as tf.Tensor4D, options))([logits, ab]);
    expectClose(grads[1]!, tf.zeros([1, 2, 2, 2]));
    checkGradients((l) => colorizationLoss(l as tf.Tensor4D, ab, options), [logits]);
    tf.dispose(expectNoLeak(() => colorizationLoss(logits, ab, options)));
    tf.dispose(expectNoLeak(() => tf.grads((l: tf.Tensor) => colorizationLoss(l as tf.Tensor4D, ab, options))([logits])));
    const huge = tf.mul(logits, 1e4) as tf.Tensor4D;
    expectFinite(valueOf(colorizationLoss(huge, ab, options)));
    expectFinite(tf.grad((l: tf.Tensor) => colorizationLoss(l as tf.Tensor4D, ab, options))(huge));
    tf.dispose([bins, prior, logits, ab, huge, ...grads]);
  });

  it('rejects bad input', () => {
    const logits = tf.zeros([1, 2, 2, 7]) as tf.Tensor4D;
    const ab = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
    const bins = tf.zeros([7, 2]) as tf.Tensor2D;
    expect(() => colorizationLoss(logits, ab)).toThrow(
      'colorizationLoss: logits must have Q = 313 channels (the default colorizationBins()), or pass options.bins with Q rows, got [1, 2, 2, 7]',
    );
    expect(() => colorizationLoss(logits, ab, { bins: tf.zeros([6, 2]) as tf.Tensor2D })).toThrow(
      'colorizationLoss: options.bins must have Q = 7 rows, the last axis of logits, got [6, 2]',
    );
    expect(() => colorizationLoss(logits, tf.zeros([1, 2, 3, 2]) as tf.Tensor4D, { bins })).toThrow(
      'colorizationLoss: abTargets must have shape [B, H, W, 2] = [1, 2, 2, 2], got [1, 2, 3, 2]',
    );
    expect(() => colorizationLoss(logits, ab, { bins, priorProbabilities: tf.ones([6]) as tf.Tensor1D })).toThrow(
      'colorizationLoss: options.priorProbabilities must have shape [Q] = [7], got [6]',
    );
    expect(() => colorizationLoss(logits, ab, { bins, lambda: 0 })).toThrow('colorizationLoss: options.lambda must be a number in (0, 1], got 0');
    expect(() => colorizationLoss(logits, ab, { bins, neighbours: 8 })).toThrow(
      'colorizationLoss: options.neighbours must be an integer in [1, 7], got 8',
    );
    expect(() => colorizationLoss(logits, ab, { bins, sigma: 0 })).toThrow('colorizationLoss: options.sigma must be a finite number > 0, got 0');
    expect(() => estimateAbPrior(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, bins)).toThrow(
      'estimateAbPrior: abImages must have shape [B, H, W, 2] (Lab a, b channels) = [?, ?, ?, 2], got [1, 2, 2, 3]',
    );
    expect(() => estimateAbPrior(ab, tf.zeros([7, 3]) as tf.Tensor2D)).toThrow(
      'estimateAbPrior: bins must have shape [Q, 2] = [?, 2], got [7, 3]',
    );
    expect(() => estimateAbPrior(ab, bins, { sigma: -1 })).toThrow('estimateAbPrior: options.sigma must be a finite number ≥ 0, got -1');
    tf.dispose([logits, ab, bins]);
  });
});
