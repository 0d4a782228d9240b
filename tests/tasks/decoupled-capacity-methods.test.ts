/**
 * The state and the specifics of DCL, MMCR, TiCo, FastSiam and VICRegL (the
 * shared contract — steps, seeds, leaks, messages — is in
 * joint-embedding.test.ts; VICRegL, which needs a conv feature map, is
 * covered here in full).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { convEncoder, DCL, FastSiam, grayscaleAugment, MMCR, RandomHorizontalFlip, TiCo, VICRegL } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/numerics.js';
import { disposeTask, tinyEncoder, weightsOf } from './methods.js';

const images = () => tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 11) as tf.Tensor4D;

describeBackends('DCL, MMCR, TiCo, FastSiam', () => {
  it('TiCo: the covariance starts at 0 and its trace after t steps is 1 − β^t (unit rows); momentum 1 freezes the target', () => {
    const task = new TiCo(tinyEncoder(), { projectionDim: 8, hiddenDim: 16, beta: 0.7, momentum: 1, seed: 1 });
    expectClose(task.covariance, tf.zeros([8, 8]), { atol: 0 });
    const target = weightsOf(task.target.encoder);
    const x = images();
    for (let t = 1; t <= 3; t++) {
      task.step(x);
      // C is an average of aᵀa/N with unit-norm rows a: trace 1 per batch.
      expectClose(tf.tidy(() => tf.sum(tf.mul(task.covariance, tf.eye(8)))), 1 - 0.7 ** t, { rtol: 1e-5 });
      expectClose(task.covariance, tf.transpose(task.covariance), { atol: 1e-7 });
    }
    expect(weightsOf(task.target.encoder)).toEqual(target);
    expect(weightsOf(task.encoder)).not.toEqual(target);
    disposeTask(task);
    task.dispose(); // idempotent
    x.dispose();
  });

  it('MMCR and FastSiam draw numViews views (one batch through the encoder); MMCR’s loss is ≥ −√(min(B, D)·B)', () => {
    const mmcr = new MMCR(tinyEncoder(), { numViews: 5, projectionDim: 8, seed: 1 });
    const x = images();
    const views = mmcr.multiViews(x, 3);
    expect(views.length).toBe(5);
    for (const v of views) expect(v.shape).toEqual([8, 8, 8, 1]);
    tf.dispose(views);
    for (let i = 0; i < 3; i++) {
      const loss = mmcr.step(x);
      expect(loss).toBeLessThanOrEqual(0);
      expect(loss).toBeGreaterThanOrEqual(-Math.sqrt(8 * 8) - 1e-4);
    }
    disposeTask(mmcr);
    const fast = new FastSiam(tinyEncoder(), { numViews: 3, seed: 1 });
    expect(fast.multiViews(x, 3).length).toBe(3);
    const loss = fast.step(x);
    expect(loss).toBeGreaterThanOrEqual(-1);
    expect(loss).toBeLessThanOrEqual(1);
    disposeTask(fast);
    x.dispose();
  });

  it('a per-view augmentation pair is taken in turn by the multi-view methods', () => {
    const flip = new RandomHorizontalFlip({ p: 1 });
    const none = grayscaleAugment({ crop: false, flip: false, brightness: 0, contrast: 0 });
    const task = new FastSiam(tinyEncoder(), { numViews: 4, augment: [flip, none], seed: 1 });
    const x = images();
    const views = task.multiViews(x, 0);
    expectClose(views[0]!, tf.reverse(x, 2), { atol: 0 });
    expectClose(views[1]!, x, { atol: 0 });
    expectClose(views[2]!, tf.reverse(x, 2), { atol: 0 });
    tf.dispose([...views, x]);
    disposeTask(task);
  });

  it('DCL: weighted is DCLW; both train', () => {
    const x = images();
    for (const weighted of [false, true]) {
      const task = new DCL(tinyEncoder(), { projectionDim: 8, weighted, temperature: 0.2, seed: 1 });
      expect(task.weighted).toBe(weighted);
      expect(Number.isFinite(task.step(x))).toBe(true);
      disposeTask(task);
    }
    x.dispose();
  });

  it('refuse bad options before allocating anything', () => {
    const encoder = tinyEncoder();
    const before = tf.memory().numTensors;
    expect(() => new DCL(encoder, { temperature: -1 })).toThrow('DCL: options.temperature must be');
    expect(() => new DCL(encoder, { weighted: 1 as never })).toThrow('DCL: options.weighted must be one of true, false, got 1');
    expect(() => new MMCR(encoder, { numViews: 1 })).toThrow('MMCR: options.numViews must be');
    expect(() => new MMCR(encoder, { lambda: -0.1 })).toThrow('MMCR: options.lambda must be');
    expect(() => new TiCo(encoder, { beta: 1.5 })).toThrow('TiCo: options.beta must be a number in [0, 1], got 1.5');
    expect(() => new TiCo(encoder, { momentum: 2 })).toThrow('TiCo: options.momentum must be a number in [0, 1], got 2');
    expect(() => new TiCo(encoder, { hiddenDim: 0 })).toThrow('TiCo: options.hiddenDim must be');
    expect(() => new FastSiam(encoder, { numViews: 1 })).toThrow('FastSiam: options.numViews must be');
    expect(() => new FastSiam(encoder, { predictorHiddenDim: 2.5 })).toThrow('FastSiam: options.predictorHiddenDim must be');
    expect(tf.memory().numTensors).toBe(before);
    encoder.dispose();
  });

  it('VICRegL: grids follow the crop box and the flip; steps, reproduces, leaks nothing, disposes once', () => {
    const encoder = () => convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], strides: [2, 2], batchNorm: true, seed: 2 });
    const make = (e: ReturnType<typeof encoder>, extra = {}) =>
      new VICRegL(e, { projectionDim: 16, localProjectionDim: 8, numMatches: [6, 3], seed: 3, ...extra });
    const x = tf.randomUniform([6, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    // Whole-image crops: every grid is the 4×4 lattice of cell centres (2, 6, 10, 14), mirrored where flipped.
    const whole = make(encoder(), { cropScale: [1, 1] });
    const { views, grids } = whole.viewsWithGrids(x, 0);
    const g = grids[0].arraySync() as number[][][][];
    for (const sample of g) {
      expect(sample.map((row) => row[0]![0])).toEqual([2, 6, 10, 14]);
      const xs = sample[0]!.map((cell) => cell[1]);
      expect([JSON.stringify([2, 6, 10, 14]), JSON.stringify([14, 10, 6, 2])]).toContain(JSON.stringify(xs));
    }
    tf.dispose([...views, ...grids]);
    whole.dispose();
    const run = () => {
      const e = encoder();
      const task = make(e);
      const losses = [task.step(x), task.step(x)];
      const before = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) expect(Number.isFinite(task.step(x))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(task.embed(x).shape).toEqual([6, 8]);
      task.dispose();
      task.dispose();
      e.dispose();
      return losses;
    };
    expect(run()).toEqual(run());
    x.dispose();
  });

  it('VICRegL refuses an encoder without a feature map and bad options, before allocating', () => {
    const mlp = tinyEncoder();
    const conv = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], strides: [2, 2], seed: 2 });
    const before = tf.memory().numTensors;
    expect(() => new VICRegL(mlp)).toThrow('VICRegL: encoder must be a conv encoder whose feature map can be read before its pooling head');
    expect(() => new VICRegL(conv, { alpha: 1.5 })).toThrow('VICRegL: options.alpha must be a number in [0, 1], got 1.5');
    expect(() => new VICRegL(conv, { numMatches: [3] as never })).toThrow('VICRegL: options.numMatches must be a pair [k1, k2] of integers ≥ 1');
    expect(() => new VICRegL(conv, { cropScale: [0.9, 0.1] })).toThrow('VICRegL: options.cropScale must be');
    expect(tf.memory().numTensors).toBe(before);
    mlp.dispose();
    conv.dispose();
  });
});
