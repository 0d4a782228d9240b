import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { convEncoder, cosineSchedule, DINO, grayscaleAugment, MoCoV2, RandomHorizontalFlip, SimCLR, tinyVit, useBackend } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { METHODS, disposeTask, tinyEncoder, weightsOf } from './methods.js';

const images = () => tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 7) as tf.Tensor4D;

describeBackends('joint-embedding methods', () => {
  for (const method of METHODS) {
    describe(method.name, () => {
      it('steps with a finite loss, counts steps, embeds with the encoder, leaks nothing across steps', () => {
        const task = method.make(tinyEncoder());
        const x = images();
        const first = task.step(x);
        expect(Number.isFinite(first)).toBe(true);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) expect(Number.isFinite(task.step(x))).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        expect(task.steps).toBe(6);
        expect(task.name).toBe(method.name);
        const features = task.embed(x);
        expect(features.shape).toEqual([8, 16]);
        features.dispose();
        const live = tf.memory().numTensors;
        disposeTask(task);
        expect(tf.memory().numTensors).toBeLessThan(live);
        x.dispose();
      });

      it('the same seed reproduces the run exactly (losses and weights)', () => {
        const run = () => {
          const task = method.make(tinyEncoder(3));
          const x = images();
          const losses = [0, 1, 2].map(() => task.step(x));
          const weights = weightsOf(task.encoder);
          disposeTask(task);
          x.dispose();
          return { losses, weights };
        };
        const a = run();
        const b = run();
        expect(b.losses).toEqual(a.losses);
        expect(b.weights).toEqual(a.weights);
      });

      it('trains the encoder and leaves a user optimizer alive', () => {
        const optimizer = tf.train.sgd(0.05);
        const task = method.make(tinyEncoder(), { optimizer });
        const before = weightsOf(task.encoder);
        const x = images();
        task.step(x);
        expect(weightsOf(task.encoder)).not.toEqual(before);
        disposeTask(task);
        // still usable: the method never disposes an optimizer it was given
        const v = tf.variable(tf.scalar(1));
        optimizer.minimize(() => tf.square(v) as tf.Scalar, false, [v]);
        optimizer.dispose();
        v.dispose();
        x.dispose();
      });

      it('rejects bad input with messages that name the method and argument', () => {
        const task = method.make(tinyEncoder());
        expect(() => task.step(tf.zeros([4, 6, 6, 1]) as tf.Tensor4D)).toThrow(`${method.name}.step: images must have shape [B, 8, 8, 1]`);
        expect(() => task.step(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(`${method.name}.step: images must have B ≥ 2`);
        expect(() => task.step(tf.zeros([4, 8, 8]) as never)).toThrow(`${method.name}.step: images must be a rank-4 tensor`);
        // The photometric augmentations check the value range (DINO's test crops have none).
        if (method.name !== 'DINO') expect(() => task.step(tf.fill([4, 8, 8, 1], 3) as tf.Tensor4D)).toThrow(/in \[0, 1\]/);
        expect(() => method.make(tinyEncoder(), { temprature: 0.1 })).toThrow(`${method.name}: options.temprature must be one of the known options`);
        expect(() => method.make({} as never)).toThrow(`${method.name}: encoder must be a tfjs-layers model or a selfsup VisionTransformer`);
        disposeTask(task);
      });
    });
  }
});

describe('joint-embedding methods: 1,000 steps without a leak', () => {
  // One backend: the count is backend-independent and the loop is the slow part.
  beforeAll(async () => {
    await useBackend('wasm');
  });
  for (const method of METHODS) {
    it(method.name, () => {
      // A flip is the cheapest augmentation; the loop is about the method's own tensors.
      const cheap = method.name === 'DINO' ? {} : { augment: new RandomHorizontalFlip() };
      const task = method.make(tinyEncoder(), cheap);
      const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      task.step(x);
      const before = tf.memory().numTensors;
      for (let i = 1; i < 1000; i++) task.step(x);
      expect(tf.memory().numTensors).toBe(before);
      expect(task.steps).toBe(1000);
      disposeTask(task);
      x.dispose();
    });
  }
});

describe('joint-embedding options', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  it('a learning-rate schedule is applied before every step', () => {
    const optimizer = tf.train.adam(1);
    const task = new SimCLR(tinyEncoder(), { optimizer, learningRate: cosineSchedule({ base: 0.01, totalSteps: 4 }), projectionDim: 8, seed: 0 });
    const x = images();
    task.step(x);
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBeCloseTo(0.01);
    task.step(x);
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBeCloseTo(0.01 * (1 + Math.cos(Math.PI / 4)) / 2);
    disposeTask(task);
    optimizer.dispose();
    x.dispose();
  });

  it('a number learning rate with a user optimizer is an error, not silently ignored', () => {
    expect(() => new SimCLR(tinyEncoder(), { optimizer: tf.train.sgd(0.1), learningRate: 0.5 })).toThrow(
      'SimCLR: options.learningRate must be omitted when options.optimizer is given',
    );
  });

  it('custom augmentation per view, and views of the wrong size are refused', () => {
    const pair = [grayscaleAugment({ cropScale: [0.5, 1] }), grayscaleAugment({ cropScale: [0.2, 1] })] as const;
    const task = new SimCLR(tinyEncoder(), { augment: pair, projectionDim: 8, seed: 0 });
    expect(task.augmentations[0]).toBe(pair[0]);
    const [a, b] = task.views(images(), 3);
    expect(a.shape).toEqual([8, 8, 8, 1]);
    tf.dispose([a, b]);
    disposeTask(task);
    const bad = new SimCLR(tinyEncoder(), { augment: grayscaleAugment({ size: 6 }), projectionDim: 8, seed: 0 });
    expect(() => bad.step(images())).toThrow("SimCLR.views: options.augment must produce views of the encoder's input size [B, 8, 8, 1]");
    disposeTask(bad);
    expect(() => new SimCLR(tinyEncoder(), { augment: 'simclr' as never })).toThrow('SimCLR: options.augment must be a Transform or a [Transform, Transform] pair');
  });

  it('RGB images get the paper preset; a ViT encoder works and is cloned for the target', () => {
    const vit = tinyVit({ imageSize: 8, channels: 3, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
    const moco = new MoCoV2(vit, { projectionDim: 8, queueSize: 16, seed: 0 });
    expect(moco.imageShape).toEqual([8, 8, 3]);
    expect(moco.target.encoder).not.toBe(vit);
    const loss = moco.step(tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D);
    expect(Number.isFinite(loss)).toBe(true);
    moco.dispose();
    expect(vit.isDisposed).toBe(false);
    vit.dispose();
  });

  it('DINO checks that the encoder accepts its local crops', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
    expect(() => new DINO(vit, { localCrops: 2, outputDim: 8 })).toThrow('DINO: options.localCropSize must be a size the encoder accepts');
    expect(() => new DINO(vit, { augment: grayscaleAugment() } as never)).toThrow('DINO: options.augment must be omitted');
    const dino = new DINO(vit, { localCrops: 0, outputDim: 8, hiddenDim: 8, bottleneckDim: 4, seed: 0 });
    expect(Number.isFinite(dino.step(tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D))).toBe(true);
    dino.dispose();
    vit.dispose();
    const grid = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], outputGrid: 2, seed: 0 });
    expect(() => new DINO(grid, { localCrops: 2, localCropSize: 4, outputDim: 8 })).toThrow('DINO: options.localCropSize');
    grid.dispose();
  });
});
