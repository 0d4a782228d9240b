/**
 * The ViT pieces of DINOv2, MSN and I-JEPA: the mask token of
 * `encode(images, { mask, maskToken })`, `poolTokens`, and I-JEPA's predictor
 * against the official VisionTransformerPredictor (tests/fixtures/ijepa.json,
 * scripts/fixtures/ijepa.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { jepaPredictor, tinyVit, type JepaPredictor } from 'selfsup';
import { sincosPositionalEmbedding } from '../../src/heads/transformer.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectNoLeak } from '../helpers/numerics.js';

interface PredictorFixture {
  config: { grid: [number, number]; encoderDim: number; dim: number; depth: number; heads: number; layerNormEps: number };
  weights: Record<string, number[] | number[][]>;
  context: number[][][];
  contextIds: number[][];
  targetIds: number[][][];
  output: number[][][];
  outputWeights: number[][][];
  contextGradient: number[][][];
}
const fx = loadFixture<{ predictor: PredictorFixture }>('ijepa').predictor;

function fixturePredictor(): JepaPredictor {
  const c = fx.config;
  const encoder = tinyVit({ imageSize: c.grid[0] * 2, channels: 1, patchSize: 2, dim: c.encoderDim, depth: 1, heads: 2, classToken: false, seed: 0 });
  const predictor = jepaPredictor(encoder, { dim: c.dim, depth: c.depth, heads: c.heads, layerNormEps: c.layerNormEps, seed: 1 });
  encoder.dispose();
  const tensors = predictor.weightNames.map((name, i) => {
    const v = fx.weights[name];
    if (!v) throw new Error(`fixture lacks ${name}`);
    return tf.tensor(v as number[], predictor.variables[i]!.shape);
  });
  predictor.setWeights(tensors);
  tf.dispose(tensors);
  return predictor;
}

describeBackends('jepaPredictor', () => {
  it("predicts like I-JEPA's VisionTransformerPredictor (context repeated per target block), gradient included", () => {
    const predictor = fixturePredictor();
    const m = fx.targetIds.length;
    const context = tf.tensor3d(fx.context);
    const ids = tf.tensor2d(fx.contextIds, undefined, 'int32');
    const targets = tf.tensor2d(fx.targetIds.flat(), undefined, 'int32');
    const run = (x: tf.Tensor) =>
      predictor.predict(tf.tile(x, [m, 1, 1]) as tf.Tensor3D, tf.tile(ids, [m, 1]) as tf.Tensor2D, targets);
    const out = expectNoLeak(() => tf.tidy(() => run(context)));
    expectClose(out, fx.output, { rtol: 1e-4, atol: 1e-4 });
    const weights = tf.tensor3d(fx.outputWeights);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(run(x), weights)))(context);
    expectClose(grad, fx.contextGradient, { rtol: 1e-3, atol: 1e-4 });
    // I-JEPA's sine-cosine table is MAE's.
    expectClose(tf.tensor(fx.weights.posEmbed as number[][]), sincosPositionalEmbedding(fx.config.grid[0], fx.config.grid[1], fx.config.dim), { atol: 1e-6 });
    tf.dispose([context, ids, targets, out, weights, grad]);
    predictor.dispose();
  });

  it('trains: the mask token, blocks and projections get finite-difference-exact gradients', () => {
    const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, classToken: false, seed: 0 });
    const predictor = jepaPredictor(encoder, { dim: 4, depth: 1, heads: 2, seed: 3 });
    expect(predictor.dim).toBe(4);
    const context = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 4) as tf.Tensor3D;
    const ids = tf.tensor2d([[0, 5, 9], [1, 2, 3]], undefined, 'int32');
    const targets = tf.tensor2d([[10, 11], [14, 15]], undefined, 'int32');
    checkGradients((x) => tf.sum(tf.square(predictor.predict(x as tf.Tensor3D, ids, targets))) as tf.Scalar, [context], { step: 1e-2, rtol: 3e-2, atol: 3e-3 });
    const { grads: g } = tf.variableGrads(() => tf.sum(tf.square(predictor.predict(context, ids, targets))) as tf.Scalar, predictor.trainableVariables);
    expect(Object.keys(g).length).toBe(predictor.trainableVariables.length);
    tf.dispose([context, ids, targets, ...Object.values(g)]);
    predictor.dispose();
    encoder.dispose();
  });

  it('explains bad input', () => {
    const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 1, heads: 2, classToken: false, seed: 0 });
    const predictor = jepaPredictor(encoder, { dim: 4, depth: 1, heads: 2, seed: 3 });
    const ids = tf.tensor2d([[0, 5]], undefined, 'int32');
    expect(() => predictor.predict(tf.zeros([1, 2, 7]) as tf.Tensor3D, ids, ids)).toThrow('JepaPredictor.predict: context must have D = 8');
    expect(() => predictor.predict(tf.zeros([1, 3, 8]) as tf.Tensor3D, ids, ids)).toThrow('JepaPredictor.predict: contextIds must have one id per context token: [1, 3]');
    expect(() => predictor.predict(tf.zeros([1, 2, 8]) as tf.Tensor3D, ids, tf.tensor2d([[16]], undefined, 'int32'))).toThrow('JepaPredictor.predict: targetIds must hold patch indices in [0, 15]');
    expect(() => jepaPredictor(encoder, { dim: 6 })).toThrow('jepaPredictor: options.dim must be a multiple of 4');
    expect(() => jepaPredictor(encoder, { dim: 8, heads: 3 })).toThrow('jepaPredictor: options.heads must divide options.dim (8)');
    expect(() => jepaPredictor({} as never)).toThrow('jepaPredictor: encoder must be a VisionTransformer made by tinyVit');
    expect(() => jepaPredictor(encoder, { seed: -1 })).toThrow('jepaPredictor: options.seed must be an integer in [0, 2^32) or an Rng, got -1');
    expect(() => jepaPredictor(encoder, { dim: 4 * 2 ** 27 })).toThrow(/^jepaPredictor: options\.dim /);
    predictor.dispose();
    expect(() => predictor.predict(tf.zeros([1, 2, 8]) as tf.Tensor3D, ids, ids)).toThrow('JepaPredictor.predict: this must not be disposed');
    encoder.dispose();
    ids.dispose();
  });
});

describeBackends('VisionTransformer mask tokens and poolTokens', () => {
  const vit = () => tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 2 });

  it('a masked patch enters as the mask token at its position: the same as pixels whose embedding is that token', () => {
    const v = vit();
    const [kernel, bias] = v.getWeights();
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const replacement = tf.randomUniform([16], 0, 1, 'float32', 6);
    const token = tf.reshape(tf.add(tf.matMul(tf.reshape(replacement, [1, 16]), kernel as tf.Tensor2D), bias!), [8]) as tf.Tensor1D;
    const mask = tf.tensor2d([[0, 1, 0, 0], [1, 0, 0, 1]]);
    const masked = expectNoLeak(() => v.encode(images, { mask, maskToken: token }));
    // The same images with those patches' pixels replaced (patch = 4×4, row-major).
    const pixels = images.arraySync() as number[][][][];
    const rep = replacement.arraySync() as number[];
    (mask.arraySync() as number[][]).forEach((row, b) =>
      row.forEach((m, p) => {
        if (!m) return;
        const [pr, pc] = [Math.floor(p / 2), p % 2];
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) pixels[b]![pr * 4 + i]![pc * 4 + j]![0] = rep[i * 4 + j]!;
      }),
    );
    const edited = tf.tensor4d(pixels);
    const expected = v.encode(edited);
    expectClose(masked, expected, { rtol: 1e-4, atol: 1e-5 });
    // An all-zero mask changes nothing; the token gets a gradient.
    const plain = v.encode(images);
    const unmasked = v.encode(images, { mask: tf.zeros([2, 4]) as tf.Tensor2D, maskToken: token });
    expectClose(unmasked, plain, { rtol: 0, atol: 1e-6 });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(v.encode(images, { mask, maskToken: t as tf.Tensor1D }))))(token);
    expect(Math.max(...Array.from(tf.abs(g).dataSync()))).toBeGreaterThan(0);
    tf.dispose([kernel!, bias!, images, replacement, token, mask, masked, edited, expected, plain, unmasked, g]);
    v.dispose();
  });

  it('poolTokens pools like apply, also over kept tokens only', () => {
    for (const classToken of [true, false]) {
      const v = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, classToken, seed: 2 });
      const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
      const a = v.apply(images);
      const b = expectNoLeak(() => tf.tidy(() => v.poolTokens(v.encode(images))));
      expectClose(b, a, { rtol: 0, atol: 0 });
      const keep = tf.tensor2d([[0, 3], [2, 1]], undefined, 'int32');
      expect(v.poolTokens(v.encode(images, { keepIds: keep })).shape).toEqual([2, 8]);
      expect(() => v.poolTokens(tf.zeros([2, 3, 7]) as tf.Tensor3D)).toThrow('VisionTransformer.poolTokens: tokens must have D = 8');
      tf.dispose([images, a, b, keep]);
      v.dispose();
    }
  });

  it('explains bad masks', () => {
    const v = vit();
    const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const token = tf.zeros([8]) as tf.Tensor1D;
    const mask = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => v.encode(images, { mask })).toThrow('VisionTransformer.encode: options.maskToken must be given together with the other');
    expect(() => v.encode(images, { mask: tf.zeros([2, 5]) as tf.Tensor2D, maskToken: token })).toThrow('VisionTransformer.encode: options.mask must have shape [B, L] = [2, 4], got [2, 5]');
    expect(() => v.encode(images, { mask, maskToken: tf.zeros([4]) as tf.Tensor1D })).toThrow('VisionTransformer.encode: options.maskToken must have shape [D] = [8], got [4]');
    expect(() => v.encode(images, { mask: tf.fill([2, 4], 2) as tf.Tensor2D, maskToken: token })).toThrow('VisionTransformer.encode: options.mask must have values in [0, 1]');
    expect(() => v.encode(images, { mask, maskToken: token, keepIds: tf.tensor2d([[0], [1]], undefined, 'int32') })).toThrow(
      'VisionTransformer.encode: options.mask must not be combined with options.keepIds',
    );
    tf.dispose([images, token, mask]);
    v.dispose();
  });
});
