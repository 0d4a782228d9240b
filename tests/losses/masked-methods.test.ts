/**
 * The objectives of DINOv2 (iBOT, KoLeo, Sinkhorn–Knopp teacher), MSN / PMSN and
 * I-JEPA: closed forms, finite-difference gradients, stability at τ = 0.01
 * and for zero vectors, leaks and errors. Their reference values (the
 * authors' and lightly's code) are checked in reference.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { dinoLoss, ibotPatchLoss, ijepaLoss, koleoLoss, msnLoss, powerLawPrior } from '../../src/losses/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d, randu, valueOf } from './inputs.js';

/** The D + 1 vertices of a regular simplex in R^D, as unit rows (centred standard basis of R^(D+1), rotated into R^D by QR). */
function regularSimplex(d: number): tf.Tensor2D {
  const n = d + 1;
  return tf.tidy(() => {
    const centred = tf.sub(tf.eye(n), 1 / n); // rows span the sum-zero hyperplane of R^n
    const [q] = tf.linalg.qr(tf.transpose(centred)); // orthonormal basis of R^n, first d columns span the hyperplane
    const coords = tf.matMul(centred, tf.slice(q, [0, 0], [n, d]));
    return tf.div(coords, tf.norm(coords, 'euclidean', 1, true)) as tf.Tensor2D;
  });
}

describeBackends('koleoLoss', () => {
  it('closed forms: −log √2 for orthonormal rows, −log √(2 + 2/D) for a regular simplex, scale-free', () => {
    const eye = tf.eye(6) as tf.Tensor2D;
    expectClose(valueOf(koleoLoss(eye)), -0.5 * Math.log(2), { rtol: 1e-5 });
    const scaled = tf.mul(eye, 7.5) as tf.Tensor2D;
    expectClose(valueOf(koleoLoss(scaled)), -0.5 * Math.log(2), { rtol: 1e-5 });
    for (const d of [2, 3, 8]) {
      const simplex = regularSimplex(d);
      expectClose(valueOf(koleoLoss(simplex)), -0.5 * Math.log(2 + 2 / d), { rtol: 1e-4, atol: 1e-5 });
      simplex.dispose();
    }
    tf.dispose([eye, scaled]);
  });

  it('is finite for zero vectors and duplicates (gradient included), and matches finite differences', () => {
    const zeros = tf.zeros([4, 5]) as tf.Tensor2D;
    const value = valueOf(koleoLoss(zeros));
    expectClose(value, -Math.log(1e-8 * Math.sqrt(5) + 1e-8), { rtol: 1e-4 });
    const g = tf.grad((x: tf.Tensor) => koleoLoss(x as tf.Tensor2D))(zeros);
    expectFinite(g);
    const dup = tf.tensor2d([[1, 2, 3], [1, 2, 3], [0, 1, 0]]);
    expectFinite(valueOf(koleoLoss(dup)));
    const x = randn2d(7, 4, 3);
    checkGradients((v) => koleoLoss(v as tf.Tensor2D), [x], { step: 1e-3, rtol: 3e-2, atol: 3e-3 });
    tf.dispose([zeros, g, dup, x]);
  });

  it('leaks nothing and rejects bad input', () => {
    const x = randn2d(5, 3, 4);
    valueOf(expectNoLeak(() => koleoLoss(x)));
    expect(() => koleoLoss(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow('koleoLoss: x must have N ≥ 2');
    expect(() => koleoLoss(tf.zeros([3]) as never)).toThrow('koleoLoss: x must be a rank-2 tensor');
    expect(() => koleoLoss(x, { eps: 0 })).toThrow('koleoLoss: options.eps must be');
    expect(() => koleoLoss(x, { epsilon: 1 } as never)).toThrow('koleoLoss: options.epsilon must be one of the known options');
    x.dispose();
  });
});

describeBackends('ibotPatchLoss', () => {
  const masks = () => tf.tensor2d([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]); // 2 + 0 + 4 masked patches

  it('is (images with a masked patch / B)·ln K for uniform outputs; 0 when nothing is masked', () => {
    const m = masks();
    const s = tf.zeros([6, 8]) as tf.Tensor2D;
    const t = tf.fill([6, 8], 3) as tf.Tensor2D;
    const c = tf.zeros([1, 8]) as tf.Tensor2D;
    expectClose(valueOf(ibotPatchLoss(s, t, m, c)), (2 / 3) * Math.log(8), { rtol: 1e-5 });
    expectClose(valueOf(ibotPatchLoss(s, t, m, null, { centering: 'sinkhornKnopp' })), (2 / 3) * Math.log(8), { rtol: 1e-5 });
    const none = tf.zeros([2, 4]) as tf.Tensor2D;
    const empty = tf.zeros([0, 8]) as tf.Tensor2D;
    expect(valueOf(ibotPatchLoss(empty, empty, none, c))).toBe(0);
    const g = tf.grad((x: tf.Tensor) => ibotPatchLoss(x as tf.Tensor2D, empty, none, c))(empty);
    expect(g.shape).toEqual([0, 8]);
    tf.dispose([m, s, t, c, none, empty, g]);
  });

  it('weights each image by 1/(its masked patches): one image alone equals its mean cross-entropy', () => {
    const single = tf.tensor2d([[0, 1, 1, 0]]);
    const s = randn2d(2, 5, 1);
    const t = randn2d(2, 5, 2);
    const c = randn2d(1, 5, 3);
    const expected = tf.tidy(() => {
      const q = tf.softmax(tf.div(tf.sub(t, c), 0.04));
      return tf.mean(tf.neg(tf.sum(tf.mul(q, tf.logSoftmax(tf.div(s, 0.1))), 1)));
    });
    expectClose(valueOf(ibotPatchLoss(s, t, single, c)), valueOf(expected), { rtol: 1e-5 });
    tf.dispose([single, s, t, c]);
  });

  it('gradients go to the student only and match finite differences; finite at τ = 0.01 and huge logits', () => {
    const m = masks();
    const s = randn2d(6, 5, 4);
    const t = randn2d(6, 5, 5);
    const c = randn2d(1, 5, 6);
    const [gs, gt, gc] = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
      ibotPatchLoss(a as tf.Tensor2D, b as tf.Tensor2D, m, d as tf.Tensor2D),
    )([s, t, c]);
    expectClose(gt!, tf.zeros([6, 5]));
    expectClose(gc!, tf.zeros([1, 5]));
    checkGradients((a) => ibotPatchLoss(a as tf.Tensor2D, t, m, c, { studentTemperature: 0.5, teacherTemperature: 0.3 }), [s]);
    const big = tf.mul(s, 1e4) as tf.Tensor2D;
    const tiny = { studentTemperature: 0.01, teacherTemperature: 0.01 };
    expectFinite(valueOf(ibotPatchLoss(big, tf.mul(t, 1e4) as tf.Tensor2D, m, c, tiny)));
    const g = tf.grad((a: tf.Tensor) => ibotPatchLoss(a as tf.Tensor2D, t, m, null, { ...tiny, centering: 'sinkhornKnopp' }))(big);
    expectFinite(g);
    tf.dispose([m, s, t, c, gs!, gt!, gc!, big, g]);
  });

  it('leaks nothing and rejects bad input', () => {
    const m = masks();
    const s = randn2d(6, 5, 7);
    const c = tf.zeros([1, 5]) as tf.Tensor2D;
    valueOf(expectNoLeak(() => ibotPatchLoss(s, s, m, c)));
    expect(() => ibotPatchLoss(tf.zeros([5, 5]) as tf.Tensor2D, tf.zeros([5, 5]) as tf.Tensor2D, m, c)).toThrow(
      'ibotPatchLoss: studentOutput must have one row per masked patch: M = 6 ones in masks',
    );
    expect(() => ibotPatchLoss(s, tf.zeros([6, 4]) as tf.Tensor2D, m, c)).toThrow('ibotPatchLoss: teacherOutput must have the shape of studentOutput');
    expect(() => ibotPatchLoss(s, s, m, null)).toThrow("ibotPatchLoss: center must be a [1, K] tensor (it may be null only with centering: 'sinkhornKnopp')");
    expect(() => ibotPatchLoss(s, s, tf.fill([3, 4], 0.5) as tf.Tensor2D, c)).toThrow('ibotPatchLoss: masks must hold only 0 and 1');
    expect(() => ibotPatchLoss(s, s, m, c, { centering: 'sinkhorn' as never })).toThrow("ibotPatchLoss: options.centering must be one of 'center', 'sinkhornKnopp'");
    expect(() => ibotPatchLoss(s, s, m, c, { teacherTemperature: 0 })).toThrow('ibotPatchLoss: options.teacherTemperature must be');
    tf.dispose([m, s, c]);
  });
});

describeBackends('dinoLoss with Sinkhorn–Knopp teacher centring', () => {
  it('is ln K for uniform outputs, ignores the center, and sends no gradient to the teacher', () => {
    const student = tf.zeros([8, 6]) as tf.Tensor2D;
    const teacher = randu([4, 6], 1, -1, 1) as tf.Tensor2D;
    const uniformTeacher = tf.zeros([4, 6]) as tf.Tensor2D;
    expectClose(valueOf(dinoLoss(student, uniformTeacher, null, { centering: 'sinkhornKnopp' })), Math.log(6), { rtol: 1e-5 });
    const a = valueOf(dinoLoss(student, teacher, null, { centering: 'sinkhornKnopp' }));
    const c = tf.fill([1, 6], 5) as tf.Tensor2D;
    expectClose(valueOf(dinoLoss(student, teacher, c, { centering: 'sinkhornKnopp' })), a, { rtol: 1e-6 });
    const g = tf.grad((t: tf.Tensor) => dinoLoss(randn2d(8, 6, 9), t as tf.Tensor2D, null, { centering: 'sinkhornKnopp' }))(teacher);
    expectClose(g, tf.zeros([4, 6]));
    expect(() => dinoLoss(student, teacher, null)).toThrow('dinoLoss: center must be a [1, K] tensor');
    tf.dispose([student, teacher, uniformTeacher, c, g]);
  });

  it('matches finite differences in the student; finite at τ = 0.01, for zero vectors and logits of 1e4', () => {
    const student = randn2d(8, 5, 21);
    const teacher = randn2d(4, 5, 22);
    const sk = { centering: 'sinkhornKnopp' as const, studentTemperature: 0.5, teacherTemperature: 0.3 };
    checkGradients((s) => dinoLoss(s as tf.Tensor2D, teacher, null, sk), [student]);
    const cold = { centering: 'sinkhornKnopp' as const, studentTemperature: 0.01, teacherTemperature: 0.01 };
    const zeros = [tf.zeros([8, 5]) as tf.Tensor2D, tf.zeros([4, 5]) as tf.Tensor2D];
    const huge = [tf.mul(student, 1e4) as tf.Tensor2D, tf.mul(teacher, 1e4) as tf.Tensor2D];
    for (const [s, t] of [zeros, huge, [student, teacher]] as tf.Tensor2D[][]) {
      expectFinite(valueOf(dinoLoss(s!, t!, null, cold)));
      const g = tf.grad((x: tf.Tensor) => dinoLoss(x as tf.Tensor2D, t!, null, cold))(s!);
      expectFinite(g);
      g.dispose();
    }
    tf.dispose([student, teacher, ...zeros, ...huge]);
  });
});

describeBackends('msnLoss', () => {
  it('closed forms: uniform predictions give ln K + 0 (me-max) or ln K + KL(π ‖ uniform) (PMSN)', () => {
    const k = 6;
    const anchors = tf.zeros([4, 3]) as tf.Tensor2D; // zero rows → zero similarities → uniform predictions
    const targets = randn2d(4, 3, 1);
    const prototypes = randn2d(k, 3, 2);
    expectClose(valueOf(msnLoss(anchors, targets, prototypes)), Math.log(k), { rtol: 1e-5 });
    const prior = powerLawPrior(k, 0.25);
    const kl = prior.reduce((s, p) => s + p * Math.log(p * k), 0);
    expectClose(valueOf(msnLoss(anchors, targets, prototypes, { prior: 'powerLaw' })), Math.log(k) + kl, { rtol: 1e-5 });
    expectClose(Array.from(prior).reduce((a, b) => a + b, 0), 1, { rtol: 1e-6 });
    expect(prior[0]).toBeGreaterThan(prior[k - 1]!);
    tf.dispose([anchors, targets, prototypes]);
  });

  it('at collapse onto one prototype the cross-entropy → 0 and me-max → ln K', () => {
    const k = 5;
    const prototypes = tf.eye(k, 3) as tf.Tensor2D; // prototype 0 = e0
    const all = tf.tile(tf.tensor2d([[1, 0, 0]]), [4, 1]) as tf.Tensor2D;
    const opts = { temperature: 0.01, sinkhornIterations: 0 };
    const ce = valueOf(msnLoss(all, all, prototypes, { ...opts, regularizationWeight: 0 }));
    expect(ce).toBeLessThan(1e-6);
    expectClose(valueOf(msnLoss(all, all, prototypes, opts)), Math.log(k), { rtol: 1e-4 });
    tf.dispose([prototypes, all]);
  });

  it('gradients match finite differences (anchors); the targets get none', () => {
    // The prototypes' gradient flows through the anchors' predictions only (the targets' use of
    // them is under no_grad, as MSN's), so a finite difference in them is not its derivative;
    // the reference fixtures check it.
    const anchors = randn2d(8, 4, 3);
    const targets = randn2d(4, 4, 4);
    const prototypes = randn2d(5, 4, 5);
    const options = { temperature: 0.5, sharpenTemperature: 0.5 };
    checkGradients((a) => msnLoss(a as tf.Tensor2D, targets, prototypes, options), [anchors]);
    checkGradients((a) => msnLoss(a as tf.Tensor2D, targets, prototypes, { ...options, prior: 'powerLaw' }), [anchors]);
    const g = tf.grad((t: tf.Tensor) => msnLoss(anchors, t as tf.Tensor2D, prototypes))(targets);
    expectClose(g, tf.zeros([4, 4]));
    tf.dispose([anchors, targets, prototypes, g]);
  });

  it('is finite at τ = 0.01, with zero vectors, and for a prior with empty entries', () => {
    const anchors = tf.concat([randn2d(5, 4, 6), tf.zeros([1, 4])]) as tf.Tensor2D;
    const targets = tf.concat([randn2d(5, 4, 7), tf.zeros([1, 4])]) as tf.Tensor2D;
    const prototypes = tf.concat([randn2d(7, 4, 8), tf.zeros([1, 4])]) as tf.Tensor2D;
    for (const prior of ['uniform', 'powerLaw'] as const) {
      const f = (a: tf.Tensor, p: tf.Tensor) => msnLoss(a as tf.Tensor2D, targets, p as tf.Tensor2D, { temperature: 0.01, sharpenTemperature: 0.1, prior });
      expectFinite(valueOf(f(anchors, prototypes)));
      const grads = tf.grads(f)([anchors, prototypes]);
      grads.forEach((g) => expectFinite(g));
      tf.dispose(grads);
    }
    const sparse = tf.tensor1d([0.5, 0.5, 0, 0, 0, 0, 0, 0]);
    expectFinite(valueOf(msnLoss(anchors, targets, prototypes, { prior: sparse })));
    tf.dispose([anchors, targets, prototypes, sparse]);
  });

  it('leaks nothing and rejects bad input', () => {
    const anchors = randn2d(6, 4, 9);
    const targets = randn2d(3, 4, 10);
    const prototypes = randn2d(5, 4, 11);
    valueOf(expectNoLeak(() => msnLoss(anchors, targets, prototypes, { prior: 'powerLaw' })));
    expect(() => msnLoss(randn2d(5, 4, 1), targets, prototypes)).toThrow('msnLoss: anchors must have V·B rows (B = 3 targets, V ≥ 1 views)');
    expect(() => msnLoss(anchors, targets, randn2d(5, 3, 1))).toThrow('msnLoss: prototypes must have D = 4 columns like targets');
    expect(() => msnLoss(anchors, targets, prototypes, { prior: 'zipf' as never })).toThrow("msnLoss: options.prior must be 'uniform', 'powerLaw' or a float32 [K] tensor");
    expect(() => msnLoss(anchors, targets, prototypes, { prior: tf.tensor1d([0.5, 0.5]) })).toThrow('msnLoss: options.prior must have K = 5 entries');
    expect(() => msnLoss(anchors, targets, prototypes, { prior: tf.tensor1d([0.5, 0.5, 0.5, 0, 0]) })).toThrow('msnLoss: options.prior must sum to 1');
    expect(() => msnLoss(anchors, targets, prototypes, { sharpenTemperature: -1 })).toThrow('msnLoss: options.sharpenTemperature must be');
    tf.dispose([anchors, targets, prototypes]);
  });
});

describeBackends('ijepaLoss', () => {
  it('closed forms: 1 (l2) and 1/2 (smooth-L1) for zero predictions of ±1 targets; 0 when exact', () => {
    const targets = tf.mul(tf.sign(randn([3, 4, 8], 1)), 1) as tf.Tensor3D;
    const zeros = tf.zerosLike(targets);
    expectClose(valueOf(ijepaLoss(zeros, targets)), 1, { rtol: 1e-6 });
    expectClose(valueOf(ijepaLoss(zeros, targets, { distance: 'smoothL1' })), 0.5, { rtol: 1e-6 });
    expect(valueOf(ijepaLoss(targets, targets))).toBe(0);
    // Beyond β the smooth-L1 loss is linear: |d| − β/2.
    expectClose(valueOf(ijepaLoss(tf.fill([2, 2], 3), tf.zeros([2, 2]), { distance: 'smoothL1', beta: 1 })), 2.5, { rtol: 1e-6 });
    tf.dispose([targets, zeros]);
  });

  it('gradients match finite differences, reach only the predictions, and are finite at 1e4', () => {
    const p = randn([2, 3, 4], 2) as tf.Tensor3D;
    const t = randn([2, 3, 4], 3, 2) as tf.Tensor3D;
    for (const distance of ['l2', 'smoothL1'] as const) {
      checkGradients((x) => ijepaLoss(x!, t, { distance }), [p], { step: 1e-3 });
      const [, gt] = tf.grads((x: tf.Tensor, y: tf.Tensor) => ijepaLoss(x, y, { distance }))([p, t]);
      expectClose(gt!, tf.zeros([2, 3, 4]));
      const g = tf.grad((x: tf.Tensor) => ijepaLoss(tf.mul(x, 1e4), t, { distance }))(p);
      expectFinite(g);
      tf.dispose([gt!, g]);
    }
    tf.dispose([p, t]);
  });

  it('leaks nothing and rejects bad input', () => {
    const p = randn([2, 3, 4], 4);
    valueOf(expectNoLeak(() => ijepaLoss(p, p)));
    expect(() => ijepaLoss(p, tf.zeros([2, 3, 5]))).toThrow('ijepaLoss: targets must have shape matching predictions [2, 3, 4], got [2, 3, 5]');
    expect(() => ijepaLoss(tf.zeros([4]), tf.zeros([4]))).toThrow('ijepaLoss: predictions must');
    expect(() => ijepaLoss(p, p, { distance: 'l1' as never })).toThrow("ijepaLoss: options.distance must be one of 'l2', 'smoothL1'");
    p.dispose();
  });
});

it('the new objectives agree on cpu and wasm', async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const x = randn2d(12, 6, 21);
      const masks = tf.tensor2d([[1, 0, 1], [0, 0, 0], [1, 1, 0], [0, 1, 0]]);
      const teacher = randu([5, 6], 22, -1, 1) as tf.Tensor2D;
      const targets = randn2d(6, 6, 23);
      const protos = randn2d(4, 6, 24);
      const f = (s: tf.Tensor) =>
        tf.addN([
          koleoLoss(s as tf.Tensor2D),
          ibotPatchLoss(tf.slice(s, [0, 0], [5, 6]) as tf.Tensor2D, teacher, masks, null, { centering: 'sinkhornKnopp' }),
          msnLoss(s as tf.Tensor2D, targets, protos, { prior: 'powerLaw' }),
          ijepaLoss(s, tf.mul(s, 0.5)),
        ]) as tf.Scalar;
      return [f(x).dataSync()[0]!, ...tf.grad(f)(x).dataSync()];
    }),
  );
  expectClose(results.wasm, results.cpu, { rtol: 1e-4, atol: 1e-6 });
});
