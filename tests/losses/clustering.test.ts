import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  dinoLoss,
  kMeans,
  pseudoLabelLoss,
  sinkhornKnopp,
  swavLoss,
  updateDinoCenter,
} from '../../src/losses/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d, randu, valueOf } from './inputs.js';

interface KMeansCase {
  name: string;
  features: number[][];
  init: number[][];
  k: number;
  iterations: number;
  emptyClusters?: 'split' | 'keep';
  centroids: number[][];
  assignments: number[];
  inertia: number;
}
const kMeansCases = loadFixture<{ kMeans: KMeansCase[] }>('losses-clustering').kMeans;

describeBackends('DINO', () => {
  it('is ln K for uniform student and teacher outputs', () => {
    for (const [k, views, global] of [[8, 4, 2], [65, 3, 1], [3, 2, 2]] as const) {
      const student = tf.fill([views * 3, k], 0.3) as tf.Tensor2D;
      const teacher = tf.fill([global * 3, k], -1) as tf.Tensor2D;
      const center = tf.fill([1, k], 0.5) as tf.Tensor2D;
      expectClose(valueOf(dinoLoss(student, teacher, center, { numGlobalCrops: global })), Math.log(k), { rtol: 1e-5 });
      tf.dispose([student, teacher, center]);
    }
  });

  it('sends gradients to the student only, matching finite differences', () => {
    const student = randn2d(8, 5, 1);
    const teacher = randn2d(4, 5, 2);
    const center = randn2d(1, 5, 3);
    const grads = tf.grads((s: tf.Tensor, t: tf.Tensor, c: tf.Tensor) =>
      dinoLoss(s as tf.Tensor2D, t as tf.Tensor2D, c as tf.Tensor2D),
    )([student, teacher, center]);
    expectClose(grads[1]!, tf.zeros([4, 5]));
    expectClose(grads[2]!, tf.zeros([1, 5]));
    checkGradients((s) => dinoLoss(s as tf.Tensor2D, teacher, center, { studentTemperature: 0.5, teacherTemperature: 0.2 }), [student]);
    tf.dispose([student, teacher, center, ...grads]);
  });

  it('stays finite for logits of 1e4 and at small temperatures', () => {
    const student = tf.mul(randn2d(6, 7, 4), 1e4) as tf.Tensor2D;
    const teacher = tf.mul(randn2d(4, 7, 5), 1e4) as tf.Tensor2D;
    const center = tf.zeros([1, 7]) as tf.Tensor2D;
    const options = { studentTemperature: 0.01, teacherTemperature: 0.01 };
    expectFinite(valueOf(dinoLoss(student, teacher, center, { ...options, numGlobalCrops: 2 })));
    const g = tf.grad((s: tf.Tensor) => dinoLoss(s as tf.Tensor2D, teacher, center, options))(student);
    expectFinite(g);
    tf.dispose([student, teacher, center, g]);
  });

  it('updateDinoCenter is the EMA of the teacher mean, and a 1,000-step loop leaks nothing', () => {
    const teacher = tf.tensor2d([[1, 2, 3], [3, 2, 1]]);
    let center = tf.tensor2d([[1, 1, 1]]);
    const next = expectNoLeak(() => updateDinoCenter(center, teacher, { momentum: 0.5 }));
    expectClose(next, [[1.5, 1.5, 1.5]]);
    tf.dispose([next, teacher]);

    const k = 16;
    const student = tf.variable(randn([4 * 4, k], 6)) as tf.Variable<tf.Rank.R2>;
    const teacherOut = randn2d(2 * 4, k, 7);
    center.dispose();
    center = tf.zeros([1, k]) as tf.Tensor2D;
    const optimizer = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 1000; step++) {
      optimizer.minimize(() => dinoLoss(student, teacherOut, center), false, [student]);
      const updated = updateDinoCenter(center, teacherOut);
      center.dispose();
      center = updated;
    }
    expect(tf.memory().numTensors).toBe(before);
    expectFinite(center);
    optimizer.dispose();
    tf.dispose([student, teacherOut, center]);
  });

  it('rejects bad input', () => {
    const s = tf.zeros([8, 4]) as tf.Tensor2D;
    const t = tf.zeros([4, 4]) as tf.Tensor2D;
    const c = tf.zeros([1, 4]) as tf.Tensor2D;
    expect(() => dinoLoss(tf.zeros([7, 4]) as tf.Tensor2D, t, c)).toThrow(
      'dinoLoss: studentOutput must have V·B rows with B = 2 (from teacherOutput) and V ≥ max(2, numGlobalCrops = 2) crops, got 7 rows in shape [7, 4]',
    );
    expect(() => dinoLoss(tf.zeros([8, 5]) as tf.Tensor2D, t, c)).toThrow(
      'dinoLoss: studentOutput must have K = 4 columns like teacherOutput [4, 4], got [8, 5]',
    );
    expect(() => dinoLoss(s, tf.zeros([3, 4]) as tf.Tensor2D, c)).toThrow(
      'dinoLoss: teacherOutput must have G·B rows with G = numGlobalCrops = 2 and B ≥ 1, got 3 rows in shape [3, 4]',
    );
    expect(() => dinoLoss(s, t, tf.zeros([4]) as never)).toThrow('dinoLoss: center must have shape [1, K] = [1, 4], got [4]');
    expect(() => dinoLoss(s, t, c, { numGlobalCrops: 1.5 })).toThrow('dinoLoss: options.numGlobalCrops must be an integer ≥ 1, got 1.5');
    expect(() => dinoLoss(s, t, c, { teacherTemperature: 0 })).toThrow(
      'dinoLoss: options.teacherTemperature must be a finite number > 0, got 0',
    );
    expect(() => dinoLoss(tf.zeros([2, 4]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D, c, { numGlobalCrops: 1 })).toThrow(
      'V ≥ max(2, numGlobalCrops = 1) crops, got 2 rows',
    );
    expect(() => dinoLoss(s, t, c, { ncrops: 4 } as never)).toThrow('dinoLoss: options.ncrops must be one of the known options');
    expect(() => updateDinoCenter(c, t, { momentum: 1.5 })).toThrow('updateDinoCenter: options.momentum must be a number in [0, 1], got 1.5');
    expect(() => updateDinoCenter(tf.zeros([1, 3]) as tf.Tensor2D, t)).toThrow(
      'updateDinoCenter: center must have shape [1, K] = [1, 4], got [1, 3]',
    );
    tf.dispose([s, t, c]);
  });
});

describeBackends('SwAV', () => {
  it('sinkhornKnopp returns codes whose rows sum to 1 and whose prototypes share the batch equally', () => {
    const scores = randu([16, 4], 8, -1, 1) as tf.Tensor2D;
    const q = expectNoLeak(() => sinkhornKnopp(scores, { epsilon: 0.5, iterations: 30 }));
    expectClose(tf.sum(q, 1), new Array(16).fill(1), { rtol: 1e-5 });
    expectClose(tf.sum(q, 0), new Array(4).fill(4), { rtol: 1e-3 });
    tf.dispose([scores, q]);
  });

  it('sinkhornKnopp is stable for large scores and small ε, and carries no gradient', () => {
    // Cosine-range scores at ε = 0.025: exp(s/ε) alone would reach e^40 and the
    // smallest entries e^-40 of the largest; max-subtraction keeps it finite and exact.
    const cosine = randu([6, 5], 9, -1, 1) as tf.Tensor2D;
    const q = sinkhornKnopp(cosine, { epsilon: 0.025 });
    expectFinite(q);
    expectClose(tf.sum(q, 1), new Array(6).fill(1), { rtol: 1e-5 });
    // Far outside that range (e^(−10⁶) underflows) the codes stay finite: never NaN.
    const scores = tf.mul(cosine, 1e4) as tf.Tensor2D;
    const extreme = sinkhornKnopp(scores, { epsilon: 0.01 });
    expectFinite(extreme);
    const g = tf.grad((s: tf.Tensor) => tf.sum(tf.mul(sinkhornKnopp(s as tf.Tensor2D), randu([6, 5], 10))))(scores);
    expectClose(g, tf.zeros([6, 5]));
    tf.dispose([cosine, scores, q, extreme, g]);
  });

  it('swavLoss is ln K for uniform scores and codes, fixes the codes, and matches finite differences', () => {
    const k = 7;
    const uniform = tf.fill([5, k], 0.2) as tf.Tensor2D;
    const codes = tf.fill([5, k], 1 / k) as tf.Tensor2D;
    expectClose(valueOf(swavLoss(uniform, uniform, codes, codes)), Math.log(k), { rtol: 1e-5 });
    const s1 = randu([4, 3], 11, -1, 1) as tf.Tensor2D;
    const s2 = randu([4, 3], 12, -1, 1) as tf.Tensor2D;
    const q1 = sinkhornKnopp(s1);
    const q2 = sinkhornKnopp(s2);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      swavLoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor2D),
    )([s1, s2, q1, q2]);
    expectClose(grads[2]!, tf.zeros([4, 3]));
    expectClose(grads[3]!, tf.zeros([4, 3]));
    checkGradients((a, b) => swavLoss(a as tf.Tensor2D, b as tf.Tensor2D, q1, q2, { temperature: 0.5 }), [s1, s2]);
    // Swapping the views (scores with their codes) leaves the loss unchanged.
    expectClose(valueOf(swavLoss(s2, s1, q2, q1)), valueOf(swavLoss(s1, s2, q1, q2)), { rtol: 1e-6 });
    tf.dispose(expectNoLeak(() => tf.grads((a: tf.Tensor) => swavLoss(a as tf.Tensor2D, s2, q1, q2))([s1])));
    const sharp = swavLoss(tf.mul(s1, 1e4) as tf.Tensor2D, s2, q1, q2, { temperature: 0.01 });
    expectFinite(sharp);
    tf.dispose([uniform, codes, s1, s2, q1, q2, sharp, ...grads]);
  });

  it('rejects bad input', () => {
    const s = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(() => sinkhornKnopp(s, { epsilon: 0 })).toThrow('sinkhornKnopp: options.epsilon must be a finite number > 0, got 0');
    expect(() => sinkhornKnopp(s, { iterations: -1 })).toThrow('sinkhornKnopp: options.iterations must be an integer in [0, 1000], got -1');
    expect(() => sinkhornKnopp(tf.zeros([4]) as never)).toThrow('sinkhornKnopp: scores must be a rank-2 tensor [N, D], got rank 1');
    expect(() => swavLoss(s, s, s, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(
      'swavLoss: q2 must have shape [B, K] matching scores1 [4, 3], got [4, 2]',
    );
    expect(() => swavLoss(s, s, s, s, { temperature: -0.1 })).toThrow('swavLoss: options.temperature must be a finite number > 0, got -0.1');
    s.dispose();
  });
});

describeBackends('kMeans', () => {
  it('matches scikit-learn KMeans(init=array, n_init=1, algorithm="lloyd") and the split reference', () => {
    for (const c of kMeansCases) {
      const x = tf.tensor2d(c.features);
      const init = tf.tensor2d(c.init);
      const result = expectNoLeak(() =>
        kMeans(x, { k: c.k, iterations: c.iterations, init, emptyClusters: c.emptyClusters ?? 'split' }),
      );
      expectClose(result.centroids, c.centroids, { rtol: 1e-5, atol: 1e-5, label: `${c.name}: centroids` });
      expect(Array.from(result.assignments.dataSync()), `${c.name}: assignments`).toEqual(c.assignments);
      expectClose(result.inertia, c.inertia, { rtol: 1e-5, label: `${c.name}: inertia` });
      expect(result.assignments.dtype).toBe('int32');
      tf.dispose([x, init, result.centroids, result.assignments]);
    }
  });

  it("keeps an empty cluster's centroid with emptyClusters: 'keep', and breaks distance ties to the lowest index", () => {
    const c = kMeansCases.find((k) => k.name === 'split')!;
    const x = tf.tensor2d(c.features);
    const kept = kMeans(x, { k: 3, init: tf.tensor2d(c.init), emptyClusters: 'keep' });
    expectClose(tf.slice(kept.centroids, [2, 0], [1, 2]), [c.init[2]!]);
    expect(Array.from(kept.assignments.dataSync())).not.toContain(2);
    const twin = tf.tensor2d([[1, 1], [1, 1]]);
    const tied = kMeans(x, { k: 2, init: twin, emptyClusters: 'keep', iterations: 0 });
    expect(new Set(tied.assignments.dataSync())).toEqual(new Set([0]));
    tf.dispose([x, kept.centroids, kept.assignments, twin, tied.centroids, tied.assignments]);
  });

  it('seeded k-means++ and random initialisations are reproducible and find well-separated clusters', () => {
    const blobs = tf.concat([randn([30, 3], 13, 0.3, 0), randn([30, 3], 14, 0.3, 5), randn([30, 3], 15, 0.3, -5)]) as tf.Tensor2D;
    for (const init of ['kmeans++', 'random'] as const) {
      const a = kMeans(blobs, { k: 3, init, seed: 7 });
      const b = kMeans(blobs, { k: 3, init, seed: 7 });
      expectClose(a.centroids, b.centroids, { rtol: 0, atol: 0 });
      expect(a.inertia).toBe(b.inertia);
      if (init === 'kmeans++') {
        const labels = Array.from(a.assignments.dataSync());
        for (const start of [0, 30, 60]) expect(new Set(labels.slice(start, start + 30)).size).toBe(1);
        expect(a.inertia).toBeLessThan(90 * 3 * 0.3 * 0.3 * 1.5);
      }
      tf.dispose([a.centroids, a.assignments, b.centroids, b.assignments]);
    }
    tf.dispose(blobs);
  });

  it('rejects bad input', () => {
    const x = tf.zeros([5, 2]) as tf.Tensor2D;
    expect(() => kMeans(x, { k: 6 })).toThrow('kMeans: options.k must be an integer in [1, 5], got 6');
    expect(() => kMeans(x, {} as never)).toThrow('kMeans: options.k must be an integer in [1, 5], got undefined');
    expect(() => kMeans(x, { k: 2, iterations: -1 })).toThrow('kMeans: options.iterations must be an integer in [0, 10000], got -1');
    expect(() => kMeans(x, { k: 2, init: tf.zeros([3, 2]) as tf.Tensor2D })).toThrow(
      'kMeans: options.init must have shape [k, D] = [2, 2], got [3, 2]',
    );
    expect(() => kMeans(x, { k: 2, init: 'k-means++' as never })).toThrow(
      "kMeans: options.init must be 'kmeans++', 'random' or a [k, D] tensor, got \"k-means++\"",
    );
    expect(() => kMeans(x, { k: 2, emptyClusters: 'drop' as never })).toThrow(
      "kMeans: options.emptyClusters must be one of 'split', 'keep', got \"drop\"",
    );
    expect(() => kMeans(x, { k: 2, clusters: 3 } as never)).toThrow('kMeans: options.clusters must be one of the known options');
    x.dispose();
  });
});

describeBackends('pseudoLabelLoss', () => {
  it("'inverse' balance averages the per-cluster mean cross-entropies; uniform logits give ln K", () => {
    const logits = randn2d(6, 3, 16);
    const labels = tf.tensor1d([0, 0, 0, 0, 1, 2], 'int32');
    const perSample = tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(labels, 3), tf.logSoftmax(logits)), 1)).arraySync() as number[]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const expected = (mean(perSample.slice(0, 4)) + perSample[4]! + perSample[5]!) / 3;
    expectClose(valueOf(pseudoLabelLoss(logits, labels, { balance: 'inverse' })), expected, { rtol: 1e-5 });
    expectClose(valueOf(pseudoLabelLoss(logits, labels, { balance: false })), mean(perSample), { rtol: 1e-5 });
    const uniform = tf.zeros([6, 5]) as tf.Tensor2D;
    expectClose(valueOf(pseudoLabelLoss(uniform, labels)), Math.log(5), { rtol: 1e-6 });
    checkGradients((l) => pseudoLabelLoss(l as tf.Tensor2D, labels), [logits]);
    tf.dispose(expectNoLeak(() => tf.grads((l: tf.Tensor) => pseudoLabelLoss(l as tf.Tensor2D, labels))([logits])));
    tf.dispose([logits, labels, uniform]);
  });

  // Found by the fuzz test: one class raised tfjs's raw "oneHot: depth must be >=2".
  it('one class: every label is that class and the loss is 0', () => {
    const logits = tf.tensor2d([[0.3], [-2], [5]]);
    const labels = tf.zeros([3], 'int32') as tf.Tensor1D;
    expectClose(valueOf(pseudoLabelLoss(logits, labels)), 0, { atol: 1e-7 });
    tf.dispose([logits, labels]);
  });

  it('rejects bad input', () => {
    const logits = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => pseudoLabelLoss(logits, tf.tensor1d([0, 2, 1], 'int32'))).toThrow(
      'pseudoLabelLoss: pseudoLabels must have class indices in [0, 1], got values in [0, 2]',
    );
    expect(() => pseudoLabelLoss(logits, tf.tensor1d([0, 1, 1]))).toThrow('pseudoLabelLoss: pseudoLabels must have dtype int32, got float32');
    expect(() => pseudoLabelLoss(logits, tf.tensor1d([0, 1], 'int32'))).toThrow(
      'pseudoLabelLoss: pseudoLabels must have shape [B] = [3], got [2]',
    );
    expect(() => pseudoLabelLoss(logits, tf.tensor1d([0, 1, 1], 'int32'), { balance: 'sqrt' as never })).toThrow(
      "pseudoLabelLoss: options.balance must be one of true, false, 'inverse-sqrt', 'inverse', got \"sqrt\"",
    );
    logits.dispose();
  });
});

it('clustering losses agree on cpu and wasm', async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const student = randn2d(12, 6, 51);
      const teacher = randn2d(6, 6, 52);
      const center = randn2d(1, 6, 53);
      const s1 = randu([6, 6], 54, -1, 1) as tf.Tensor2D;
      const q = sinkhornKnopp(s1);
      const f = (s: tf.Tensor) =>
        tf.add(dinoLoss(s as tf.Tensor2D, teacher, center), swavLoss(s1, tf.slice(s, [0, 0], [6, 6]) as tf.Tensor2D, q, q)) as tf.Scalar;
      const km = kMeans(student, { k: 3, seed: 5 });
      return [f(student).dataSync()[0]!, ...tf.grad(f)(student).dataSync(), ...q.dataSync(), km.inertia, ...km.centroids.dataSync()];
    }),
  );
  expectClose(results.wasm, results.cpu, { rtol: 1e-4, atol: 1e-6 });
});
