import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { normalizeLastAxis } from '../core/normalize.js';
import { assertKnownOptions, assertPositive } from '../core/validate.js';
import { singleInput, type BaseLayerArgs, type LayerShape } from './layer-utils.js';

/** Options of {@link l2NormalizeLayer}. */
export interface L2NormalizeLayerOptions {
  /**
   * Lower bound on the norm: `x / max(‖x‖, eps)`, as PyTorch's `F.normalize`.
   * @default 1e-12
   */
  eps?: number;
  /**
   * Layer name.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/** A layer that scales each vector along the last axis to unit L2 norm (see {@link l2NormalizeLayer}). */
export interface L2NormalizeLayer extends tfl.layers.Layer {
  /** The norm's lower bound. */
  readonly eps: number;
}

type L2NormalizeArgs = BaseLayerArgs & { eps?: number };
let layerClass: (new (args: L2NormalizeArgs) => L2NormalizeLayer) | undefined;

/** Defines and registers the layer class on first use: nothing touches tfjs at import time. */
export function l2NormalizeLayerClass(): new (args: L2NormalizeArgs) => L2NormalizeLayer {
  if (layerClass === undefined) {
    class SelfsupL2Normalize extends tfl.layers.Layer implements L2NormalizeLayer {
      static className = 'SelfsupL2Normalize';
      readonly eps: number;
      constructor(args: L2NormalizeArgs) {
        super(args);
        this.eps = args.eps ?? 1e-12;
      }
      override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape | LayerShape[] {
        return inputShape;
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => normalizeLastAxis(singleInput(inputs), this.eps));
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), eps: this.eps };
      }
    }
    tf.serialization.registerClass(SelfsupL2Normalize);
    layerClass = SelfsupL2Normalize;
  }
  return layerClass;
}

/**
 * A tfjs-layers layer computing `x / max(‖x‖₂, eps)` along the last axis, with
 * selfsup's stable gradient (finite at a zero vector). DINO and SwAV put it
 * between the MLP and the prototypes. Serialisable: a saved model that
 * contains it loads after {@link registerHeadsLayers} (or any builder) has run.
 *
 * @returns a layer `[..., D]` → `[..., D]`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2NormalizeLayer } from 'selfsup';
 *
 * const layer = l2NormalizeLayer();
 * (layer.apply(tf.tensor2d([[3, 4], [0, 0]])) as tf.Tensor).print(); // [[0.6, 0.8], [0, 0]]
 * ```
 */
export function l2NormalizeLayer(options: L2NormalizeLayerOptions = {}): L2NormalizeLayer {
  const fn = 'l2NormalizeLayer';
  assertKnownOptions(options, ['eps', 'name'], fn);
  const { eps = 1e-12 } = options;
  assertPositive(eps, fn, 'options.eps');
  const Layer = l2NormalizeLayerClass();
  return new Layer({ eps, ...(options.name !== undefined ? { name: options.name } : {}) });
}
