import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue, isTensor } from '../core/validate.js';

/** A tfjs-layers weight: a `LayerVariable`, of which only these members are used. */
export interface LayerWeight {
  /** The underlying `tf.Variable`. */
  read(): tf.Tensor;
  /** Whether an optimizer may update it. */
  readonly trainable: boolean;
  /** Its scoped name, e.g. `dense_Dense1/kernel`. */
  readonly name: string;
}

/** A tfjs-layers `Layer` or `LayersModel` (only the members used here). */
export interface LayerLike {
  /** Every weight of the layer (or model). */
  readonly weights: LayerWeight[];
  /** The weights an optimizer updates. */
  readonly trainableWeights: LayerWeight[];
  /** The layers of a model; absent on a single layer. */
  readonly layers?: LayerLike[];
}

/** A selfsup functional model (`tinyVit`, `maeDecoder`): variables in a fixed order. */
export interface VariableHolder {
  /** Every variable, in a fixed order. */
  readonly variables: tf.Variable[];
  /** The variables an optimizer updates. */
  readonly trainableVariables: tf.Variable[];
}

/**
 * Anything whose weights the training utilities can read and write: a
 * tfjs-layers `LayersModel` or `Layer`, a selfsup ViT / MAE decoder, or a
 * plain array of `tf.Variable`s.
 */
export type ModelWeights = LayerLike | VariableHolder | readonly tf.Variable[];

/** One variable with its name and whether it is a learnable parameter (as opposed to a buffer). */
export interface NamedVariable {
  variable: tf.Variable;
  name: string;
  trainable: boolean;
}

function isLayerLike(m: unknown): m is LayerLike {
  return typeof m === 'object' && m !== null && 'trainableWeights' in m && 'weights' in m && Array.isArray((m as LayerLike).weights);
}

function isHolder(m: unknown): m is VariableHolder {
  return typeof m === 'object' && m !== null && 'trainableVariables' in m && 'variables' in m;
}

function leafLayers(layer: LayerLike, out: LayerLike[]): LayerLike[] {
  if (Array.isArray(layer.layers)) for (const l of layer.layers) leafLayers(l, out);
  else out.push(layer);
  return out;
}

/**
 * Every variable of `model` in an order that does not depend on which layers
 * are frozen: layer by layer (nested models flattened), each layer's weights in
 * creation order. tfjs-layers' model-level `weights` lists trainable weights
 * first, so freezing one layer would reorder it.
 */
export function allVariables(model: ModelWeights, fn: string, arg: string): NamedVariable[] {
  if (Array.isArray(model)) {
    return model.map((v, i) => {
      if (!isTensor(v) || typeof (v as tf.Variable).assign !== 'function') {
        throw new InvalidArgumentError(fn, `${arg}[${i}]`, 'be a tf.Variable', describeValue(v));
      }
      return { variable: v as tf.Variable, name: (v as tf.Variable).name, trainable: true };
    });
  }
  if (isHolder(model)) {
    const trainable = new Set(model.trainableVariables);
    return model.variables.map((v) => ({ variable: v, name: v.name, trainable: trainable.has(v) }));
  }
  if (isLayerLike(model)) {
    return leafLayers(model, []).flatMap((layer) =>
      layer.weights.map((w) => ({ variable: w.read() as tf.Variable, name: w.name, trainable: w.trainable })),
    );
  }
  throw new InvalidArgumentError(
    fn,
    arg,
    'be a tfjs-layers model or layer, a selfsup ViT / MAE decoder, or an array of tf.Variable',
    describeValue(model),
  );
}

/**
 * The variables an optimizer should update for `model`, to pass as
 * `optimizer.minimize(f, returnCost, varList)`'s `varList`. Always pass one
 * in SSL: without it tfjs updates every trainable variable it knows, including
 * a BYOL / MoCo / DINO target network that must only move by EMA.
 *
 * For a tfjs-layers model these are its `trainableWeights` (frozen layers and
 * batch-norm statistics excluded); for a selfsup ViT or MAE decoder its
 * `trainableVariables`; an array of variables is returned as is.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { projectionMlp, trainableVariables } from 'selfsup';
 *
 * const online = projectionMlp({ inputDim: 4, hiddenDim: 8, outputDim: 2, variant: 'byol', seed: 0 });
 * const x = tf.randomNormal([8, 4]);
 * const optimizer = tf.train.sgd(0.1);
 * optimizer.minimize(() => tf.mean(tf.square(online.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, false, trainableVariables(online));
 * console.log(trainableVariables(online).length); // 5: two kernels, the output bias, BN γ and β (not the moving statistics)
 * ```
 */
export function trainableVariables(model: ModelWeights): tf.Variable[] {
  const fn = 'trainableVariables';
  if (Array.isArray(model)) return allVariables(model, fn, 'model').map((v) => v.variable);
  if (isHolder(model)) return model.trainableVariables;
  if (isLayerLike(model)) return model.trainableWeights.map((w) => w.read() as tf.Variable);
  return allVariables(model, fn, 'model').map((v) => v.variable);
}
