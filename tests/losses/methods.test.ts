/**
 * DCL / DCLW, MMCR, TiCo, FastSiam and SimMIM: closed forms, symmetry,
 * finite-difference gradients, stability at τ = 0.01 and for zero vectors,
 * no leaks, and messages for bad input. (Their agreement with lightly's and
 * the authors' code is in methods-reference.test.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  dclLoss,
  dclwLoss,
  fastSiamLoss,
  mmcrLoss,
  simMIMLoss,
  simSiamLoss,
  ticoLoss,
  updateTicoCovariance,
} from '../../src/losses/index.js';
import { describeBackends } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d, randu, valueOf } from './inputs.js';

type Pair = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar;

const PAIRS: Record<string, Pair> = {
  dcl: (a, b) => dclLoss(a, b, { temperature: 0.5 }),
  dclw: (a, b) => dclwLoss(a, b, { temperature: 0.5, sigma: 0.5 }),
  // A fixed covariance (the method's C carries no gradient; a finite difference would move it with zA).
  tico: (a, b) => tf.tidy(() => ticoLoss(a, b, tf.add(tf.eye(a.shape[1]), 0.1) as tf.Tensor2D)),
  mmcr: (a, b) => tf.tidy(() => mmcrLoss(tf.stack([a, b], 1) as tf.Tensor3D, { lambda: 0.1 })),
  fastSiam: (a, b) => tf.tidy(() => fastSiamLoss(tf.stack([a, b]) as tf.Tensor3D, tf.stack([b, a]) as tf.Tensor3D)),
};

describeBackends('DCL, MMCR, TiCo, FastSiam, SimMIM', () => {
  it('DCL and DCLW equal log(2N − 2) at collapse, for any τ', () => {
    for (const n of [2, 5, 16]) {
      const same = tf.fill([n, 4], 0.3) as tf.Tensor2D;
      for (const temperature of [1, 0.1, 0.01]) {
        expectClose(valueOf(dclLoss(same, same, { temperature })), Math.log(2 * n - 2), { rtol: 1e-5, label: `dcl N=${n} τ=${temperature}` });
        expectClose(valueOf(dclwLoss(same, same, { temperature })), Math.log(2 * n - 2), { rtol: 1e-5, label: `dclw N=${n} τ=${temperature}` });
      }
      same.dispose();
    }
  });

  it('DCL is NT-Xent without the positive in the denominator; DCLW weights average 1', () => {
    // Two orthogonal images whose views coincide: every negative logit is 0, the positive 1/τ.
    const z = tf.tensor2d([[1, 0], [0, 1]]);
    for (const temperature of [1, 0.5, 0.1]) {
      expectClose(valueOf(dclLoss(z, z, { temperature })), Math.log(2) - 1 / temperature, { rtol: 1e-5 });
      // Equal positive similarities: every weight is exactly 1.
      expectClose(valueOf(dclwLoss(z, z, { temperature })), Math.log(2) - 1 / temperature, { rtol: 1e-5 });
    }
    z.dispose();
  });

  it('MMCR: −B + λ√K for orthonormal centroids, −√B + λ√K at collapse', () => {
    const e = tf.eye(5);
    for (const k of [1, 2, 4]) {
      const views = tf.stack(Array.from({ length: k }, () => tf.mul(e, 3)), 1) as tf.Tensor3D; // norms are normalised away
      expectClose(valueOf(mmcrLoss(views)), -5, { rtol: 1e-5, label: `K=${k} λ=0 (the default)` });
      expectClose(valueOf(mmcrLoss(views, { lambda: 0.2 })), -5 + 0.2 * Math.sqrt(k), { rtol: 1e-5, label: `K=${k} λ=0.2` });
      const collapsed = tf.fill([6, k, 3], 2) as tf.Tensor3D;
      expectClose(valueOf(mmcrLoss(collapsed, { lambda: 0.2 })), -Math.sqrt(6) + 0.2 * Math.sqrt(k), { rtol: 1e-5, label: `collapse K=${k}` });
      tf.dispose([views, collapsed]);
    }
    e.dispose();
  });

  it('TiCo: 1 − cos with a zero covariance; the covariance is β-averaged and carries no gradient', () => {
    const a = tf.tensor2d([[3, 4], [1, 0]]);
    const b = tf.tensor2d([[4, 3], [0, 2]]);
    const zero = tf.zeros([2, 2]) as tf.Tensor2D;
    expectClose(valueOf(ticoLoss(a, b, zero)), 1 - (24 / 25 + 0) / 2, { rtol: 1e-6 });
    const c = updateTicoCovariance(zero, a, { beta: 0.5 });
    // aᵀa/N of the normalised rows [0.6, 0.8], [1, 0], halved.
    expectClose(c, [[0.5 * (0.36 + 1) / 2, 0.5 * 0.48 / 2], [0.5 * 0.48 / 2, 0.5 * 0.64 / 2]], { rtol: 1e-5 });
    const g = tf.grads((x: tf.Tensor, cov: tf.Tensor) => tf.add(ticoLoss(a, b, cov as tf.Tensor2D, { rho: 8 }), tf.mul(0, tf.sum(x))) as tf.Scalar)([a, c]);
    expectClose(g[1]!, tf.zeros([2, 2]), { atol: 0 });
    tf.dispose([a, b, zero, c, ...g]);
  });

  it('FastSiam with two views is the symmetrised SimSiam loss; targets get no gradient', () => {
    const [p1, p2, z1, z2] = [1, 2, 3, 4].map((s) => randn2d(6, 5, s));
    const two = fastSiamLoss(tf.stack([p1!, p2!]) as tf.Tensor3D, tf.stack([z1!, z2!]) as tf.Tensor3D);
    // View 1 predicts view 2's projection and vice versa.
    expectClose(two, simSiamLoss(p1!, p2!, z1!, z2!), { rtol: 1e-5 });
    const p = randn([4, 3, 5], 5);
    const z = randn([4, 3, 5], 6);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => fastSiamLoss(a as tf.Tensor3D, b as tf.Tensor3D))([p, z]);
    expectClose(g[1]!, tf.zeros([4, 3, 5]), { atol: 0 });
    // Perfect agreement with the mean of the other views: −1.
    const aligned = tf.tile(randn([1, 3, 5], 7), [4, 1, 1]) as tf.Tensor3D;
    expectClose(valueOf(fastSiamLoss(aligned, aligned)), -1, { rtol: 1e-6 });
    tf.dispose([p1, p2, z1, z2, two, p, z, ...g, aligned]);
  });

  it('SimMIM: the mean L1 error over masked pixels and channels; 0 for an empty mask', () => {
    const images = randu([2, 4, 4, 3], 1) as tf.Tensor4D;
    const prediction = tf.add(images, 0.25) as tf.Tensor4D;
    const mask = tf.concat([tf.ones([2, 2, 4, 1]), tf.zeros([2, 2, 4, 1])], 1) as tf.Tensor4D;
    // |error| = 0.25 everywhere, 16 masked pixels × 3 channels.
    expectClose(valueOf(simMIMLoss(prediction, images, mask)), (0.25 * 16 * 3) / (16 + 1e-5) / 3, { rtol: 1e-6 });
    expect(valueOf(simMIMLoss(prediction, images, tf.zeros([2, 4, 4, 1]) as tf.Tensor4D))).toBe(0);
    // Unmasked pixels do not matter.
    const changed = tf.where(tf.cast(mask, 'bool'), prediction, tf.zerosLike(prediction)) as tf.Tensor4D;
    expectClose(valueOf(simMIMLoss(changed, images, mask)), valueOf(simMIMLoss(prediction, images, mask)), { rtol: 1e-6 });
    tf.dispose([images, prediction, mask, changed]);
  });

  it('DCL and DCLW are symmetric in the two views', () => {
    const a = randn2d(7, 5, 7);
    const b = randn2d(7, 5, 8);
    for (const name of ['dcl', 'dclw']) {
      expectClose(valueOf(PAIRS[name]!(a, b)), valueOf(PAIRS[name]!(b, a)), { rtol: 1e-5, label: name });
    }
    tf.dispose([a, b]);
  });

  it('have the analytic gradients of finite differences', () => {
    const a = randn2d(5, 4, 12);
    const b = tf.add(tf.mul(a, 0.5), randn2d(5, 4, 13)) as tf.Tensor2D;
    // DCLW's weights and FastSiam's targets carry no gradient by design (checked below), so a
    // finite difference, which moves them, only applies to the other losses and to FastSiam's predictions.
    for (const name of ['dcl', 'tico', 'mmcr']) {
      checkGradients((x, y) => PAIRS[name]!(x as tf.Tensor2D, y as tf.Tensor2D), [a, b], { step: 1e-2 });
    }
    const targets = randn([3, 5, 4], 17) as tf.Tensor3D;
    checkGradients((p) => fastSiamLoss(p as tf.Tensor3D, targets), [randn([3, 5, 4], 18)], { step: 1e-2 });
    const images = randu([2, 4, 4, 1], 14);
    const prediction = tf.add(images, randn([2, 4, 4, 1], 15, 0.3));
    const mask = tf.concat([tf.ones([2, 4, 2, 1]), tf.zeros([2, 4, 2, 1])], 2);
    checkGradients((p) => simMIMLoss(p as tf.Tensor4D, images as tf.Tensor4D, mask as tf.Tensor4D), [prediction], { step: 1e-3 });
    checkGradients((p) => mmcrLoss(p as tf.Tensor3D, { lambda: 0.3 }), [randn([4, 3, 5], 16)], { step: 1e-2 });
    tf.dispose([a, b, images, prediction, mask, targets]);
  });

  it('DCLW: its gradient is DCL’s with the positive term scaled by the (frozen) weights', () => {
    // Equal positive similarities make every weight 1 exactly: DCLW's gradient is DCL's.
    const a = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const b = tf.tensor2d([[0.8, 0.6, 0], [0, 0.8, 0.6], [0.6, 0, 0.8]]);
    const gw = tf.grads((x: tf.Tensor, y: tf.Tensor) => dclwLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.3 }))([a, b]);
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => dclLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.3 }))([a, b]);
    expectClose(gw[0]!, g[0]!, { rtol: 1e-5, atol: 1e-6 });
    expectClose(gw[1]!, g[1]!, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([a, b, ...gw, ...g]);
  });

  it('stay finite with finite gradients at τ = 0.01, for zero vectors, norms of 1e4 and near-identical views', () => {
    const base = randn2d(8, 6, 9);
    const inputs: [string, tf.Tensor2D, tf.Tensor2D][] = [
      ['zero vectors', tf.zeros([8, 6]) as tf.Tensor2D, tf.zeros([8, 6]) as tf.Tensor2D],
      ['norms 1e4', tf.mul(base, 1e4) as tf.Tensor2D, tf.mul(randn2d(8, 6, 10), 1e4) as tf.Tensor2D],
      ['near-identical', base, tf.add(base, randn([8, 6], 11, 1e-6)) as tf.Tensor2D],
    ];
    const cold: Record<string, Pair> = {
      ...PAIRS,
      'dcl τ=0.01': (a, b) => dclLoss(a, b, { temperature: 0.01 }),
      'dclw τ=0.01': (a, b) => dclwLoss(a, b, { temperature: 0.01, sigma: 0.01 }),
    };
    for (const [label, a, b] of inputs) {
      for (const [name, loss] of Object.entries(cold)) {
        const value = loss(a, b);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b]);
        expectFinite(value, `${name} (${label})`);
        grads.forEach((g, i) => expectFinite(g, `${name} (${label}) gradient ${i}`));
        tf.dispose([value, ...grads]);
      }
    }
    tf.dispose(inputs.flatMap(([, a, b]) => [a, b]));
  });

  it('leave nothing alive but their outputs, forward and backward', () => {
    const a = randn2d(5, 4, 14);
    const b = randn2d(5, 4, 15);
    for (const loss of Object.values(PAIRS)) {
      tf.dispose(expectNoLeak(() => loss(a, b)));
      tf.dispose(expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(x as tf.Tensor2D, y as tf.Tensor2D))([a, b])));
    }
    const images = randu([1, 4, 4, 1], 3) as tf.Tensor4D;
    const mask = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    tf.dispose(expectNoLeak(() => simMIMLoss(images, images, mask)));
    const zeros = tf.zeros([4, 4]) as tf.Tensor2D;
    tf.dispose(expectNoLeak(() => updateTicoCovariance(zeros, a)));
    tf.dispose([a, b, images, mask, zeros]);
  });

  it('reject bad input with messages naming the function and argument', () => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => dclLoss(one, one)).toThrow('dclLoss: z1 must have N ≥ 2 on axis 0 (every anchor needs at least one negative');
    expect(() => dclLoss(a, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow('dclLoss: z2 must have shape [N, D] matching z1 [4, 3], got [4, 2]');
    expect(() => dclLoss(a, a, { temperature: 0 })).toThrow('dclLoss: options.temperature must be');
    expect(() => dclwLoss(a, a, { sigma: -1 })).toThrow('dclwLoss: options.sigma must be');
    expect(() => dclwLoss(a, a, { tau: 1 } as never)).toThrow('dclwLoss: options.tau must be one of the known options');
    expect(() => mmcrLoss(a as never)).toThrow('mmcrLoss: views must be a rank-3 tensor [B, K, D]');
    expect(() => mmcrLoss(tf.zeros([2, 2, 2]) as tf.Tensor3D, { lambda: -1 })).toThrow('mmcrLoss: options.lambda must be');
    expect(() => mmcrLoss(tf.zeros([2, 2, 2]) as tf.Tensor3D, { normalize: 'yes' as never })).toThrow('mmcrLoss: options.normalize must be one of true, false');
    expect(() => ticoLoss(a, a, tf.zeros([2, 2]) as tf.Tensor2D)).toThrow('ticoLoss: covariance must have shape [D, D] = [3, 3], got [2, 2]');
    expect(() => updateTicoCovariance(tf.zeros([3, 3]) as tf.Tensor2D, one)).toThrow('updateTicoCovariance: zA must have N ≥ 2');
    expect(() => updateTicoCovariance(tf.zeros([3, 3]) as tf.Tensor2D, a, { beta: 2 })).toThrow('updateTicoCovariance: options.beta must be a number in [0, 1], got 2');
    expect(() => fastSiamLoss(tf.zeros([1, 2, 3]) as tf.Tensor3D, tf.zeros([1, 2, 3]) as tf.Tensor3D)).toThrow('fastSiamLoss: predictions must have V ≥ 2');
    expect(() => fastSiamLoss(tf.zeros([2, 2, 3]) as tf.Tensor3D, tf.zeros([2, 2, 4]) as tf.Tensor3D)).toThrow(
      'fastSiamLoss: projections must have shape [V, N, D] matching predictions [2, 2, 3], got [2, 2, 4]',
    );
    const img = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => simMIMLoss(img, img, tf.zeros([1, 4, 4, 3]) as tf.Tensor4D)).toThrow('simMIMLoss: mask must have shape [B, H, W, 1]');
    expect(() => simMIMLoss(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, img, img)).toThrow('simMIMLoss: prediction must have shape');
    tf.dispose([a, one, img]);
  });
});
