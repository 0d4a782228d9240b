/**
 * The ViT methods of issue 14 — DINOv2, I-JEPA, and MSN / PMSN on a ViT — on the
 * `step(images)` contract: finite steps without leaks, seeded
 * reproducibility, training, errors before allocation, idempotent dispose,
 * and each method's state (centers, mask token, EMA targets, prototypes).
 * MSN and PMSN on a non-ViT encoder run the shared battery of
 * joint-embedding.test.ts (tests/tasks/methods.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  convEncoder,
  DINOv2,
  IJEPA,
  jepaPredictor,
  MSN,
  PMSN,
  tinyVit,
  useBackend,
  type JointEmbeddingTask,
  type VisionTransformer,
} from 'selfsup';
import { jepaTargets } from '../../src/tasks/ijepa.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectClose } from '../helpers/numerics.js';
import { weightsOf } from './methods.js';

const vit = (seed = 0, classToken = true) =>
  tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, classToken, pool: classToken ? 'cls' : 'mean', seed });
const images = () => tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 7) as tf.Tensor4D;

/** I-JEPA's masks on the 4×4 grid of these tiny ViTs: 2 targets of 3–4 patches. */
const SMALL_GRID_MASKS = { numTargets: 2, targetScale: [0.2, 0.3] as [number, number], minKeep: 1 };

interface VitMethod {
  name: string;
  classToken: boolean;
  make(encoder: VisionTransformer, extra?: Record<string, unknown>): JointEmbeddingTask;
}

const VIT_METHODS: VitMethod[] = [
  {
    name: 'DINOv2',
    classToken: true,
    make: (e, x = {}) => new DINOv2(e, { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, totalSteps: 50, seed: 1, ...x }),
  },
  { name: 'IJEPA', classToken: false, make: (e, x = {}) => new IJEPA(e, { masks: SMALL_GRID_MASKS, totalSteps: 50, seed: 1, ...x }) },
  { name: 'MSN', classToken: true, make: (e, x = {}) => new MSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.3, seed: 1, ...x }) },
  { name: 'PMSN', classToken: true, make: (e, x = {}) => new PMSN(e, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.3, seed: 1, ...x }) },
];

function disposeAll(task: JointEmbeddingTask): void {
  task.dispose();
  (task.encoder as VisionTransformer).dispose();
}

describeBackends('ViT methods', () => {
  for (const method of VIT_METHODS) {
    describe(method.name, () => {
      it('steps with a finite loss, counts steps, embeds, leaks nothing, and dispose is idempotent', () => {
        const task = method.make(vit(0, method.classToken));
        const x = images();
        expect(Number.isFinite(task.step(x))).toBe(true);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) expect(Number.isFinite(task.step(x))).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        expect(task.steps).toBe(4);
        expect(task.name).toBe(method.name);
        const features = task.embed(x);
        expect(features.shape).toEqual([6, 8]);
        features.dispose();
        const live = tf.memory().numTensors;
        task.dispose();
        const after = tf.memory().numTensors;
        expect(after).toBeLessThan(live);
        task.dispose();
        expect(tf.memory().numTensors).toBe(after);
        (task.encoder as VisionTransformer).dispose();
        x.dispose();
      });

      it('the same seed reproduces the run exactly, and training moves the encoder', () => {
        const run = () => {
          const task = method.make(vit(3, method.classToken));
          const x = images();
          const start = weightsOf(task.encoder);
          const losses = [0, 1, 2].map(() => task.step(x));
          const weights = weightsOf(task.encoder);
          disposeAll(task);
          x.dispose();
          return { losses, weights, start };
        };
        const a = run();
        const b = run();
        expect(b.losses).toEqual(a.losses);
        expect(b.weights).toEqual(a.weights);
        expect(a.weights).not.toEqual(a.start);
      });

      it('trains with a user optimizer and leaves it alive; explains bad images and encoders', () => {
        const optimizer = tf.train.sgd(0.05);
        const task = method.make(vit(0, method.classToken), { optimizer });
        const before = weightsOf(task.encoder);
        const x = images();
        task.step(x);
        expect(weightsOf(task.encoder)).not.toEqual(before);
        const bad = [tf.zeros([4, 8, 8]), tf.fill([4, 8, 8, 1], 3)];
        expect(() => task.step(bad[0] as never)).toThrow(`${method.name}.step: images must be a rank-4 tensor`);
        // The photometric augmentations check the value range (I-JEPA, like DINO's test crops, has only a crop).
        if (method.name !== 'IJEPA') expect(() => task.step(bad[1] as tf.Tensor4D)).toThrow(/in \[0, 1\]/);
        expect(() => method.make({} as never)).toThrow(`${method.name}: encoder must be`);
        disposeAll(task);
        // The method never disposes an optimizer it was given.
        const v = tf.variable(tf.scalar(1));
        optimizer.minimize(() => tf.square(v) as tf.Scalar, false, [v]);
        optimizer.dispose();
        tf.dispose([v, x, ...bad]);
      });

      it('refuses bad options before allocating anything', () => {
        const encoder = vit(0, method.classToken);
        const count = tf.memory().numTensors;
        expect(() => method.make(encoder, { temprature: 0.1 })).toThrow(`${method.name}: options.temprature must be one of the known options`);
        expect(() => method.make(encoder, { learningRate: -1 })).toThrow(`${method.name}: options.learningRate must be`);
        expect(tf.memory().numTensors).toBe(count);
        const task = method.make(encoder);
        expect(() => task.step(tf.zeros([4, 6, 6, 1]) as tf.Tensor4D)).toThrow(`${method.name}.step: images must have shape [B, 8, 8, 1]`);
        disposeAll(task);
      });
    });
  }
});

describeBackends('DINOv2', () => {
  it('needs a ViT with a class token, and checks its own options before allocating', () => {
    const conv = convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 0 });
    expect(() => new DINOv2(conv as never)).toThrow('DINOv2: encoder must be a VisionTransformer with a class token');
    conv.dispose();
    const noCls = vit(0, false);
    expect(() => new DINOv2(noCls)).toThrow('DINOv2: encoder must be a VisionTransformer with a class token');
    noCls.dispose();
    const v = vit();
    const count = tf.memory().numTensors;
    expect(() => new DINOv2(v, { centering: 'sinkhorn' as never })).toThrow("DINOv2: options.centering must be one of 'center', 'sinkhornKnopp'");
    expect(() => new DINOv2(v, { maskRatio: [0.6, 0.2] })).toThrow('DINOv2: options.maskRatio must be a [min, max] pair');
    expect(() => new DINOv2(v, { dinoWeight: 0, ibotWeight: 0, koleoWeight: 0 })).toThrow('DINOv2: options.dinoWeight must leave at least one');
    expect(() => new DINOv2(v, { localCrops: 2 })).toThrow('DINOv2: options.localCropSize must be a size the encoder accepts');
    expect(() => new DINOv2(v, { augment: {} } as never)).toThrow('DINOv2: options.augment must be omitted');
    expect(() => new DINOv2(v, { momentum: 2 })).toThrow('DINOv2: options.momentum must be a number in [0, 1], got 2');
    expect(() => new DINOv2(v, { teacherTemperature: 0 })).toThrow('DINOv2: options.teacherTemperature must be');
    expect(tf.memory().numTensors).toBe(count);
    v.dispose();
  });

  it('pieces: teacher outputs per crop and masked patch, three finite terms, centers follow the teacher, EMA', () => {
    const task = new DINOv2(vit(), { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, centerMomentum: 0.5, momentum: 0.5, seed: 2 });
    const x = images();
    const crops = task.crops(x, 1);
    const masks = task.sampleMasks(12, 2);
    const masked = tf.sum(masks).dataSync()[0]!;
    expect(masked).toBeGreaterThan(0);
    const teacher = task.teacherOutput(crops.global, masks);
    expect(teacher.classTokens.shape).toEqual([12, 16]);
    expect(teacher.patchTokens.shape).toEqual([masked, 16]);
    const terms = task.computeTerms(crops, masks, teacher);
    for (const t of [terms.dino, terms.ibot, terms.koleo]) expect(Number.isFinite(t.dataSync()[0]!)).toBe(true);
    const expected = tf.tidy(() => [tf.mul(0.5, tf.mean(teacher.classTokens, 0, true)), tf.mul(0.5, tf.mean(teacher.patchTokens, 0, true))]);
    task.updateCenters(teacher);
    expectClose(task.center, expected[0]!, { atol: 1e-6 });
    expectClose(task.patchCenter, expected[1]!, { atol: 1e-6 });
    const teacherBefore = weightsOf(task.target.encoder);
    task.step(x);
    expect(weightsOf(task.target.encoder)).not.toEqual(teacherBefore);
    tf.dispose([...crops.global, masks, teacher.classTokens, teacher.patchTokens, terms.dino, terms.ibot, terms.koleo, ...expected, x]);
    disposeAll(task);
  });

  it("trains the mask token; Sinkhorn–Knopp centring leaves the centers at zero; ibotWeight 0 is DINO + KoLeo", () => {
    const x = images();
    const task = new DINOv2(vit(), { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, centering: 'sinkhornKnopp', maskProbability: 1, seed: 2 });
    const token0 = Array.from(task.maskToken.dataSync());
    task.step(x);
    task.step(x);
    expect(Array.from(task.maskToken.dataSync())).not.toEqual(token0);
    expect(tf.sum(tf.abs(task.center)).dataSync()[0]).toBe(0);
    expect(tf.sum(tf.abs(task.patchCenter)).dataSync()[0]).toBe(0);
    disposeAll(task);
    const noIbot = new DINOv2(vit(), { outputDim: 16, hiddenDim: 16, bottleneckDim: 8, ibotWeight: 0, seed: 2 });
    expect(Number.isFinite(noIbot.step(x))).toBe(true);
    disposeAll(noIbot);
    x.dispose();
  });
});

interface TargetsFixture {
  tokens: number[][][];
  targetIds: number[][][];
  targets: number[][][];
}

describeBackends('IJEPA', () => {
  it("computes the targets as I-JEPA's forward_target: layer norm without affine, then the target blocks", () => {
    const fx = loadFixture<{ targets: TargetsFixture }>('ijepa').targets;
    const tokens = tf.tensor3d(fx.tokens);
    const ids = tf.tensor3d(fx.targetIds, undefined, 'int32');
    const out = jepaTargets(tokens, ids);
    expectClose(out, fx.targets, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([tokens, ids, out]);
  });

  it('pieces: masks, targets and predictions have matching shapes; the target moves by EMA only', () => {
    const task = new IJEPA(vit(0, false), { masks: SMALL_GRID_MASKS, momentum: 0.5, seed: 4 });
    const x = images();
    const view = task.view(x, 1);
    const masks = task.sampleMasks(6, 2);
    const [m, b, kt] = masks.targetIds.shape;
    expect([m, b]).toEqual([2, 6]);
    const targets = task.computeTargets(view, masks);
    expect(targets.shape).toEqual([m * b, kt, 8]);
    const pred = task.predict(view, masks);
    expect(pred.shape).toEqual(targets.shape);
    const before = weightsOf(task.target.encoder);
    expect(before).toEqual(weightsOf(task.encoder));
    task.step(x);
    task.step(x);
    const after = weightsOf(task.target.encoder);
    expect(after).not.toEqual(before);
    expect(after).not.toEqual(weightsOf(task.encoder));
    tf.dispose([view, masks.contextIds, masks.targetIds, targets, pred, x]);
    disposeAll(task);
  });

  it('works with a class token (dropped before the predictor) and a given predictor, which it does not dispose', () => {
    const encoder = vit(1, true);
    const predictor = jepaPredictor(encoder, { dim: 4, depth: 1, heads: 2, seed: 0 });
    const task = new IJEPA(encoder, { predictor, distance: 'smoothL1', masks: SMALL_GRID_MASKS, seed: 0 });
    const x = images();
    expect(Number.isFinite(task.step(x))).toBe(true);
    task.dispose();
    expect(predictor.isDisposed).toBe(false);
    predictor.dispose();
    encoder.dispose();
    x.dispose();
  });

  it('explains bad input before allocating', () => {
    const encoder = vit(0, false);
    const count = tf.memory().numTensors;
    expect(() => new IJEPA({} as never)).toThrow('IJEPA: encoder must be a VisionTransformer made by tinyVit');
    expect(() => new IJEPA(encoder)).toThrow(
      "IJEPA: options.masks must be valid multiBlockMask options for the encoder’s grid, got multiBlockMask: options.targetScale must give target blocks of more than minKeep = 4 patches on a 4×4 grid",
    );
    expect(() => new IJEPA(encoder, { masks: { seed: 1 } as never })).toThrow('IJEPA: options.masks.seed must be one of the known options');
    expect(() => new IJEPA(encoder, { masks: SMALL_GRID_MASKS, distance: 'l1' as never })).toThrow("IJEPA: options.distance must be one of 'l2', 'smoothL1'");
    expect(() => new IJEPA(encoder, { masks: SMALL_GRID_MASKS, momentum: 2 })).toThrow('IJEPA: options.momentum must be a number in [0, 1], got 2');
    const other = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const wrong = jepaPredictor(other, { dim: 4, heads: 2 });
    expect(() => new IJEPA(encoder, { masks: SMALL_GRID_MASKS, predictor: wrong })).toThrow('IJEPA: options.predictor must be a JepaPredictor made by jepaPredictor(encoder)');
    wrong.dispose();
    other.dispose();
    expect(tf.memory().numTensors).toBe(count);
    encoder.dispose();
  });
});

describeBackends('MSN and PMSN', () => {
  it('on a ViT the anchor drops patches; on a conv net it zeroes pixel patches; prototypes train', () => {
    const x = images();
    const task = new MSN(vit(), { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.5, seed: 0 });
    const a = task.anchorFeatures(x, 3);
    const b = task.anchorFeatures(x, 4);
    expect(a.shape).toEqual([6, 8]);
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync())); // different masks
    const p0 = Array.from(task.prototypes.dataSync());
    task.step(x);
    expect(Array.from(task.prototypes.dataSync())).not.toEqual(p0);
    tf.dispose([a, b]);
    disposeAll(task);
    const conv = convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 0 });
    const pixel = new MSN(conv, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, maskRatio: 0.5, maskPatchSize: 2, seed: 0 });
    const c = pixel.anchorFeatures(x, 3);
    expect(c.shape[0]).toBe(6);
    c.dispose();
    pixel.dispose();
    expect(() => new MSN(conv, { maskPatchSize: 3 })).toThrow('MSN: options.maskPatchSize must divide the image size 8×8');
    conv.dispose();
    x.dispose();
  });

  it("PMSN is MSN with the power-law prior; a custom prior must have K entries", () => {
    const v = vit();
    const pmsn = new PMSN(v, { numPrototypes: 8, projectionDim: 8, hiddenDim: 16, seed: 0 });
    expect(pmsn.name).toBe('PMSN');
    expect(pmsn.lossOptions.prior).toBe('powerLaw');
    pmsn.dispose();
    const count = tf.memory().numTensors;
    expect(() => new PMSN(v, { numPrototypes: 8, prior: tf.ones([4]) as tf.Tensor1D })).toThrow('PMSN: options.prior must be a [8] tensor');
    expect(tf.memory().numTensors).toBe(count + 1); // only the prior the test made
    expect(() => new MSN(v, { maskRatio: 1 })).toThrow('MSN: options.maskRatio must be a number in [0, 1)');
    expect(() => new MSN(v, { momentum: -1 })).toThrow('MSN: options.momentum must be a number in [0, 1], got -1');
    expect(tf.memory().numTensors).toBe(count + 1);
    v.dispose();
  });
});

describe('ViT methods: 300 steps without a leak', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  for (const method of VIT_METHODS) {
    it(method.name, () => {
      const task = method.make(vit(0, method.classToken));
      const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      task.step(x);
      const before = tf.memory().numTensors;
      for (let i = 1; i < 300; i++) task.step(x);
      expect(tf.memory().numTensors).toBe(before);
      expect(task.steps).toBe(300);
      disposeAll(task);
      x.dispose();
    });
  }
});
