import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from '../core/one-hot.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import { initKernelLayer, writeValues } from './init.js';
import { singleInput, type BaseLayerArgs, type LayerShape } from './layer-utils.js';
import { assertBackendReady } from '../core/backend-ready.js';

type BagArgs = BaseLayerArgs & { vocabSize: number };
let bagClass: (new (args: BagArgs) => tfl.layers.Layer) | undefined;

/**
 * A weightless layer: int token ids `[B, T]` → the bag of tokens `[B, V]`
 * (each row the mean of the T one-hot vectors). A linear layer after it is
 * exactly the mean of T token embeddings, and its gradient is a plain matrix
 * product — tfjs's embedding (gather) gradient needs `UnsortedSegmentSum`,
 * which the wasm backend lacks. Registered on first use.
 */
export function bagOfTokensClass(): new (args: BagArgs) => tfl.layers.Layer {
  if (bagClass === undefined) {
    class SelfsupBagOfTokens extends tfl.layers.Layer {
      static className = 'SelfsupBagOfTokens';
      readonly vocabSize: number;
      constructor(args: BagArgs) {
        super(args);
        this.vocabSize = args.vocabSize;
      }
      override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
        const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as LayerShape;
        return [shape[0] ?? null, this.vocabSize];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => {
          const ids = tf.cast(singleInput(inputs), 'int32');
          return tf.mean(oneHotFloat(ids, this.vocabSize), 1);
        });
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), vocabSize: this.vocabSize };
      }
    }
    tf.serialization.registerClass(SelfsupBagOfTokens);
    bagClass = SelfsupBagOfTokens;
  }
  return bagClass;
}

/** Options of {@link tokenEncoder}. */
export interface TokenEncoderOptions {
  /** Number of distinct tokens V (token ids lie in `[0, V)`; id 0 is the padding). Required. */
  vocabSize: number;
  /** Tokens per sequence T (shorter sequences are padded with 0). Required. */
  sequenceLength: number;
  /**
   * Width of the token embeddings.
   * @default 32
   */
  embeddingDim?: number;
  /**
   * Widths of the hidden layers (+ReLU) after pooling.
   * @default [64]
   */
  hiddenDims?: readonly number[];
  /**
   * Size of the output features.
   * @default 64
   */
  outputDim?: number;
  /**
   * Seed of the weight initialisation.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Name of the returned model.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/**
 * A small text (token-sequence) encoder for CLIP-style dual encoders on short
 * captions: token embeddings, averaged over the sequence (a bag of tokens —
 * order does not matter, which suits attribute lists), then an MLP. CLIP
 * (Radford et al. 2021) uses a 12-layer Transformer over 76 BPE tokens; for
 * sequences of a few attribute tokens a pooled embedding carries the same
 * information at a fraction of the cost.
 *
 * Input int32 (or float32 holding integers) `[B, T]`; padding tokens (id 0)
 * have their own learned embedding and count in the mean, so pad to a fixed
 * length. The mean embedding is computed as a linear layer on the bag of
 * tokens (the mean one-hot vector; a `SelfsupBagOfTokens` layer), which is
 * the same function as an embedding lookup followed by average pooling and
 * trains on every backend. Embeddings start at `N(0, 0.02²)` (CLIP's token
 * embedding), hidden layers He-normal, the output layer Xavier-uniform, from
 * `seed`.
 *
 * @returns a model `[B, T]` → `[B, outputDim]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { tokenEncoder } from 'selfsup';
 *
 * const text = tokenEncoder({ vocabSize: 20, sequenceLength: 4, outputDim: 8, seed: 0 });
 * const tokens = tf.tensor2d([[3, 7, 1, 0], [2, 5, 0, 0]], [2, 4], 'int32');
 * console.log((text.apply(tokens) as tf.Tensor).shape); // [2, 8]
 * ```
 */
export function tokenEncoder(options: TokenEncoderOptions): tfl.Sequential {
  const fn = 'tokenEncoder';
  assertBackendReady(fn);
  options ??= {} as TokenEncoderOptions;
  assertKnownOptions(options, ['vocabSize', 'sequenceLength', 'embeddingDim', 'hiddenDims', 'outputDim', 'seed', 'name'], fn);
  const { vocabSize, sequenceLength, embeddingDim = 32, hiddenDims = [64], outputDim = 64 } = options;
  assertInteger(vocabSize, fn, 'options.vocabSize', { min: 1 });
  assertInteger(sequenceLength, fn, 'options.sequenceLength', { min: 1 });
  assertInteger(embeddingDim, fn, 'options.embeddingDim', { min: 1 });
  assertInteger(outputDim, fn, 'options.outputDim', { min: 1 });
  if (!Array.isArray(hiddenDims) || !hiddenDims.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new ValueRangeError(fn, 'options.hiddenDims', 'be an array of integers ≥ 1', describeValue(hiddenDims));
  }
  const dims = [embeddingDim, ...hiddenDims, outputDim];
  assertMemoryFits(fn, 'options.vocabSize', [
    { shape: [vocabSize, embeddingDim], count: 2 },
    ...dims.slice(1).map((u, i) => ({ shape: [dims[i]!, u], count: 2 })),
  ]);
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  const Bag = bagOfTokensClass();
  model.add(new Bag({ vocabSize, inputShape: [sequenceLength] }));
  const embedding = tfl.layers.dense({ units: embeddingDim, useBias: false });
  model.add(embedding);
  writeValues(embedding.weights[0]!, rng.normalArray(vocabSize * embeddingDim, 0, 0.02));
  for (const units of hiddenDims) {
    const dense = tfl.layers.dense({ units, activation: 'relu' });
    model.add(dense);
    initKernelLayer(dense, rng, 'he');
  }
  const out = tfl.layers.dense({ units: outputDim });
  model.add(out);
  initKernelLayer(out, rng, 'xavier');
  return model;
}
