/** The stateful pieces: target networks, queues, centers, prototypes, support sets, augmentation. */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  BYOL,
  cloneEncoder,
  convEncoder,
  DINO,
  grayscaleAugment,
  MoCoV2,
  NNCLR,
  projectionMlp,
  SwAV,
  TargetNetwork,
  tinyVit,
  twoViews,
} from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/numerics.js';
import { disposeTask, tinyEncoder, weightsOf } from './methods.js';

const images = () => tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 11) as tf.Tensor4D;

describeBackends('cloneEncoder and TargetNetwork', () => {
  it('cloneEncoder copies a LayersModel (weights and batch-norm statistics) into an independent model', () => {
    const online = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], batchNorm: true, seed: 2 });
    const x = images();
    online.apply(x, { training: true }); // moves the BN statistics away from their initial values
    const copy = cloneEncoder(online);
    expect(copy).not.toBe(online);
    expect(weightsOf(copy)).toEqual(weightsOf(online));
    const a = online.predict(x) as tf.Tensor;
    const b = copy.predict(x) as tf.Tensor;
    expectClose(b, a, { rtol: 0, atol: 0 });
    const v = online.trainableWeights[0]!.read() as tf.Variable;
    v.assign(tf.zerosLike(v));
    expect(weightsOf(copy)[0]!.some((w) => w !== 0)).toBe(true); // independent storage
    tf.dispose([a, b, x]);
    copy.dispose();
    online.dispose();
  });

  it('cloneEncoder copies a ViT through its clone(), and rejects what it cannot copy', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const copy = cloneEncoder(vit);
    expect(copy).not.toBe(vit);
    expect(copy.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(vit.getWeights().map((w) => Array.from(w.dataSync())));
    copy.dispose();
    expect(vit.isDisposed).toBe(false);
    vit.dispose();
    expect(() => vit.clone()).toThrow('VisionTransformer.clone: this must not be disposed');
    expect(() => cloneEncoder({ apply: () => null } as never)).toThrow('cloneEncoder: model must be a tfjs-layers LayersModel or have a clone() method');
  });

  it('TargetNetwork starts as a copy and moves by EMA only; dispose frees its copies, not a given target encoder', () => {
    const encoder = tinyEncoder(1);
    const projector = projectionMlp({ inputDim: 16, hiddenDim: 8, outputDim: 4, seed: 3 });
    const target = new TargetNetwork({ encoder, heads: [projector] });
    expect(weightsOf(target.encoder)).toEqual(weightsOf(encoder));
    const before = weightsOf(target.heads[0]);
    const w = projector.trainableWeights[0]!.read() as tf.Variable;
    w.assign(tf.add(w, 1));
    target.update(1);
    expect(weightsOf(target.heads[0])).toEqual(before);
    target.update(0.5);
    expectClose(tf.tensor(weightsOf(target.heads[0])[0]!), tf.add(tf.tensor(before[0]!), 0.5), { atol: 1e-6 });
    expect(() => target.update(1.5)).toThrow('TargetNetwork.update: momentum must be a number in [0, 1], got 1.5');
    const count = tf.memory().numTensors;
    target.dispose();
    expect(tf.memory().numTensors).toBeLessThan(count);
    expect(() => target.update(0.9)).toThrow('TargetNetwork.update: this must not be disposed');

    const mine = tinyEncoder(9);
    const withGiven = new TargetNetwork({ encoder }, { targetEncoder: mine });
    expect(withGiven.encoder).toBe(mine);
    expect(weightsOf(mine)).toEqual(weightsOf(encoder)); // overwritten with the online weights
    withGiven.dispose();
    expect(() => mine.predict(tf.zeros([1, 8, 8, 1]))).not.toThrow();
    expect(() => new TargetNetwork({ encoder }, { targetEncoder: encoder })).toThrow('TargetNetwork: options.targetEncoder must be a separate model');
    expect(() => new TargetNetwork({} as never)).toThrow('TargetNetwork: online must be { encoder, heads? }');
    encoder.dispose();
    projector.dispose();
    mine.dispose();
  });
});

describeBackends('method state', () => {
  it('MoCo v2: momentum update before the keys, one enqueue per step, queue wraps', () => {
    const moco = new MoCoV2(tinyEncoder(), { projectionDim: 8, queueSize: 20, momentum: 0.5, seed: 0 });
    const x = images();
    const targetBefore = weightsOf(moco.target.encoder);
    moco.step(x);
    expect(moco.queue.enqueued).toBe(8);
    expect(weightsOf(moco.target.encoder)).toEqual(targetBefore); // first update averages two equal networks
    moco.step(x);
    expect(weightsOf(moco.target.encoder)).not.toEqual(targetBefore);
    moco.step(x);
    expect(moco.queue.enqueued).toBe(24);
    expect(moco.queue.position).toBe(4);
    const keys = moco.computeKeys(x);
    const norms = tf.norm(keys, 2, 1);
    expectClose(norms, tf.onesLike(norms), { atol: 1e-5 });
    tf.dispose([keys, norms, x]);
    disposeTask(moco);
  });

  it('BYOL: momentum 1 freezes the target; the schedule rises to 1 at totalSteps', () => {
    const frozen = new BYOL(tinyEncoder(), { projectionDim: 8, hiddenDim: 16, momentum: 1, seed: 0 });
    const x = images();
    const t0 = weightsOf(frozen.target.encoder);
    frozen.step(x);
    frozen.step(x);
    expect(weightsOf(frozen.target.encoder)).toEqual(t0);
    expect(weightsOf(frozen.encoder)).not.toEqual(t0);
    disposeTask(frozen);
    const byol = new BYOL(tinyEncoder(), { projectionDim: 8, hiddenDim: 16, totalSteps: 10, seed: 0 });
    const [t1, t2] = byol.computeTargets(x, x);
    expectClose(t1, t2, { atol: 1e-6 }); // same images, same target
    tf.dispose([t1, t2, x]);
    expect(() => new BYOL(tinyEncoder(), { momentum: 2 })).toThrow('BYOL: options.momentum must be a number in [0, 1], got 2');
    disposeTask(byol);
  });

  it('DINO: center follows the teacher output, teacher temperature warms up, last layer frozen at first', () => {
    const dino = new DINO(tinyEncoder(), {
      crops: { global: { count: 2, size: 8, scale: [0.4, 1] }, local: { count: 1, size: 8, scale: [0.1, 0.4] } },
      outputDim: 16,
      hiddenDim: 16,
      bottleneckDim: 8,
      totalSteps: 10,
      freezeLastLayerSteps: 2,
      seed: 0,
    });
    expect(dino.teacherTemperature(0)).toBeCloseTo(0.04);
    expect(dino.teacherTemperature(3)).toBeCloseTo(0.07);
    const last = dino.head.layers[dino.head.layers.length - 1]!;
    const lastWeights = () => last.getWeights().map((w) => Array.from(w.dataSync()));
    const x = images();
    const crops = dino.crops(x, 5);
    expect(crops.global.length).toBe(2);
    expect(crops.local.length).toBe(1);
    const teacher = dino.teacherOutput(crops.global);
    expect(teacher.shape).toEqual([16, 16]);
    const expected = tf.tidy(() => tf.mul(0.1, tf.mean(teacher, 0, true)));
    dino.updateCenter(teacher);
    expectClose(dino.center, expected, { atol: 1e-6 });
    tf.dispose([...crops.global, ...crops.local, teacher, expected]);
    const before = lastWeights();
    dino.step(x);
    dino.step(x);
    expect(lastWeights()).toEqual(before);
    dino.step(x);
    expect(lastWeights()).not.toEqual(before);
    x.dispose();
    disposeTask(dino);
  });

  it('SwAV: prototypes stay unit-norm, frozen prototypes do not move, the queue joins once full', () => {
    const swav = new SwAV(tinyEncoder(), { numPrototypes: 6, projectionDim: 8, queueSize: 16, freezePrototypesSteps: 1, seed: 0 });
    const x = images();
    const protos = () => Array.from(swav.prototypes.prototypes().dataSync());
    const p0 = protos();
    swav.step(x);
    expect(protos()).toEqual(p0);
    swav.step(x);
    expect(protos()).not.toEqual(p0);
    const norms = tf.norm(swav.prototypes.prototypes(), 2, 0);
    expectClose(norms, tf.onesLike(norms), { atol: 1e-5 });
    expect(swav.queues.map((q) => q.enqueued)).toEqual([16, 16]);
    expect(Number.isFinite(swav.step(x))).toBe(true); // with the full queue in the Sinkhorn input
    tf.dispose([norms, x]);
    disposeTask(swav);
  });

  it('NNCLR: the support set fills with normalised projections of view 1', () => {
    const nnclr = new NNCLR(tinyEncoder(), { projectionDim: 8, hiddenDim: 16, supportSetSize: 12, seed: 0 });
    const x = images();
    expect(nnclr.supportSet.filled).toBe(0);
    nnclr.step(x);
    expect(nnclr.supportSet.filled).toBe(8);
    nnclr.step(x);
    expect(nnclr.supportSet.filled).toBe(12);
    nnclr.updateSupportSet(); // nothing pending: no second enqueue
    expect(nnclr.supportSet.enqueued).toBe(16);
    const rows = nnclr.supportSet.read();
    const norms = tf.norm(rows, 2, 1);
    expectClose(norms, tf.onesLike(norms), { atol: 1e-5 });
    tf.dispose([rows, norms, x]);
    disposeTask(nnclr);
  });
});

describeBackends('grayscaleAugment', () => {
  it('keeps the shape, is seeded, replays, and validates its options', () => {
    const x = images();
    const aug = grayscaleAugment();
    const [a1, b1] = twoViews(x, aug, { seed: 4 });
    const [a2, b2] = twoViews(x, aug, { seed: 4 });
    expect(a1.shape).toEqual([8, 8, 8, 1]);
    expectClose(a2, a1, { rtol: 0, atol: 0 });
    expectClose(b2, b1, { rtol: 0, atol: 0 });
    const { images: out, params } = aug.run(x, { seed: 1 });
    const replay = aug.apply(x, params);
    expectClose(replay, out, { rtol: 0, atol: 0 });
    const flipOnly = grayscaleAugment({ crop: false, brightness: 0, contrast: 0 });
    const f = flipOnly.run(x, { seed: 0 }).images;
    expect(f.shape).toEqual(x.shape);
    expect(() => grayscaleAugment({ cropScale: [0.5, 0.2] })).toThrow('grayscaleAugment: options.cropScale must be a [min, max] pair');
    expect(() => grayscaleAugment({ brightness: 2 })).toThrow('grayscaleAugment: options.brightness must be a number in [0, 1], got 2');
    expect(() => grayscaleAugment({ hue: 0.1 } as never)).toThrow('grayscaleAugment: options.hue must be one of the known options');
    tf.dispose([x, a1, b1, a2, b2, out, replay, f]);
  });
});
