import * as tf from '@tensorflow/tfjs-core';
import { assertMemoryFits } from '../core/memory-budget.js';
import { InvalidArgumentError, ShapeError, ValueRangeError } from '../core/errors.js';
import { assertImages } from '../core/images.js';
import { patchifyRaw } from '../core/patches.js';
import { createRng, type Rng, type Seed } from '../core/rng.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertPositive,
  assertRank,
  assertShape,
  assertValuesInRange,
  describeValue,
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
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link tinyVit}. */
export interface TinyVitOptions {
  /** Input height and width (`28` or `[28, 28]`); both must be multiples of `patchSize`. Required. */
  imageSize: number | readonly [number, number];
  /**
   * Input channels.
   * @default 3
   */
  channels?: number;
  /**
   * Side p of the square, non-overlapping patches.
   * @default 4
   */
  patchSize?: number;
  /**
   * Token width D.
   * @default 64
   */
  dim?: number;
  /**
   * Number of transformer blocks.
   * @default 4
   */
  depth?: number;
  /**
   * Attention heads per block (D must be a multiple).
   * @default 4
   */
  heads?: number;
  /**
   * Hidden width of each block's MLP, as a multiple of D.
   * @default 4
   */
  mlpRatio?: number;
  /**
   * Prepend a learnable class token (ViT, MAE).
   * @default true
   */
  classToken?: boolean;
  /**
   * How {@link VisionTransformer.apply} pools tokens into a feature vector: the
   * class token's output, or the mean of the patch tokens.
   * @default 'cls' with a class token, else 'mean'
   */
  pool?: 'cls' | 'mean';
  /**
   * With `pool: 'mean'`, average the patch tokens over a g×g grid of equal
   * cells instead of over the whole image, and concatenate the cells:
   * features `[B, g·g·D]` (cell-major). The counterpart of `convEncoder`'s
   * `outputGrid`: on centred, aligned images (digits, garments) where a
   * feature fires carries class information a global mean throws away. The
   * patch grid must divide into g×g cells.
   * @default 1 (one mean over all patches)
   */
  outputGrid?: number;
  /**
   * Learned positional embedding (ViT; starts at `N(0, 0.02²)`), or MAE's fixed
   * 2-D sine-cosine table (needs D divisible by 4).
   * @default 'learned'
   */
  positionalEmbedding?: 'learned' | 'sincos';
  /**
   * ε of the LayerNorms (MAE's 1e-6).
   * @default 1e-6
   */
  layerNormEps?: number;
  /**
   * Seed of the weight initialisation.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** A {@link VisionTransformer}'s architecture: every {@link TinyVitOptions} field but the seed, filled in. */
export type TinyVitConfig = Required<Omit<TinyVitOptions, 'seed' | 'imageSize'>> & { imageSize: [number, number] };
type VitConfig = TinyVitConfig;

/** Options of {@link VisionTransformer.encode}. */
export interface VitEncodeOptions {
  /**
   * int32 `[B, K]` indices (in `[0, L)`, distinct per row) of the patches to
   * encode, e.g. MAE's visible patches. The tokens come out in this order.
   * @default undefined (all L patches, in row-major order)
   */
  keepIds?: tf.Tensor2D;
  /**
   * float32 `[B, L]` with 1 at the patches to hide: their patch embeddings
   * are replaced by `maskToken` before the positional embeddings are added,
   * so the token keeps its position (BEiT's, iBOT's and DINOv2's masked
   * image modelling: `torch.where(masks, mask_token, x)`). Needs `maskToken`;
   * not combined with `keepIds`.
   * @default undefined (no masking)
   */
  mask?: tf.Tensor2D;
  /**
   * The learned mask token `[D]` (gradients flow to it), used where `mask` is 1.
   * The method that masks owns it (DINOv2's student).
   * @default undefined
   */
  maskToken?: tf.Tensor1D;
}

/**
 * The model holding a tiny ViT's weights, made by {@link tinyVit}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
 * console.log(vit.apply(images).shape); // [2, 16]
 * const visible = tf.tensor2d([[0, 3], [2, 1]], [2, 2], 'int32'); // 2 of 4 patches per image
 * console.log(vit.encode(images, { keepIds: visible }).shape); // [2, 3, 16] (class token + 2)
 * vit.dispose();
 * ```
 */
export class VisionTransformer extends StoredWeightsModel {
  /** Input `[H, W]`. */
  readonly imageSize: [number, number];
  /** Input channels C. */
  readonly channels: number;
  /** Patch side p. */
  readonly patchSize: number;
  /** Patches per row and column, `[H/p, W/p]`. */
  readonly gridSize: [number, number];
  /** Number of patches L. */
  readonly numPatches: number;
  /** Values per patch, p·p·C. */
  readonly patchDim: number;
  /** Token width D. */
  readonly dim: number;
  /** Attention heads. */
  readonly heads: number;
  /** Number of blocks. */
  readonly depth: number;
  /** Whether a class token is prepended. */
  readonly classToken: boolean;
  /** Pooling used by {@link VisionTransformer.apply}. */
  readonly pool: 'cls' | 'mean';
  /** Side g of the grid the `'mean'` pooling averages over (1: one global mean). */
  readonly outputGrid: number;
  /** The kind of positional embedding. */
  readonly positionalEmbedding: 'learned' | 'sincos';
  private readonly eps: number;
  private readonly patchKernel: tf.Variable;
  private readonly patchBias: tf.Variable;
  private readonly position: tf.Variable;
  private readonly cls: tf.Variable | null;
  private readonly blocks: BlockParams[];
  private readonly normGamma: tf.Variable;
  private readonly normBeta: tf.Variable;
  private readonly config: VitConfig;

  /** @internal Use {@link tinyVit}, which validates the options. */
  constructor(config: VitConfig, rng: Rng) {
    super('VisionTransformer');
    this.config = config;
    this.imageSize = config.imageSize;
    this.channels = config.channels;
    this.patchSize = config.patchSize;
    this.gridSize = [config.imageSize[0] / config.patchSize, config.imageSize[1] / config.patchSize];
    this.numPatches = this.gridSize[0] * this.gridSize[1];
    this.patchDim = config.patchSize * config.patchSize * config.channels;
    this.dim = config.dim;
    this.heads = config.heads;
    this.depth = config.depth;
    this.classToken = config.classToken;
    this.pool = config.pool;
    this.outputGrid = config.outputGrid;
    this.positionalEmbedding = config.positionalEmbedding;
    this.eps = config.layerNormEps;
    const d = this.dim;
    const s = this.store;
    // MAE initialises the patch projection as a linear layer (Xavier on the flattened kernel).
    this.patchKernel = s.add('patchEmbed.kernel', [this.patchDim, d], kernelValues(rng, [this.patchDim, d], 'xavier'));
    this.patchBias = s.add('patchEmbed.bias', [d], new Float32Array(d));
    this.position =
      this.positionalEmbedding === 'sincos'
        ? s.add('posEmbed', [this.numPatches, d], sincosPositionalEmbedding(this.gridSize[0], this.gridSize[1], d), false)
        : s.add('posEmbed', [this.numPatches, d], truncatedNormalArray(rng, this.numPatches * d, 0.02));
    this.cls = this.classToken ? s.add('clsToken', [d], rng.normalArray(d, 0, 0.02)) : null;
    const hidden = Math.round(d * config.mlpRatio);
    this.blocks = Array.from({ length: this.depth }, (_, i) => createBlock(s, `block${i}`, d, hidden, rng));
    this.normGamma = s.add('norm.gamma', [d], new Float32Array(d).fill(1));
    this.normBeta = s.add('norm.beta', [d], new Float32Array(d));
  }

  /**
   * Token outputs after the final LayerNorm, `[B, T, D]`: T = K (+1 class
   * token first) for `keepIds` `[B, K]`, else L (+1). Only the kept patches
   * are embedded and attended over, each with its own positional embedding
   * (MAE's encoder: "our encoder only operates on a small subset (e.g., 25%)
   * of the full set"; I-JEPA's context encoder). With `mask` and
   * `maskToken`, the hidden patches enter as the mask token at their
   * positions (iBOT's and DINOv2's student). The patch tokens of the output
   * (after the class token) are what the patch-level methods read.
   */
  encode(images: tf.Tensor4D, options: VitEncodeOptions = {}): tf.Tensor3D {
    const fn = 'VisionTransformer.encode';
    this.assertInput(images, fn);
    assertKnownOptions(options, ['keepIds', 'mask', 'maskToken'], fn);
    const batch = images.shape[0];
    const { keepIds, mask, maskToken } = options;
    if (keepIds !== undefined) assertPatchIds(keepIds, batch, this.numPatches, fn, 'options.keepIds');
    if (mask !== undefined || maskToken !== undefined) this.assertMask(mask, maskToken, batch, keepIds !== undefined, fn);
    return tf.tidy(() => {
      let patches: tf.Tensor = patchifyRaw(images, this.patchSize);
      let position: tf.Tensor = this.position;
      if (keepIds !== undefined) {
        const select = selectionMatrix(keepIds, this.numPatches);
        patches = tf.matMul(select, patches);
        position = tf.matMul(select, tf.tile(tf.expandDims(this.position, 0), [batch, 1, 1]));
      }
      let embedded = linear(patches, this.patchKernel, this.patchBias);
      if (mask !== undefined) {
        // A blend rather than a where: exact for 0/1 masks, and the gradient reaches the token.
        const hide = tf.expandDims(mask, 2);
        embedded = tf.add(tf.mul(embedded, tf.sub(1, hide)), tf.mul(hide, tf.reshape(maskToken!, [1, 1, this.dim])));
      }
      let x = tf.add(embedded, position);
      if (this.cls !== null) {
        x = tf.concat([tf.tile(tf.reshape(this.cls, [1, 1, this.dim]), [batch, 1, 1]), x], 1);
      }
      for (const block of this.blocks) x = transformerBlock(x, block, this.heads, this.eps);
      return layerNorm(x, this.normGamma, this.normBeta, this.eps) as tf.Tensor3D;
    });
  }

  /**
   * Feature vectors `[B, D]` of whole images: the class token's output
   * (`pool: 'cls'`) or the mean of the patch tokens (`'mean'`). Called like a
   * tfjs-layers model's `apply`, so code written for an encoder `LayersModel`
   * takes a ViT too (`kwargs` is accepted and unused: the ViT has no dropout or
   * batch norm).
   */
  apply(images: tf.Tensor4D, _kwargs?: { training?: boolean }): tf.Tensor2D {
    this.assertInput(images, 'VisionTransformer.apply');
    return tf.tidy(() => this.poolTokens(this.encode(images)));
  }

  /**
   * Pools the output of {@link VisionTransformer.encode} `[B, T, D]` into
   * features `[B, D]` as `apply` does (class token, or mean of the patch
   * tokens present — e.g. only the kept ones of a masked view, as MSN's
   * encoder sees them).
   */
  poolTokens(tokens: tf.Tensor3D): tf.Tensor2D {
    const fn = 'VisionTransformer.poolTokens';
    this.assertNotDisposed(fn);
    assertRank(tokens, 3, fn, 'tokens', '[B, T, D]');
    const start = this.classToken ? 1 : 0;
    if (tokens.shape[2] !== this.dim || tokens.shape[1] <= start) {
      throw new ShapeError(fn, 'tokens', `have D = ${this.dim} and at least ${start + 1} tokens (encode's output)`, formatShape(tokens.shape));
    }
    return tf.tidy(() => {
      if (this.pool === 'cls') return tf.squeeze(tf.slice(tokens, [0, 0, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
      return this.meanPool(tf.slice(tokens, [0, start, 0], [-1, -1, -1]) as tf.Tensor3D);
    });
  }

  /** The mean of the patch tokens `[B, T, D]`: over all of them, or per cell of the `outputGrid` (all L patches present). */
  private meanPool(patches: tf.Tensor3D): tf.Tensor2D {
    const g = this.outputGrid;
    const [b, t] = patches.shape;
    if (g === 1 || t !== this.numPatches) return tf.mean(patches, 1) as tf.Tensor2D;
    const [gh, gw] = this.gridSize;
    // [B, g, gh/g, g, gw/g, D] → the mean of each cell → [B, g·g·D].
    const cells = tf.reshape(patches, [b, g, gh / g, g, gw / g, this.dim]);
    return tf.reshape(tf.mean(cells, [2, 4]), [b, g * g * this.dim]) as tf.Tensor2D;
  }

  /**
   * The architecture as complete {@link TinyVitOptions} (without the seed):
   * `tinyVit(vit.getConfig())` builds the same model with fresh weights.
   * `saveModel` (`selfsup/io`) stores it next to the weights.
   */
  getConfig(): TinyVitConfig {
    const c = this.config;
    return { ...c, imageSize: [c.imageSize[0], c.imageSize[1]] };
  }

  /**
   * A new, independent ViT with the same architecture and a copy of the
   * current weights (a momentum target or teacher: BYOL, MoCo, DINO). Dispose
   * it separately.
   */
  clone(): VisionTransformer {
    this.assertNotDisposed('VisionTransformer.clone');
    // The rng only fills initial values, which setWeights overwrites.
    const copy = new VisionTransformer(this.config, createRng(0));
    const weights = this.getWeights();
    copy.setWeights(weights);
    tf.dispose(weights);
    return copy;
  }

  private assertMask(mask: unknown, token: unknown, batch: number, withKeepIds: boolean, fn: string): void {
    if (mask === undefined || token === undefined) {
      throw new InvalidArgumentError(fn, mask === undefined ? 'options.mask' : 'options.maskToken', 'be given together with the other (a [B, L] mask and a [D] token)', 'only one of them');
    }
    if (withKeepIds) throw new InvalidArgumentError(fn, 'options.mask', 'not be combined with options.keepIds', 'both');
    assertShape(mask, [batch, this.numPatches], fn, 'options.mask', '[B, L]');
    assertFloat(mask as tf.Tensor, fn, 'options.mask');
    assertValuesInRange(mask as tf.Tensor, 0, 1, fn, 'options.mask');
    assertShape(token, [this.dim], fn, 'options.maskToken', '[D]');
    assertFloat(token as tf.Tensor, fn, 'options.maskToken');
  }

  private assertInput(images: tf.Tensor4D, fn: string): void {
    this.assertNotDisposed(fn);
    assertImages(images, fn, 'images', [this.channels]);
    if (images.shape[1] !== this.imageSize[0] || images.shape[2] !== this.imageSize[1]) {
      throw new ShapeError(
        fn,
        'images',
        `have shape [B, ${this.imageSize[0]}, ${this.imageSize[1]}, ${this.channels}] (the ViT's imageSize)`,
        formatShape(images.shape),
      );
    }
  }
}

/**
 * A tiny Vision Transformer (Dosovitskiy et al. 2021) for small images, usable
 * as MAE's encoder (He et al. 2022): non-overlapping p×p patches → linear patch
 * embedding + positional embedding → optional class token → `depth` pre-norm
 * blocks (`x + MSA(LN(x))`, `x + MLP(LN(x))`, GELU MLP) → final LayerNorm.
 *
 * It is a small class holding tfjs variables rather than a tfjs-layers model:
 * MAE needs to encode a different subset of patches per image
 * (`encode(images, { keepIds })`), which a layers graph cannot express
 * without awkward int inputs. Train it in a custom loop with
 * `optimizer.minimize(f, false, vit.trainableVariables)`; save it with
 * `getWeights()` / `setWeights()`. {@link maeDecoder} builds MAE's decoder for it.
 *
 * Patches are ordered row-major with values (row, col, channel) inside a patch
 * (selfsup's `patchify` layout). Linear layers start Xavier-uniform with zero
 * bias, LayerNorms at 1/0, the class token at `N(0, 0.02²)`, as MAE.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
 * console.log(vit.apply(images).shape); // [2, 16]
 * const visible = tf.tensor2d([[0, 3], [2, 1]], [2, 2], 'int32'); // 2 of 4 patches per image
 * console.log(vit.encode(images, { keepIds: visible }).shape); // [2, 3, 16] (class token + 2)
 * vit.dispose();
 * ```
 */
export function tinyVit(options: TinyVitOptions): VisionTransformer {
  const fn = 'tinyVit';
  assertBackendReady(fn);
  options ??= {} as TinyVitOptions;
  assertKnownOptions(
    options,
    [
      'imageSize',
      'channels',
      'patchSize',
      'dim',
      'depth',
      'heads',
      'mlpRatio',
      'classToken',
      'pool',
      'outputGrid',
      'positionalEmbedding',
      'layerNormEps',
      'seed',
    ],
    fn,
  );
  const { channels = 3, patchSize = 4, dim = 64, depth = 4, heads = 4, mlpRatio = 4, classToken = true } = options;
  const { positionalEmbedding = 'learned', layerNormEps = 1e-6, outputGrid = 1 } = options;
  const pool = options.pool ?? (classToken ? 'cls' : 'mean');
  const size = options.imageSize;
  const imageSize: [number, number] = typeof size === 'number' ? [size, size] : Array.isArray(size) ? [size[0], size[1]] : [NaN, NaN];
  if (!imageSize.every((v) => Number.isInteger(v) && v >= 1) || (Array.isArray(size) && size.length !== 2)) {
    throw new ValueRangeError(fn, 'options.imageSize', 'be an integer ≥ 1 or an [H, W] pair of them', describeValue(size));
  }
  assertInteger(channels, fn, 'options.channels', { min: 1 });
  assertInteger(patchSize, fn, 'options.patchSize', { min: 1 });
  if (imageSize[0] % patchSize !== 0 || imageSize[1] % patchSize !== 0) {
    throw new ValueRangeError(fn, 'options.patchSize', `divide the image size ${formatShape(imageSize)}`, String(patchSize));
  }
  assertInteger(dim, fn, 'options.dim', { min: 1 });
  assertInteger(depth, fn, 'options.depth', { min: 0 });
  assertInteger(heads, fn, 'options.heads', { min: 1 });
  if (dim % heads !== 0) throw new ValueRangeError(fn, 'options.heads', `divide options.dim (${dim})`, String(heads));
  assertPositive(mlpRatio, fn, 'options.mlpRatio');
  assertOneOf(classToken, [true, false], fn, 'options.classToken');
  assertOneOf(pool, ['cls', 'mean'] as const, fn, 'options.pool');
  if (pool === 'cls' && !classToken) {
    throw new ValueRangeError(fn, 'options.pool', "be 'mean' when classToken is false", "'cls'");
  }
  assertInteger(outputGrid, fn, 'options.outputGrid', { min: 1 });
  if (outputGrid > 1) {
    if (pool !== 'mean') throw new ValueRangeError(fn, 'options.outputGrid', "be 1 unless pool is 'mean'", String(outputGrid));
    const [gh, gw] = [imageSize[0] / patchSize, imageSize[1] / patchSize];
    if (gh % outputGrid !== 0 || gw % outputGrid !== 0) {
      throw new ValueRangeError(fn, 'options.outputGrid', `divide the ${gh}×${gw} patch grid`, String(outputGrid));
    }
  }
  assertOneOf(positionalEmbedding, ['learned', 'sincos'] as const, fn, 'options.positionalEmbedding');
  if (positionalEmbedding === 'sincos' && dim % 4 !== 0) {
    throw new ValueRangeError(fn, 'options.dim', "be a multiple of 4 for positionalEmbedding 'sincos'", String(dim));
  }
  assertPositive(layerNormEps, fn, 'options.layerNormEps');
  // Per block: qkv (3·d²), projection (d²), MLP (2·r·d²); plus the patch embedding (p²·C·d).
  const hidden = Math.round(dim * mlpRatio);
  const patches = (imageSize[0] / patchSize) * (imageSize[1] / patchSize);
  assertMemoryFits(fn, patches > 65536 ? 'options.imageSize' : 'options.dim', [
    { shape: [dim, 4 * dim + 2 * hidden], count: 2 * depth },
    { shape: [patchSize * patchSize * channels, dim], count: 2 },
    { shape: [patches + 1, dim], count: 2 },
  ]);
  return new VisionTransformer(
    { imageSize, channels, patchSize, dim, depth, heads, mlpRatio, classToken, pool, outputGrid, positionalEmbedding, layerNormEps },
    createRng(options.seed, fn, 'options.seed'),
  );
}
