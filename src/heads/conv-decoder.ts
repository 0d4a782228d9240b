import * as tfl from '@tensorflow/tfjs-layers';
import { ValueRangeError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, formatShape } from '../core/validate.js';
import { initKernelLayer } from './init.js';
import { assertPositiveIntegers } from './mlp-encoder.js';
import { batchNorm as batchNormLayer } from './mlp.js';
import { assertBackendReady } from '../core/backend-ready.js';

/** Options of {@link convDecoder}. */
export interface ConvDecoderOptions {
  /** Size F of the code vector the decoder reads. Required. */
  inputDim: number;
  /** `[H, W, C]` of the images it produces, e.g. `[28, 28, 1]`. Required. */
  outputShape: readonly [number, number, number] | readonly number[];
  /**
   * Channels of the feature map before each ×2 up-sampling stage; the number
   * of entries n sets the starting grid `H/2ⁿ × W/2ⁿ` (both must be integers).
   * @default [64, 32]
   */
  channels?: readonly number[];
  /**
   * Activation of the output: `'sigmoid'` for pixels in [0, 1], `'linear'` for
   * unbounded targets.
   * @default 'sigmoid'
   */
  outputActivation?: 'sigmoid' | 'linear';
  /**
   * Batch norm before each hidden ReLU (DCGAN's generator).
   * @default false
   */
  batchNorm?: boolean;
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
 * A convolutional decoder from a code vector to an image, the generator half
 * of selfsup's autoencoders and of the Context Encoder (Pathak et al., "Context
 * Encoders: Feature Learning by Inpainting", CVPR 2016: "a series of five
 * up-convolutional layers with learned filters, each with a rectified linear
 * unit activation function"), scaled to small images: a linear layer to a
 * `H/2ⁿ × W/2ⁿ × channels[0]` map (+ReLU), then for each entry of `channels`
 * a 4×4 stride-2 transposed convolution (DCGAN's up-convolution) to that many
 * channels (+[BN]+ReLU), doubling the grid each time, and a final 3×3
 * convolution to C channels with `outputActivation`.
 *
 * With the defaults a 28×28×1 output starts from a 7×7×64 map. Hidden
 * layers start He-normal, the output layer Xavier-uniform, biases at zero,
 * all drawn from `seed`.
 *
 * @returns a model `[B, inputDim]` → `[B, H, W, C]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convDecoder } from 'selfsup';
 *
 * const decoder = convDecoder({ inputDim: 16, outputShape: [28, 28, 1], channels: [8, 4], seed: 0 });
 * const images = decoder.apply(tf.zeros([2, 16])) as tf.Tensor;
 * console.log(images.shape); // [2, 28, 28, 1]
 * ```
 */
export function convDecoder(options: ConvDecoderOptions): tfl.Sequential {
  const fn = 'convDecoder';
  assertBackendReady(fn);
  options ??= {} as ConvDecoderOptions;
  assertKnownOptions(options, ['inputDim', 'outputShape', 'channels', 'outputActivation', 'batchNorm', 'seed', 'name'], fn);
  const { inputDim, outputShape, channels = [64, 32], outputActivation = 'sigmoid', batchNorm = false } = options;
  assertInteger(inputDim, fn, 'options.inputDim', { min: 1 });
  assertPositiveIntegers(outputShape, fn, 'options.outputShape', 3);
  assertPositiveIntegers(channels, fn, 'options.channels');
  assertOneOf(outputActivation, ['sigmoid', 'linear'] as const, fn, 'options.outputActivation');
  assertOneOf(batchNorm, [true, false], fn, 'options.batchNorm');
  const [h, w, c] = outputShape as [number, number, number];
  const scale = 2 ** channels.length;
  if (h % scale !== 0 || w % scale !== 0) {
    throw new ValueRangeError(
      fn,
      'options.channels',
      `have n entries with 2ⁿ dividing the output height and width ${formatShape([h, w])} (each entry is one ×2 up-sampling)`,
      `${channels.length} entries`,
    );
  }
  const rng = createRng(options.seed, fn, 'options.seed');
  const model = tfl.sequential(options.name !== undefined ? { name: options.name } : {});
  const [h0, w0, c0] = [h / scale, w / scale, channels[0]!];
  const dense = tfl.layers.dense({ units: h0 * w0 * c0, inputShape: [inputDim] });
  model.add(dense);
  initKernelLayer(dense, rng, 'he');
  model.add(tfl.layers.activation({ activation: 'relu' }));
  model.add(tfl.layers.reshape({ targetShape: [h0, w0, c0] }));
  for (const filters of channels) {
    const up = tfl.layers.conv2dTranspose({ filters, kernelSize: 4, strides: 2, padding: 'same', useBias: !batchNorm });
    model.add(up);
    initKernelLayer(up, rng, 'he');
    if (batchNorm) model.add(batchNormLayer());
    model.add(tfl.layers.activation({ activation: 'relu' }));
  }
  const out = tfl.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', activation: outputActivation });
  model.add(out);
  initKernelLayer(out, rng, 'xavier');
  return model;
}
