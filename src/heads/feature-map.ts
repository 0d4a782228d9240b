import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

interface PooledModel {
  layers: tfl.layers.Layer[];
  inputs: tfl.SymbolicTensor[];
}

function isPooledModel(m: unknown): m is PooledModel {
  if (typeof m !== 'object' || m === null) return false;
  const { layers, inputs } = m as Partial<PooledModel>;
  return Array.isArray(layers) && Array.isArray(inputs) && layers.length >= 2 && inputs.length === 1;
}

/**
 * The spatial feature map of a pooled convolutional encoder: for a
 * tfjs-layers model whose last layer is global average pooling (such as
 * {@link convEncoder}), a model from the same input to the output of the
 * layer before the pooling, sharing its weights. Dense-prediction pretext
 * tasks (colorization, split-brain) train the encoder through this map,
 * while the pooled encoder stays the representation that is evaluated and
 * transferred.
 *
 * @param encoder a tfjs-layers `LayersModel` ending in `GlobalAveragePooling2D`.
 * @returns a model `[B, H, W, C]` → `[B, h, w, F]` with the encoder's weights (training it trains the encoder).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { convEncoder, featureMapModel } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [4, 8, 8, 16], seed: 0 });
 * const map = featureMapModel(encoder);
 * console.log((map.apply(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape); // [2, 4, 4, 16]
 * ```
 */
export function featureMapModel(encoder: object): tfl.LayersModel {
  const fn = 'featureMapModel';
  if (!isPooledModel(encoder)) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      'be a single-input tfjs-layers model ending in global average pooling (e.g. convEncoder)',
      describeValue(encoder),
    );
  }
  const last = encoder.layers[encoder.layers.length - 1]!;
  if (last.getClassName() !== 'GlobalAveragePooling2D') {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      'end in a GlobalAveragePooling2D layer, so its spatial feature map can be read before pooling (e.g. convEncoder)',
      `a model whose last layer is ${last.getClassName()}`,
    );
  }
  const before = encoder.layers[encoder.layers.length - 2]!;
  return tfl.model({ inputs: encoder.inputs, outputs: before.output as tfl.SymbolicTensor });
}
