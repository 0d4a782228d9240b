import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maeDecoder, tinyVit, type MaeDecoder, type VisionTransformer } from 'selfsup';
import { sincosPositionalEmbedding, transformerBlock, type BlockParams } from '../../src/heads/transformer.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';

interface VitFixture {
  config: {
    batch: number;
    imageSize: number;
    channels: number;
    patchSize: number;
    dim: number;
    heads: number;
    mlpRatio: number;
    depth: number;
    decoderDim: number;
    decoderHeads: number;
    decoderMlpRatio: number;
  };
  images: number[];
  keepIds: number[];
  encoderWeights: Record<string, number[]>;
  decoderWeights: Record<string, number[]>;
  tokensAll: number[];
  tokensKept: number[];
  prediction: number[];
  sincos: { gridH: number; gridW: number; dim: number; table: number[] };
}

const fx = loadFixture<VitFixture>('heads-vit');
const c = fx.config;

function loadWeights(model: { weightNames: string[]; variables: tf.Variable[]; setWeights(w: tf.Tensor[]): void }, values: Record<string, number[]>): void {
  const tensors = model.weightNames.map((name, i) => {
    const v = values[name];
    if (!v) throw new Error(`fixture lacks ${name}`);
    return tf.tensor(v, model.variables[i]!.shape);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

function fixtureModels(): { vit: VisionTransformer; decoder: MaeDecoder } {
  const vit = tinyVit({
    imageSize: c.imageSize,
    channels: c.channels,
    patchSize: c.patchSize,
    dim: c.dim,
    depth: c.depth,
    heads: c.heads,
    mlpRatio: c.mlpRatio,
    seed: 0,
  });
  const decoder = maeDecoder(vit, { dim: c.decoderDim, depth: 1, heads: c.decoderHeads, mlpRatio: c.decoderMlpRatio, seed: 1 });
  loadWeights(vit, fx.encoderWeights);
  loadWeights(decoder, fx.decoderWeights);
  return { vit, decoder };
}

function smallVit(seed = 0): VisionTransformer {
  return tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 8, depth: 2, heads: 2, mlpRatio: 2, seed });
}

describe('sincosPositionalEmbedding', () => {
  it("matches MAE's get_2d_sincos_pos_embed (non-square grid)", () => {
    const { gridH, gridW, dim, table } = fx.sincos;
    expectClose(sincosPositionalEmbedding(gridH, gridW, dim), table, { atol: 1e-6 });
  });
});

describeBackends('tinyVit and maeDecoder', (backend) => {
  let vit: VisionTransformer;
  let decoder: MaeDecoder;
  let images: tf.Tensor4D;
  let keepIds: tf.Tensor2D;
  beforeAll(() => {
    ({ vit, decoder } = fixtureModels());
    images = tf.tensor4d(fx.images, [c.batch, c.imageSize, c.imageSize, c.channels]);
    keepIds = tf.tensor2d(fx.keepIds, [c.batch, fx.keepIds.length / c.batch], 'int32');
  });
  afterAll(() => {
    vit.dispose();
    decoder.dispose();
    tf.dispose([images, keepIds]);
  });

  it('encodes all patches like torch (LayerNorm, MultiheadAttention, GELU)', () => {
    const tokens = expectNoLeak(() => vit.encode(images));
    expect(tokens.shape).toEqual([c.batch, 1 + (c.imageSize / c.patchSize) ** 2, c.dim]);
    expectClose(tokens, fx.tokensAll, { rtol: 1e-4, atol: 1e-4, label: backend });
    tokens.dispose();
  });

  it('encodes only the kept patches, with their positional embeddings, like torch', () => {
    const tokens = expectNoLeak(() => vit.encode(images, { keepIds }));
    expect(tokens.shape).toEqual([c.batch, 1 + keepIds.shape[1], c.dim]);
    expectClose(tokens, fx.tokensKept, { rtol: 1e-4, atol: 1e-4 });
    tokens.dispose();
  });

  it('decodes visible tokens + mask tokens back to every patch like torch (ids_restore)', () => {
    const pred = expectNoLeak(() => tf.tidy(() => decoder.decode(vit.encode(images, { keepIds }), keepIds)));
    expect(pred.shape).toEqual([c.batch, (c.imageSize / c.patchSize) ** 2, c.patchSize ** 2 * c.channels]);
    expectClose(pred, fx.prediction, { rtol: 1e-4, atol: 1e-4 });
    pred.dispose();
  });

  it('is permutation-equivariant in keepIds, and the decoder does not depend on their order', () => {
    const v = smallVit(3);
    const dec = maeDecoder(v, { dim: 8, depth: 1, heads: 2, seed: 4 });
    const x = tf.tensor4d(Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i)), [2, 8, 8, 1]);
    const ids = tf.tensor2d([[5, 1, 9, 14], [0, 15, 7, 3]], [2, 4], 'int32');
    const permuted = tf.tensor2d([[9, 5, 14, 1], [3, 0, 15, 7]], [2, 4], 'int32');
    const a = v.encode(x, { keepIds: ids });
    const b = v.encode(x, { keepIds: permuted });
    const [a0, a1] = [a.arraySync()[0]!, a.arraySync()[1]!];
    const [b0, b1] = [b.arraySync()[0]!, b.arraySync()[1]!];
    expectClose(b0[0]!, a0[0]!, { atol: 1e-5 }); // class token
    expectClose([b0[1], b0[2], b0[3], b0[4]] as number[][], [a0[3], a0[1], a0[4], a0[2]] as number[][], { atol: 1e-5 });
    expectClose([b1[1], b1[2], b1[3], b1[4]] as number[][], [a1[4], a1[1], a1[2], a1[3]] as number[][], { atol: 1e-5 });
    expectClose(dec.decode(b, permuted), dec.decode(a, ids), { atol: 1e-5 });
    // All ids in row-major order = no masking.
    const all = tf.tensor2d([Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => i)], [2, 16], 'int32');
    expectClose(v.encode(x, { keepIds: all }), v.encode(x), { atol: 1e-5 });
    tf.dispose([x, ids, permuted, a, b, all]);
    v.dispose();
    dec.dispose();
  });

  it('pools the class token or the mean of the patch tokens', () => {
    const x = tf.ones([3, 8, 8, 1]) as tf.Tensor4D;
    const cls = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const mean = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, classToken: false, seed: 0 });
    const tokens = cls.encode(x);
    expectClose(expectNoLeak(() => cls.apply(x)), tf.squeeze(tf.slice(tokens, [0, 0, 0], [-1, 1, -1]), [1]));
    const meanTokens = mean.encode(x);
    expect(meanTokens.shape).toEqual([3, 4, 8]);
    expectClose(mean.apply(x), tf.mean(meanTokens, 1), { atol: 1e-6 });
    tf.dispose([x, tokens, meanTokens]);
    cls.dispose();
    mean.dispose();
  });

  it('trains: every trainable variable gets a finite, non-zero gradient and the loss falls', () => {
    const v = smallVit(1);
    const dec = maeDecoder(v, { dim: 8, depth: 1, heads: 2, positionalEmbedding: 'learned', seed: 2 });
    const x = tf.tensor4d(Array.from({ length: 2 * 64 }, (_, i) => (i % 7) / 7), [2, 8, 8, 1]);
    const ids = tf.tensor2d([[0, 5, 10, 15], [3, 6, 9, 12]], [2, 4], 'int32');
    const vars = [...v.trainableVariables, ...dec.trainableVariables];
    const target = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [2, 4, 2, 4, 2, 1]), [0, 1, 3, 2, 4, 5]), [2, 16, 4]));
    const loss = () => tf.mean(tf.square(tf.sub(dec.decode(v.encode(x, { keepIds: ids }), ids), target))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, vars);
    for (const [name, g] of Object.entries(grads)) {
      expectFinite(g, name);
      expect(tf.max(tf.abs(g)).dataSync()[0], name).toBeGreaterThan(0);
    }
    tf.dispose([value, grads as unknown as tf.Tensor[]]);
    const opt = tf.train.adam(1e-2);
    const first = tf.tidy(() => loss().dataSync()[0]!);
    tf.dispose(opt.minimize(loss, true, vars)!); // creates Adam's moment slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) tf.dispose(opt.minimize(loss, true, vars)!);
    expect(tf.memory().numTensors).toBe(before);
    const last = tf.tidy(() => loss().dataSync()[0]!);
    expect(last).toBeLessThan(first * 0.7);
    opt.dispose();
    tf.dispose([x, ids, target]);
    v.dispose();
    dec.dispose();
  });

  it('has correct gradients through a transformer block (finite differences)', () => {
    const v = tinyVit({ imageSize: 4, channels: 1, patchSize: 2, dim: 4, depth: 1, heads: 2, mlpRatio: 1, seed: 5 });
    const names = v.weightNames;
    const vars = v.variables;
    const at = (name: string) => vars[names.indexOf(`block0.${name}`)]!;
    const block: BlockParams = {
      norm1Gamma: at('norm1.gamma'),
      norm1Beta: at('norm1.beta'),
      qkvKernel: at('qkv.kernel'),
      qkvBias: at('qkv.bias'),
      projKernel: at('proj.kernel'),
      projBias: at('proj.bias'),
      norm2Gamma: at('norm2.gamma'),
      norm2Beta: at('norm2.beta'),
      fc1Kernel: at('fc1.kernel'),
      fc1Bias: at('fc1.bias'),
      fc2Kernel: at('fc2.kernel'),
      fc2Bias: at('fc2.bias'),
    };
    const x = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.cos(i * 1.3)), [2, 3, 4]);
    const r = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i * 0.7)), [2, 3, 4]);
    checkGradients((input, qkv) => tf.sum(tf.mul(transformerBlock(input!, { ...block, qkvKernel: qkv! }, 2, 1e-6), r)) as tf.Scalar, [x, tf.clone(block.qkvKernel)]);
    tf.dispose([x, r]);
    v.dispose();
  });

  it('explains bad input', () => {
    const x = tf.zeros([2, 8, 8, 2]) as tf.Tensor4D;
    expect(() => vit.encode(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D)).toThrow(/VisionTransformer.encode: images must have 2 channels/);
    expect(() => vit.encode(tf.zeros([2, 4, 4, 2]) as tf.Tensor4D)).toThrow(/must have shape \[B, 8, 8, 2\]/);
    const dup = tf.tensor2d([[1, 1], [0, 2]], [2, 2], 'int32');
    expect(() => vit.encode(x, { keepIds: dup })).toThrow(/options.keepIds must hold distinct indices in each row, got 1 twice in row 0/);
    const out = tf.tensor2d([[1, 4], [0, 2]], [2, 2], 'int32');
    expect(() => vit.encode(x, { keepIds: out })).toThrow(/hold patch indices in \[0, 3\], got 4 in row 0/);
    const float = tf.tensor2d([[1, 2], [0, 2]], [2, 2]);
    expect(() => vit.encode(x, { keepIds: float as tf.Tensor2D })).toThrow(/must have dtype int32/);
    const wrongTokens = tf.zeros([2, 4, c.dim]) as tf.Tensor3D;
    expect(() => decoder.decode(wrongTokens, keepIds)).toThrow(/MaeDecoder.decode: encoded must have T = 3 tokens/);
    expect(() => tinyVit({ imageSize: 10, patchSize: 4 })).toThrow(/tinyVit: options.patchSize must divide the image size \[10, 10\], got 4/);
    expect(() => tinyVit({ imageSize: 8, dim: 10, heads: 4 })).toThrow(/options.heads must divide options.dim \(10\)/);
    expect(() => tinyVit({ imageSize: 8, classToken: false, pool: 'cls' })).toThrow(/pool must be 'mean' when classToken is false/);
    expect(() => tinyVit({ imageSize: 8, depht: 2 } as never)).toThrow(/options.depht must be one of the known options/);
    expect(() => maeDecoder({} as VisionTransformer)).toThrow(/maeDecoder: encoder must be a VisionTransformer/);
    tf.dispose([x, dup, out, float, wrongTokens]);
  });
});

describe('tinyVit seeding and lifecycle', () => {
  it('the same seed gives the same weights on cpu and wasm; another seed differs', async () => {
    const weights = await onEachBackend(() => {
      const v = smallVit(7);
      const w = v.getWeights().map((t) => Array.from(t.dataSync()));
      v.dispose();
      return w.flat();
    });
    expect(weights.wasm).toEqual(weights.cpu);
    const other = smallVit(8);
    const w8 = other.getWeights();
    expect(Array.from(w8[0]!.dataSync())).not.toEqual(weights.cpu.slice(0, w8[0]!.size));
    tf.dispose(w8);
    other.dispose();
  });

  it('dispose frees every variable; sincos positions are fixed', () => {
    const before = tf.memory().numTensors;
    const v = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, positionalEmbedding: 'sincos', seed: 0 });
    expect(v.variables.length).toBe(v.trainableVariables.length + 1);
    expect(v.numParameters).toBeGreaterThan(0);
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => v.apply(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(/not be disposed/);
  });
});
