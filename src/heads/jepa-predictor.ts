import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError, ValueRangeError } from '../core/errors.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import { assertBackendReady } from '../core/backend-ready.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { assertFloat, assertInteger, assertKnownOptions, assertPositive, assertRank, formatShape } from '../core/validate.js';
import { kernelValues, truncatedNormalArray } from './init.js';
import {
  assertPatchIds,
  createBlock,
  layerNorm,
  linear,
  selectionMatrix,
  sincosPositionalEmbedding,
  StoredWeightsModel,
  transformerBlock,
  type BlockParams,
} from './transformer.js';
import { VisionTransformer } from './vit.js';

/** Options of {@link jepaPredictor}. */
export interface JepaPredictorOptions {
  /**
   * Token width of the predictor (I-JEPA: 384 for a 1280-wide ViT-H; narrower than the encoder).
   * @default half the encoder's width, rounded down to a multiple of 4
   */
  dim?: number;
  /**
   * Number of transformer blocks (I-JEPA: 12 for ViT-H, 6 by default).
   * @default 2
   */
  depth?: number;
  /**
   * Attention heads per block (must divide `dim`).
   * @default 4
   */
  heads?: number;
  /**
   * Hidden width of each block's MLP, as a multiple of `dim`.
   * @default 4
   */
  mlpRatio?: number;
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

/**
 * I-JEPA's narrow predictor, made by {@link jepaPredictor}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { jepaPredictor, tinyVit } from 'selfsup';
 *
 * const encoder = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 16, depth: 1, heads: 2, classToken: false, seed: 0 });
 * const predictor = jepaPredictor(encoder, { dim: 8, depth: 1, heads: 2, seed: 1 });
 * const contextIds = tf.tensor2d([[0, 1, 4, 5]], [1, 4], 'int32'); // top-left 2×2 of the 4×4 grid
 * const targetIds = tf.tensor2d([[10, 11, 14, 15]], [1, 4], 'int32'); // bottom-right 2×2
 * const context = encoder.encode(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, { keepIds: contextIds });
 * console.log(predictor.predict(context, contextIds, targetIds).shape); // [1, 4, 16]
 * encoder.dispose();
 * predictor.dispose();
 * ```
 */
export class JepaPredictor extends StoredWeightsModel {
  /** Token width of the predictor. */
  readonly dim: number;
  /** Number of blocks. */
  readonly depth: number;
  /** Attention heads. */
  readonly heads: number;
  /** Number of patches L of the encoder's grid. */
  readonly numPatches: number;
  /** Width of the encoder tokens it reads and predicts. */
  readonly encoderDim: number;
  private readonly eps: number;
  private readonly embedKernel: tf.Variable;
  private readonly embedBias: tf.Variable;
  private readonly maskToken: tf.Variable;
  private readonly position: tf.Variable;
  private readonly blocks: BlockParams[];
  private readonly normGamma: tf.Variable;
  private readonly normBeta: tf.Variable;
  private readonly projKernel: tf.Variable;
  private readonly projBias: tf.Variable;

  /** @internal Use {@link jepaPredictor}, which validates the options. */
  constructor(encoder: VisionTransformer, config: Required<Omit<JepaPredictorOptions, 'seed'>>, rng: Rng) {
    super('JepaPredictor');
    this.dim = config.dim;
    this.depth = config.depth;
    this.heads = config.heads;
    this.numPatches = encoder.numPatches;
    this.encoderDim = encoder.dim;
    this.eps = config.layerNormEps;
    const d = this.dim;
    const s = this.store;
    this.embedKernel = s.add('embed.kernel', [this.encoderDim, d], kernelValues(rng, [this.encoderDim, d], 'xavier'));
    this.embedBias = s.add('embed.bias', [d], new Float32Array(d));
    this.maskToken = s.add('maskToken', [d], truncatedNormalArray(rng, d, 0.02));
    this.position = s.add('posEmbed', [this.numPatches, d], sincosPositionalEmbedding(encoder.gridSize[0], encoder.gridSize[1], d), false);
    const hidden = Math.round(d * config.mlpRatio);
    this.blocks = Array.from({ length: this.depth }, (_, i) => createBlock(s, `block${i}`, d, hidden, rng));
    this.normGamma = s.add('norm.gamma', [d], new Float32Array(d).fill(1));
    this.normBeta = s.add('norm.beta', [d], new Float32Array(d));
    this.projKernel = s.add('proj.kernel', [d, this.encoderDim], kernelValues(rng, [d, this.encoderDim], 'xavier'));
    this.projBias = s.add('proj.bias', [this.encoderDim], new Float32Array(this.encoderDim));
  }

  /**
   * Predicts the encoder's representations of the target patches from the
   * context: `context` `[N, Kc, D_enc]` (the context encoder's patch tokens,
   * without a class token), `contextIds` int32 `[N, Kc]` (their patch
   * indices), `targetIds` int32 `[N, Kt]` (the patches to predict) →
   * `[N, Kt, D_enc]`, one row per target id. The context is embedded to the
   * predictor's width plus the positional embedding of its patches; one mask
   * token per target patch, plus that patch's positional embedding, is
   * appended; after the blocks and a LayerNorm the mask tokens' outputs are
   * projected back to the encoder's width (`VisionTransformerPredictor.forward`
   * of the official code). For M target blocks per image, stack them along
   * N (repeat the context M times), as the official code does.
   */
  predict(context: tf.Tensor3D, contextIds: tf.Tensor2D, targetIds: tf.Tensor2D): tf.Tensor3D {
    const fn = 'JepaPredictor.predict';
    this.assertNotDisposed(fn);
    assertRank(context, 3, fn, 'context', '[N, Kc, D]');
    assertFloat(context, fn, 'context');
    const [n, kc, width] = context.shape;
    if (width !== this.encoderDim) {
      throw new ShapeError(fn, 'context', `have D = ${this.encoderDim} (the encoder width) on axis 2`, formatShape(context.shape));
    }
    assertPatchIds(contextIds, n, this.numPatches, fn, 'contextIds');
    if (contextIds.shape[1] !== kc) {
      throw new ShapeError(fn, 'contextIds', `have one id per context token: [${n}, ${kc}]`, formatShape(contextIds.shape));
    }
    assertPatchIds(targetIds, n, this.numPatches, fn, 'targetIds');
    return tf.tidy(() => {
      const positions = tf.tile(tf.expandDims(this.position, 0), [n, 1, 1]);
      const contextPositions = tf.matMul(selectionMatrix(contextIds, this.numPatches), positions);
      const targetPositions = tf.matMul(selectionMatrix(targetIds, this.numPatches), positions);
      const x = tf.add(linear(context, this.embedKernel, this.embedBias), contextPositions);
      const queries = tf.add(tf.reshape(this.maskToken, [1, 1, this.dim]), targetPositions);
      let tokens = tf.concat([x, queries], 1);
      for (const block of this.blocks) tokens = transformerBlock(tokens, block, this.heads, this.eps);
      tokens = layerNorm(tokens, this.normGamma, this.normBeta, this.eps);
      const predicted = tf.slice(tokens, [0, kc, 0], [-1, -1, -1]);
      return linear(predicted, this.projKernel, this.projBias) as tf.Tensor3D;
    });
  }
}

/**
 * The predictor of I-JEPA (Assran et al., "Self-Supervised Learning from
 * Images with a Joint-Embedding Predictive Architecture", CVPR 2023, §3;
 * `VisionTransformerPredictor` of the official code) for a selfsup ViT: a
 * narrow transformer that reads the context encoder's tokens and, through
 * one positional mask token per target patch, predicts the target encoder's
 * representation of that patch. Its positional embedding is the fixed 2-D
 * sine-cosine table of the encoder's patch grid (so `dim` must be a multiple
 * of 4); the mask token is learned and shared, starting at `N(0, 0.02²)`
 * truncated; linear layers start Xavier-uniform with zero bias, as the rest of
 * selfsup's ViT (the official code uses a truncated normal with depth-scaled
 * output projections). Train it with the encoder:
 * `optimizer.minimize(f, false, [...encoder.trainableVariables, ...predictor.trainableVariables])`.
 *
 * @param encoder - the context encoder (its grid and width size the predictor).
 *
 * @example
 * ```ts
 * import { jepaPredictor, tinyVit } from 'selfsup';
 *
 * const encoder = tinyVit({ imageSize: 28, channels: 1, patchSize: 4, dim: 64, classToken: false, seed: 0 });
 * const predictor = jepaPredictor(encoder, { depth: 2, seed: 1 });
 * console.log(predictor.dim, predictor.numPatches); // 32 49
 * encoder.dispose();
 * predictor.dispose();
 * ```
 */
export function jepaPredictor(encoder: VisionTransformer, options: JepaPredictorOptions = {}): JepaPredictor {
  const fn = 'jepaPredictor';
  assertBackendReady(fn);
  if (!(encoder instanceof VisionTransformer)) {
    throw new InvalidArgumentError(fn, 'encoder', 'be a VisionTransformer made by tinyVit', String(encoder));
  }
  if (encoder.isDisposed) throw new InvalidArgumentError(fn, 'encoder', 'not be disposed', 'a disposed model');
  assertKnownOptions(options, ['dim', 'depth', 'heads', 'mlpRatio', 'layerNormEps', 'seed'], fn);
  const { depth = 2, heads = 4, mlpRatio = 4, layerNormEps = 1e-6 } = options;
  const dim = options.dim ?? Math.max(4, 4 * Math.floor(encoder.dim / 8));
  assertInteger(dim, fn, 'options.dim', { min: 4 });
  if (dim % 4 !== 0) throw new ValueRangeError(fn, 'options.dim', 'be a multiple of 4 (the sine-cosine positional embedding)', String(dim));
  assertInteger(depth, fn, 'options.depth', { min: 0 });
  assertInteger(heads, fn, 'options.heads', { min: 1 });
  if (dim % heads !== 0) throw new ValueRangeError(fn, 'options.heads', `divide options.dim (${dim})`, String(heads));
  assertPositive(mlpRatio, fn, 'options.mlpRatio');
  assertPositive(layerNormEps, fn, 'options.layerNormEps');
  // The embedding from the encoder's width and the projection back to it.
  assertMemoryFits(fn, 'options.dim', [{ shape: [encoder.dim, dim], count: 2 }]);
  return new JepaPredictor(encoder, { dim, depth, heads, mlpRatio, layerNormEps }, createRng(options.seed, fn, 'options.seed'));
}
