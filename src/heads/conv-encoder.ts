import * as tfl from '@tensorflow/tfjs-layers';
import { assertMemoryFits } from '../core/memory-budget.js';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, formatShape } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertPositiveIntegers } from './mlp-encoder.js';
import { batchNorm as batchNormLayer } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link convEncoder}. */
export interface ConvEncoderOptions {
  /** `[H, W, C]` of one image, e.g. `[28, 28, 1]` (Fashion-MNIST) or `[32, 32, 3]` (CIFAR). Required. */
  inputShape: readonly [number, number, number] | readonly number[];
  /**
   * Output channels of each convolution; the last is the feature size.
   * @default [32, 64, 128, 128]
   */
  channels?: readonly number[];
  /**
   * Stride of each convolution (same length as `channels`).
   * @default [1, 2, 2, 2]; with custom `channels`, 1 for the first convolution and 2 after
   */
  strides?: readonly number[];
  /**
   * Square kernel size of every convolution.
   * @default 3
   */
  kernelSize?: number;
  /**
   * Batch norm between each convolution and its ReLU.
   * @default false
   */
  batchNorm?: boolean;
  /**
   * Side g of the grid the last feature map is average-pooled to: 1 is
   * global average pooling (a ResNet's head, any input size); g > 1 keeps a
   * coarse g×g layout and flattens it (`g²·C` features), which helps on
   * aligned images such as Fashion-MNIST's centred garments. The last map's
   * side (`ceil(H / Π strides)`) must be a multiple of g, and the input size
   * is then fixed.
   * @default 1
   */
  outputGrid?: number;
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
 * selfsup's reference convolutional encoder for 28×28 and 32×32 images (the
 * encoder of the learning benchmark): four 3×3 convolutions with 32, 64, 128
 * and 128 channels and strides 1, 2, 2, 2 ('same' padding), each followed by
 * ReLU (batch norm before it with `batchNorm: true`), then global average
 * pooling to a feature vector, as a `tf.Sequential`. A 28×28 input is reduced
 * to 4×4×128 before pooling. It is a small stand-in for the ResNets of the
 * papers, sized to train on a CPU. With `outputGrid: g` the last map is
 * average-pooled to g×g cells and flattened instead.
 *
 * Kernels start He-normal (`N(0, 2/fan_in)`, He et al. 2015) with zero bias,
 * from `seed`; a convolution followed by batch norm has no bias.
 *
 * Training it needs the `Conv2DBackpropFilter` kernel, which tfjs's wasm
 * backend lacks; selfsup's training kernels (registered by `useBackend`) fill
 * that gap. The cpu backend trains it as is.
 *
 * @returns a model `[B, H, W, C]` → `[B, g²·channels.at(-1)]` (g = `outputGrid`, 1 by default).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [4, 8, 8, 16], seed: 0 });
 * const h = encoder.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
 * console.log(h.shape); // [2, 16]
 * ```
 */
export function convEncoder(options: ConvEncoderOptions): tfl.Sequential {
  const fn = 'convEncoder';
  assertBackendReady(fn);
  options ??= {} as ConvEncoderOptions;
  assertKnownOptions(options, ['inputShape', 'channels', 'strides', 'kernelSize', 'batchNorm', 'outputGrid', 'seed', 'name'], fn);
  const { inputShape, channels = [32, 64, 128, 128], kernelSize = 3, batchNorm = false, outputGrid = 1 } = options;
  assertPositiveIntegers(inputShape, fn, 'options.inputShape', 3);
  assertPositiveIntegers(channels, fn, 'options.channels');
  const strides = options.strides ?? (options.channels === undefined ? [1, 2, 2, 2] : channels.map((_, i) => (i === 0 ? 1 : 2)));
  assertPositiveIntegers(strides, fn, 'options.strides');
  if (strides.length !== channels.length) {
    throw new ValueRangeError(
      fn,
      'options.strides',
      `have one stride per convolution (${channels.length}, as options.channels)`,
      formatShape(strides),
    );
  }
  assertInteger(kernelSize, fn, 'options.kernelSize', { min: 1 });
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  assertInteger(outputGrid, fn, 'options.outputGrid', { min: 1 });
  // 'same' padding: each convolution maps a side s to ceil(s / stride).
  const lastMap = [inputShape[0]!, inputShape[1]!].map((side) => strides.reduce((s, st) => Math.ceil(s / st), side));
  if (outputGrid > 1 && lastMap.some((side) => side % outputGrid !== 0)) {
    throw new ValueRangeError(
      fn,
      'options.outputGrid',
      `divide the last feature map's side (${lastMap.join('×')} for input ${formatShape(inputShape)})`,
      String(outputGrid),
    );
  }
  // The kernels (k × k × in × out) and their initial values, before any layer exists.
  const ins = [inputShape[2]!, ...channels];
  assertMemoryFits(fn, kernelSize > 7 ? 'options.kernelSize' : 'options.channels', channels.map((out, i) => ({ shape: [kernelSize, kernelSize, ins[i]!, out], count: 2 })));
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  channels.forEach((filters, i) => {
    const conv = tfl.layers.conv2d({
      filters,
      kernelSize,
      strides: strides[i]!,
      padding: 'same',
      useBias: !batchNorm,
      ...(i === 0 ? { inputShape: [...inputShape] } : {}),
    });
    model.add(conv);
    initKernelLayer(conv, rng, 'he');
    if (batchNorm) model.add(batchNormLayer());
    model.add(tfl.layers.activation({ activation: 'relu' }));
  });
  if (outputGrid === 1) {
    model.add(tfl.layers.globalAveragePooling2d({}));
  } else {
    const pool = lastMap.map((side) => side / outputGrid) as [number, number];
    model.add(tfl.layers.averagePooling2d({ poolSize: pool, strides: pool, padding: 'valid' }));
    model.add(tfl.layers.flatten({}));
  }
  return model;
}
