import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { assertSeed, createRng, type Seed } from '../core/rng.js';

/** The constructor arguments every tfjs-layers layer accepts (name, trainable, inputShape, …). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** A tfjs-layers shape: dimensions, `null` for the batch axis. */
export type LayerShape = (number | null)[];

/** The single tensor of a layer's `call` input. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** The single shape of a layer's `build` / `computeOutputShape` input. */
export function singleShape(shape: LayerShape | LayerShape[]): LayerShape {
  return Array.isArray(shape[0]) ? (shape[0] as LayerShape) : (shape as LayerShape);
}

/**
 * A layer's seed must survive `getConfig()` (JSON), so an {@link Rng} or an
 * absent seed is turned into a number once, when the layer is created.
 */
export function numericSeed(seed: Seed | undefined, fn = 'numericSeed', arg = 'seed'): number {
  if (typeof seed === 'number') {
    assertSeed(seed, fn, arg);
    return seed;
  }
  return createRng(seed, fn, arg).nextUint32();
}

/** `x · w` over the last axis of an input of any rank ≥ 2 (`[..., D]` · `[D, K]` → `[..., K]`). */
export function matMulLastAxis(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, w as tf.Tensor2D), [...lead, w.shape[1]!]);
}
