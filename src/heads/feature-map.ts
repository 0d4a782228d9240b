import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

interface LayeredModel {
  layers: tfl.layers.Layer[];
  inputs: tfl.SymbolicTensor[];
  outputs: tfl.SymbolicTensor[];
}

/** The pooling and reshaping layers a conv encoder's head may end with. */
const POOLING_HEAD = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'AveragePooling2D', 'MaxPooling2D', 'Flatten', 'Reshape']);

function isLayeredModel(m: unknown): m is LayeredModel {
  if (typeof m !== 'object' || m === null) return false;
  const { layers, inputs, outputs } = m as Partial<LayeredModel>;
  return Array.isArray(layers) && Array.isArray(inputs) && Array.isArray(outputs) && layers.length >= 2 && inputs.length === 1 && outputs.length === 1;
}

/**
 * The spatial feature map of a convolutional encoder: for a tfjs-layers model
 * that ends in a pooling head — global average pooling (as
 * {@link convEncoder}), or average pooling to a small grid followed by a
 * flatten (`convEncoder`'s `outputGrid`) — a model from the same input to the
 * output of the last layer before that head, sharing the encoder's weights.
 * Dense-prediction pretext tasks (colorization, split-brain) train the encoder
 * through this map, and the patch tasks (jigsaw, context prediction) pool it
 * over their small tiles, while the encoder itself stays the representation
 * that is evaluated and transferred.
 *
 * @param encoder a single-input tfjs-layers model ending in pooling / flatten layers after a 4-D feature map.
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
  if (!isLayeredModel(encoder)) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      'be a single-input tfjs-layers model ending in a pooling head (e.g. convEncoder)',
      describeValue(encoder),
    );
  }
  // Walk back from the model's own output through its pooling head. Following
  // the graph (not layer.output) stays right when a layer is shared by several models.
  let tensor = encoder.outputs[0]!;
  let stripped = 0;
  while (POOLING_HEAD.has(tensor.sourceLayer.getClassName())) {
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex];
    const input = node?.inputTensors[0];
    if (input === undefined) break;
    tensor = input;
    stripped++;
  }
  if (stripped === 0 || tensor.shape.length !== 4) {
    throw new InvalidArgumentError(
      fn,
      'encoder',
      'end in pooling / flatten layers after a 4-D feature map, so the map can be read before pooling (e.g. convEncoder)',
      `a model whose last layer is ${encoder.layers[encoder.layers.length - 1]!.getClassName()}`,
    );
  }
  return tfl.model({ inputs: encoder.inputs, outputs: tensor });
}
