import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { InvalidArgumentError, ShapeError, ValueRangeError } from '../core/errors.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertPositive,
  assertRank,
  formatShape,
} from '../core/validate.js';
import { kernelValues, truncatedNormalArray } from './init.js';
import {
  assertPatchIds,
  createBlock,
  layerNorm,
  linear,
  StoredWeightsModel,
  selectionMatrix,
  sincosPositionalEmbedding,
  transformerBlock,
  type BlockParams,
} from './transformer.js';
import { VisionTransformer } from './vit.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link maeDecoder}. */
export interface MaeDecoderOptions {
  /**
   * Decoder token width (MAE: 512 for a 768/1024-wide encoder).
   * @default 32
   */
  dim?: number;
  /**
   * Number of decoder blocks (MAE: 8; its paper shows 1 block already works).
   * @default 2
   */
  depth?: number;
  /**
   * Attention heads per block.
   * @default 4
   */
  heads?: number;
  /**
   * Hidden width of each block's MLP, as a multiple of the width.
   * @default 4
   */
  mlpRatio?: number;
  /**
   * Learned positional embedding, or MAE's fixed sine-cosine table (MAE's choice).
   * @default 'sincos'
   */
  positionalEmbedding?: 'learned' | 'sincos';
  /**
   * ε of the LayerNorms.
   * @default 1e-6
   */
  layerNormEps?: number;
  /**
   * Seed of the weight initialisation.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** What a {@link MaeDecoder} needs to know of its encoder (a {@link VisionTransformer} has all of it). */
export interface MaeEncoderGeometry {
  /** Patches per column and row of the encoder's images. */
  gridSize: [number, number];
  /** Number of patches L. */
  numPatches: number;
  /** Values per patch, p·p·C. */
  patchDim: number;
  /** The encoder's token width. */
  dim: number;
  /** Whether the encoder output starts with a class token. */
  classToken: boolean;
}

/** A {@link MaeDecoder}'s architecture: its options (without the seed), filled in, and its encoder's geometry. */
export type MaeDecoderConfig = Required<Omit<MaeDecoderOptions, 'seed'>> & {
  /** The geometry of the encoder it decodes. */
  encoder: { gridSize: [number, number]; patchDim: number; dim: number; classToken: boolean };
};

/**
 * MAE's lightweight decoder, made by {@link maeDecoder}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { maeDecoder, tinyVit } from 'selfsup';
 *
 * const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const decoder = maeDecoder(encoder, { dim: 8, depth: 1, heads: 2, seed: 1 });
 * const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
 * const keepIds = tf.tensor2d([[0], [3]], [2, 1], 'int32'); // 1 visible patch of 4
 * const pred = decoder.decode(encoder.encode(images, { keepIds }), keepIds);
 * console.log(pred.shape); // [2, 4, 16]: every patch, 4·4·1 values each
 * encoder.dispose();
 * decoder.dispose();
 * ```
 */
export class MaeDecoder extends StoredWeightsModel {
  /** Decoder token width. */
  readonly dim: number;
  /** Number of blocks. */
  readonly depth: number;
  /** Attention heads. */
  readonly heads: number;
  /** Number of patches L of the encoder's images. */
  readonly numPatches: number;
  /** Values predicted per patch, p·p·C. */
  readonly patchDim: number;
  /** Width of the encoder tokens it reads. */
  readonly encoderDim: number;
  /** Whether the encoder output starts with a class token. */
  readonly classToken: boolean;
  private readonly eps: number;
  private readonly embedKernel: tf.Variable;
  private readonly embedBias: tf.Variable;
  private readonly maskToken: tf.Variable;
  private readonly position: tf.Variable;
  private readonly blocks: BlockParams[];
  private readonly normGamma: tf.Variable;
  private readonly normBeta: tf.Variable;
  private readonly predKernel: tf.Variable;
  private readonly predBias: tf.Variable;
  private readonly config: MaeDecoderConfig;

  /** @internal Use {@link maeDecoder}, which validates the options. */
  constructor(
    encoder: MaeEncoderGeometry,
    config: Required<Omit<MaeDecoderOptions, 'seed'>>,
    rng: Rng,
  ) {
    super('MaeDecoder');
    this.config = {
      ...config,
      encoder: { gridSize: [encoder.gridSize[0], encoder.gridSize[1]], patchDim: encoder.patchDim, dim: encoder.dim, classToken: encoder.classToken },
    };
    this.dim = config.dim;
    this.depth = config.depth;
    this.heads = config.heads;
    this.numPatches = encoder.numPatches;
    this.patchDim = encoder.patchDim;
    this.encoderDim = encoder.dim;
    this.classToken = encoder.classToken;
    this.eps = config.layerNormEps;
    const d = this.dim;
    const s = this.store;
    this.embedKernel = s.add('embed.kernel', [this.encoderDim, d], kernelValues(rng, [this.encoderDim, d], 'xavier'));
    this.embedBias = s.add('embed.bias', [d], new Float32Array(d));
    this.maskToken = s.add('maskToken', [d], rng.normalArray(d, 0, 0.02));
    this.position =
      config.positionalEmbedding === 'sincos'
        ? s.add('posEmbed', [this.numPatches, d], sincosPositionalEmbedding(encoder.gridSize[0], encoder.gridSize[1], d), false)
        : s.add('posEmbed', [this.numPatches, d], truncatedNormalArray(rng, this.numPatches * d, 0.02));
    const hidden = Math.round(d * config.mlpRatio);
    this.blocks = Array.from({ length: this.depth }, (_, i) => createBlock(s, `block${i}`, d, hidden, rng));
    this.normGamma = s.add('norm.gamma', [d], new Float32Array(d).fill(1));
    this.normBeta = s.add('norm.beta', [d], new Float32Array(d));
    this.predKernel = s.add('pred.kernel', [d, this.patchDim], kernelValues(rng, [d, this.patchDim], 'xavier'));
    this.predBias = s.add('pred.bias', [this.patchDim], new Float32Array(this.patchDim));
  }

  /**
   * The architecture (its options, filled in, and the encoder's geometry):
   * what `saveModel` (`selfsup/io`) stores next to the weights.
   */
  getConfig(): MaeDecoderConfig {
    const c = this.config;
    return { ...c, encoder: { ...c.encoder, gridSize: [c.encoder.gridSize[0], c.encoder.gridSize[1]] } };
  }

  /**
   * Predicts every patch from the encoded visible ones: `encoded` `[B, T, D_enc]`
   * (the ViT's `encode(images, { keepIds })`, class token first when it has
   * one) and the same `keepIds` `[B, K]` → pixel predictions `[B, L, p·p·C]` in
   * row-major patch order (the MAE loss then keeps the masked rows). Visible
   * tokens are embedded to the decoder width and put back at their positions,
   * every other position gets the shared learned mask token, then positional
   * embeddings, the blocks, a LayerNorm and a linear prediction; the class
   * token goes through the blocks and is dropped at the end.
   */
  decode(encoded: tf.Tensor3D, keepIds: tf.Tensor2D): tf.Tensor3D {
    const fn = 'MaeDecoder.decode';
    this.assertNotDisposed(fn);
    assertRank(encoded, 3, fn, 'encoded', '[B, T, D]');
    assertFloat(encoded, fn, 'encoded');
    const [batch, tokens, width] = encoded.shape;
    if (width !== this.encoderDim) {
      throw new ShapeError(fn, 'encoded', `have D = ${this.encoderDim} (the encoder width) on axis 2`, formatShape(encoded.shape));
    }
    assertPatchIds(keepIds, batch, this.numPatches, fn, 'keepIds');
    const kept = keepIds.shape[1];
    const expected = kept + (this.classToken ? 1 : 0);
    if (tokens !== expected) {
      throw new ShapeError(
        fn,
        'encoded',
        `have T = ${expected} tokens (${kept} kept patches${this.classToken ? ' + the class token' : ''}) on axis 1`,
        formatShape(encoded.shape),
      );
    }
    return tf.tidy(() => {
      const x = linear(encoded, this.embedKernel, this.embedBias);
      const visible = this.classToken ? tf.slice(x, [0, 1, 0], [-1, -1, -1]) : x;
      const select = selectionMatrix(keepIds, this.numPatches);
      const scattered = tf.matMul(tf.transpose(select, [0, 2, 1]), visible);
      const isVisible = tf.expandDims(tf.sum(select, 1), 2);
      const filled = tf.add(scattered, tf.mul(tf.sub(1, isVisible), this.maskToken));
      let h = tf.add(filled, this.position);
      if (this.classToken) h = tf.concat([tf.slice(x, [0, 0, 0], [-1, 1, -1]), h], 1);
      for (const block of this.blocks) h = transformerBlock(h, block, this.heads, this.eps);
      const pred = linear(layerNorm(h, this.normGamma, this.normBeta, this.eps), this.predKernel, this.predBias);
      return (this.classToken ? tf.slice(pred, [0, 1, 0], [-1, -1, -1]) : pred) as tf.Tensor3D;
    });
  }
}

/**
 * MAE's decoder (He et al. 2022, §3): "The input to the MAE decoder is the
 * full set of tokens consisting of (i) encoded visible patches, and (ii) mask
 * tokens. … Each mask token is a shared, learned vector that indicates the
 * presence of a missing patch to be predicted. We add positional embeddings to
 * all tokens in this full set … The decoder has another series of Transformer
 * blocks." Its "last layer … is a linear projection whose number of output
 * channels equals the number of pixel values in a patch". Built for a given
 * {@link tinyVit} encoder (it reads the patch grid, width and class token from
 * it); a small class holding variables, like the ViT.
 *
 * MAE's decoder restores the shuffled order with `ids_restore`; this one takes
 * the encoder's `keepIds` and scatters the visible tokens back to their
 * positions (a one-hot matMul, differentiable on every backend), which is the
 * same computation. Linear layers start Xavier-uniform with zero bias, the mask
 * token at `N(0, 0.02²)`, the positional embedding fixed sine-cosine.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { maeDecoder, tinyVit } from 'selfsup';
 *
 * const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const decoder = maeDecoder(encoder, { dim: 8, depth: 1, heads: 2, seed: 1 });
 * const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
 * const keepIds = tf.tensor2d([[0], [3]], [2, 1], 'int32'); // 1 visible patch of 4
 * const pred = decoder.decode(encoder.encode(images, { keepIds }), keepIds);
 * console.log(pred.shape); // [2, 4, 16]: every patch, 4·4·1 values each
 * encoder.dispose();
 * decoder.dispose();
 * ```
 */
export function maeDecoder(encoder: VisionTransformer, options: MaeDecoderOptions = {}): MaeDecoder {
  const fn = 'maeDecoder';
  assertBackendReady(fn);
  if (!(encoder instanceof VisionTransformer)) {
    throw new InvalidArgumentError(fn, 'encoder', 'be a VisionTransformer made by tinyVit', String(encoder));
  }
  if (encoder.isDisposed) throw new InvalidArgumentError(fn, 'encoder', 'not be disposed', 'a disposed model');
  const config = decoderConfig(options, fn);
  // The embedding from the encoder's width and the pixel head.
  const pixels = encoder.patchSize * encoder.patchSize * encoder.channels;
  assertMemoryFits(fn, 'options.dim', [{ shape: [encoder.dim + pixels, config.dim], count: 2 }]);
  return new MaeDecoder(encoder, config, createRng(options.seed, fn, 'options.seed'));
}

/** @internal Validates and fills in {@link MaeDecoderOptions} (also for MaskedAutoencoder's decoder of a conv encoder). */
export function decoderConfig(options: MaeDecoderOptions, fn: string): Required<Omit<MaeDecoderOptions, 'seed'>> {
  assertKnownOptions(options, ['dim', 'depth', 'heads', 'mlpRatio', 'positionalEmbedding', 'layerNormEps', 'seed'], fn);
  const { dim = 32, depth = 2, heads = 4, mlpRatio = 4, positionalEmbedding = 'sincos', layerNormEps = 1e-6 } = options;
  assertInteger(dim, fn, 'options.dim', { min: 1 });
  assertInteger(depth, fn, 'options.depth', { min: 0 });
  assertInteger(heads, fn, 'options.heads', { min: 1 });
  if (dim % heads !== 0) throw new ValueRangeError(fn, 'options.heads', `divide options.dim (${dim})`, String(heads));
  assertPositive(mlpRatio, fn, 'options.mlpRatio');
  assertOneOf(positionalEmbedding, ['learned', 'sincos'] as const, fn, 'options.positionalEmbedding');
  if (positionalEmbedding === 'sincos' && dim % 4 !== 0) {
    throw new ValueRangeError(fn, 'options.dim', "be a multiple of 4 for positionalEmbedding 'sincos'", String(dim));
  }
  assertPositive(layerNormEps, fn, 'options.layerNormEps');
  // Per block: qkv, projection and MLP (values and gradients), before any allocation.
  const hidden = Math.round(dim * mlpRatio);
  assertMemoryFits(fn, depth > 64 ? 'options.depth' : mlpRatio > 64 ? 'options.mlpRatio' : 'options.dim', [
    { shape: [dim, 4 * dim + 2 * hidden], count: 2 * depth },
  ]);
  return { dim, depth, heads, mlpRatio, positionalEmbedding, layerNormEps };
}

/**
 * @internal Rebuilds a decoder from {@link MaeDecoder.getConfig} (fresh
 * weights), without its encoder: what loading a saved decoder needs. `fn`
 * names the caller in errors.
 */
export function maeDecoderFromConfig(config: MaeDecoderConfig, fn: string): MaeDecoder {
  const { encoder, ...options } = config ?? ({} as MaeDecoderConfig);
  if (typeof encoder !== 'object' || encoder === null) {
    throw new InvalidArgumentError(fn, 'config.encoder', "be the encoder's geometry { gridSize, patchDim, dim, classToken }", String(encoder));
  }
  const [gh, gw] = Array.isArray(encoder.gridSize) ? encoder.gridSize : [NaN, NaN];
  assertInteger(gh, fn, 'config.encoder.gridSize[0]', { min: 1 });
  assertInteger(gw, fn, 'config.encoder.gridSize[1]', { min: 1 });
  assertInteger(encoder.patchDim, fn, 'config.encoder.patchDim', { min: 1 });
  assertInteger(encoder.dim, fn, 'config.encoder.dim', { min: 1 });
  assertOneOf(encoder.classToken, [true, false], fn, 'config.encoder.classToken');
  const geometry: MaeEncoderGeometry = { gridSize: [gh, gw], numPatches: gh * gw, patchDim: encoder.patchDim, dim: encoder.dim, classToken: encoder.classToken };
  return new MaeDecoder(geometry, decoderConfig(options, fn), createRng(0));
}
