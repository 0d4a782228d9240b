import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { dinoHead, l2NormalizeLayer, prototypeLayer, registerHeadsLayers, weightNormDense } from 'selfsup';
import { weightNormMatMul } from '../../src/heads/weight-norm-dense.js';
import { describeBackends } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = JSON.parse(JSON.stringify({ ...artifacts, weightData: undefined })) as tf.io.ModelArtifacts;
      saved.weightData = artifacts.weightData;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

const columnNorms = (w: tf.Tensor) => tf.sqrt(tf.sum(tf.square(w), 0));

describe('registerHeadsLayers', () => {
  it('importing selfsup registers nothing; the builders and registerHeadsLayers do, idempotently', () => {
    const registered = () => Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).filter((n) => n.startsWith('Selfsup'));
    expect(registered()).toEqual([]);
    expect(registerHeadsLayers()).toEqual(['SelfsupL2Normalize', 'SelfsupPrototypes', 'SelfsupWeightNormDense', 'SelfsupBagOfTokens']);
    expect(registerHeadsLayers()).toEqual(['SelfsupL2Normalize', 'SelfsupPrototypes', 'SelfsupWeightNormDense', 'SelfsupBagOfTokens']);
  });
});

describeBackends('custom layers', (backend) => {
  it('l2NormalizeLayer: unit rows, zero rows stay zero with a finite gradient', () => {
    const layer = l2NormalizeLayer();
    const x = tf.tensor2d([[3, 4], [0, 0], [1e4, -1e4]]);
    const y = expectNoLeak(() => layer.apply(x) as tf.Tensor);
    expectClose(y, [[0.6, 0.8], [0, 0], [Math.SQRT1_2, -Math.SQRT1_2]], { atol: 1e-6 });
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v) as tf.Tensor, tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))(x);
    expectFinite(g);
    tf.dispose([x, y, g]);
    expect(() => l2NormalizeLayer({ eps: 0 })).toThrow('l2NormalizeLayer: options.eps must be a finite number > 0, got 0');
  });

  it('prototypeLayer: scores = z·C with unit-norm prototypes; normalizeWeights restores unit norm in place', () => {
    const layer = prototypeLayer({ numPrototypes: 5, seed: 3 });
    const z = tf.tensor2d(Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i)), [4, 6]);
    layer.build([null, 6]); // creates the weights (the first apply would too)
    const scores = expectNoLeak(() => layer.apply(z) as tf.Tensor);
    expect(scores.shape).toEqual([4, 5]);
    expectClose(columnNorms(layer.prototypes()), tf.ones([5]), { atol: 1e-6 });
    expectClose(scores, tf.matMul(z, layer.prototypes()), { atol: 1e-6 });
    // An optimizer step moves the prototypes off the sphere; normalizeWeights puts them back.
    const opt = tf.train.sgd(0.5);
    opt.minimize(() => tf.sum(layer.apply(z) as tf.Tensor) as tf.Scalar, false, [layer.prototypes() as tf.Variable]);
    expect(Math.abs(columnNorms(layer.prototypes()).dataSync()[0]! - 1)).toBeGreaterThan(1e-3);
    const live = layer.prototypes();
    expectNoLeak(() => layer.normalizeWeights());
    expect(layer.prototypes()).toBe(live);
    expectClose(columnNorms(layer.prototypes()), tf.ones([5]), { atol: 1e-6 });
    // Works on [B, T, D] too.
    expect((layer.apply(tf.zeros([2, 3, 6])) as tf.Tensor).shape).toEqual([2, 3, 5]);
    tf.dispose([z, scores]);
    expect(() => prototypeLayer({ numPrototypes: 0 })).toThrow('prototypeLayer: options.numPrototypes must be an integer ≥ 1, got 0');
  });

  it('weightNormDense: y = x·(g·v/‖v‖); frozen norm keeps g out of the trainable weights', () => {
    const frozen = weightNormDense({ units: 3, seed: 1 });
    const x = tf.tensor2d(Array.from({ length: 2 * 4 }, (_, i) => Math.cos(i)), [2, 4]);
    frozen.build([null, 4]);
    const y = expectNoLeak(() => frozen.apply(x) as tf.Tensor);
    const [v] = frozen.getWeights();
    expectClose(y, tf.matMul(x, tf.div(v!, columnNorms(v!))), { atol: 1e-5 });
    expect(frozen.trainableWeights.map((w) => w.originalName)).toEqual([expect.stringMatching(/kernel_v$/)]);
    expectClose(columnNorms(frozen.effectiveKernel()), tf.ones([3]), { atol: 1e-6 });
    const learned = weightNormDense({ units: 3, frozenNorm: false, seed: 1 });
    learned.apply(x);
    expect(learned.trainableWeights.length).toBe(2);
    tf.dispose([x, y]);
    expect(() => weightNormDense({ units: 3, frozenNorm: 1 as never })).toThrow(/options.frozenNorm must be one of true, false, got 1/);
  });

  it('weightNormMatMul has correct gradients in x, v and g (finite differences)', () => {
    const x = tf.tensor2d(Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i * 0.9)), [3, 4]);
    const v = tf.tensor2d(Array.from({ length: 4 * 2 }, (_, i) => Math.cos(i * 1.7) + 0.3), [4, 2]);
    const g = tf.tensor1d([0.7, 1.3]);
    const r = tf.tensor2d(Array.from({ length: 3 * 2 }, (_, i) => i - 2.5), [3, 2]);
    checkGradients((a, b, c) => tf.sum(tf.mul(weightNormMatMul(a!, b!, c!), r)) as tf.Scalar, [x, v, g]);
    tf.dispose([x, v, g, r]);
  });

  it(`serialises: a model with every custom layer saves and loads with identical outputs [${backend}]`, async () => {
    const head = dinoHead({ inputDim: 6, hiddenDim: 8, bottleneckDim: 4, outputDim: 7, normLastLayer: false, seed: 2 });
    const model = tfl.sequential({
      layers: [...head.layers, prototypeLayer({ numPrototypes: 3, seed: 5, name: 'protos' })],
    });
    const x = tf.tensor2d(Array.from({ length: 2 * 6 }, (_, i) => Math.sin(i + 1)), [2, 6]);
    const loaded = await roundTrip(model);
    expect(loaded.layers.map((l) => l.getClassName()).slice(-3)).toEqual(['SelfsupL2Normalize', 'SelfsupWeightNormDense', 'SelfsupPrototypes']);
    expect(loaded.layers.at(-2)!.getConfig()).toMatchObject({ units: 7, frozenNorm: false });
    expectClose(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, { atol: 1e-6 });
    const fromJson = await tfl.models.modelFromJSON(model.toJSON(null, false) as never);
    expect(fromJson.layers.length).toBe(model.layers.length);
    x.dispose();
  });

  it('dinoHead: MLP → L2 norm → weight-normalised layer; trains without leaking', () => {
    const head = dinoHead({ inputDim: 6, hiddenDim: 8, bottleneckDim: 4, outputDim: 10, seed: 0 });
    expect(head.layers.map((l) => l.getClassName())).toEqual([
      'Dense',
      'Activation',
      'Dense',
      'Activation',
      'Dense',
      'SelfsupL2Normalize',
      'SelfsupWeightNormDense',
    ]);
    expect(head.layers[1]!.getConfig().activation).toBe('gelu');
    // With a frozen norm every logit is a cosine similarity, so |logit| ≤ 1.
    const x = tf.tensor2d(Array.from({ length: 8 * 6 }, (_, i) => 3 * Math.sin(i)), [8, 6]);
    const logits = head.apply(x) as tf.Tensor;
    expect(tf.max(tf.abs(logits)).dataSync()[0]!).toBeLessThanOrEqual(1 + 1e-5);
    const vars = head.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = tf.train.adam(0.01);
    const loss = () => tf.neg(tf.mean(tf.logSoftmax(tf.mul(head.apply(x) as tf.Tensor, 10)))) as tf.Scalar;
    tf.dispose(opt.minimize(loss, true, vars)!);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(opt.minimize(loss, true, vars)!);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose([x, logits]);
    expect(head.layers.length).toBe(7);
    expect(dinoHead({ inputDim: 6, numLayers: 1, outputDim: 5, bottleneckDim: 4 }).layers.length).toBe(3);
  });
});
