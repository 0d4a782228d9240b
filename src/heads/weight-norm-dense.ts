import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Seed } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf } from '../core/validate.js';
import { kernelValues, writeValues } from './init.js';
import { matMulLastAxis, numericSeed, singleInput, singleShape, type BaseLayerArgs, type LayerShape } from './layer-utils.js';

/** Options of {@link weightNormDense}. */
export interface WeightNormDenseOptions {
  /** Output size K (DINO: 65536). Required. */
  units: number;
  /**
   * Keep the gain g fixed at 1, so every output unit's weight vector has unit
   * norm (DINO's `norm_last_layer=True`, its default); with `false`, g is trained.
   * @default true
   */
  frozenNorm?: boolean;
  /**
   * Seed of the initial direction v.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Layer name.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/** A weight-normalised, bias-free dense layer (see {@link weightNormDense}). */
export interface WeightNormDenseLayer extends tfl.layers.Layer {
  /** Output size K. */
  readonly units: number;
  /** Whether the gain is fixed at 1. */
  readonly frozenNorm: boolean;
  /** The effective kernel `W = g · v / ‖v‖`, `[D, K]` (a new tensor: dispose it). */
  effectiveKernel(): tf.Tensor2D;
}

type WeightNormDenseArgs = BaseLayerArgs & { units: number; frozenNorm: boolean; seed: number };
let layerClass: (new (args: WeightNormDenseArgs) => WeightNormDenseLayer) | undefined;

/**
 * `x · (g ⊙ v / ‖v‖)`, the column norm taken over the input axis: Salimans &
 * Kingma's reparameterisation (PyTorch's `weight_norm(nn.Linear)` with dim 0 of
 * its `[K, D]` weight, i.e. one norm per output unit). Exposed for tests.
 */
export function weightNormMatMul(x: tf.Tensor, v: tf.Tensor, g: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const norms = tf.sqrt(tf.sum(tf.square(v), 0, true));
    return matMulLastAxis(x, tf.mul(v, tf.div(g, norms)));
  });
}

/** Defines and registers the layer class on first use: nothing touches tfjs at import time. */
export function weightNormDenseClass(): new (args: WeightNormDenseArgs) => WeightNormDenseLayer {
  if (layerClass === undefined) {
    class SelfsupWeightNormDense extends tfl.layers.Layer implements WeightNormDenseLayer {
      static className = 'SelfsupWeightNormDense';
      readonly units: number;
      readonly frozenNorm: boolean;
      readonly seed: number;
      private direction: tfl.LayerVariable | null = null;
      private gain: tfl.LayerVariable | null = null;
      constructor(args: WeightNormDenseArgs) {
        super(args);
        this.units = args.units;
        this.frozenNorm = args.frozenNorm;
        this.seed = args.seed;
      }
      override build(inputShape: LayerShape | LayerShape[]): void {
        const dim = singleShape(inputShape).at(-1) as number;
        const shape = [dim, this.units];
        this.direction = this.addWeight('kernel_v', shape, 'float32', tfl.initializers.zeros());
        // DINO fills weight_g with 1 and, with norm_last_layer, never trains it.
        this.gain = this.addWeight('kernel_g', [this.units], 'float32', tfl.initializers.ones(), undefined, !this.frozenNorm);
        writeValues(this.direction, kernelValues(createRng(this.seed), shape, 'torch'));
        this.built = true;
      }
      override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
        return [...singleShape(inputShape).slice(0, -1), this.units];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return weightNormMatMul(singleInput(inputs), this.direction!.read(), this.gain!.read());
      }
      effectiveKernel(): tf.Tensor2D {
        return tf.tidy(() => {
          const v = this.direction!.read();
          return tf.mul(v, tf.div(this.gain!.read(), tf.sqrt(tf.sum(tf.square(v), 0, true)))) as tf.Tensor2D;
        });
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), units: this.units, frozenNorm: this.frozenNorm, seed: this.seed };
      }
    }
    tf.serialization.registerClass(SelfsupWeightNormDense);
    layerClass = SelfsupWeightNormDense;
  }
  return layerClass;
}

/**
 * DINO's last layer (Caron et al. 2021, §3.1: the head ends in "a weight
 * normalized fully connected layer with K dimensions, which is similar to the
 * design from SwAV"): a bias-free dense layer reparameterised as
 * `W = g · v / ‖v‖` (Salimans & Kingma 2016), one norm per output unit, so
 * `y = x · W`, `[..., D]` → `[..., K]`. With `frozenNorm` (DINO's
 * `norm_last_layer`, default) g stays at 1 and every prototype `W[:, k]` has
 * unit norm; the gradient flows through the normalisation to v. v starts as
 * PyTorch's `nn.Linear` default (`U(±1/√D)`), g at 1. DINO also freezes this
 * layer during the first epoch (`layer.trainable = false`). Serialisable.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { weightNormDense } from 'selfsup';
 *
 * const last = weightNormDense({ units: 32, seed: 0 });
 * const logits = last.apply(tf.randomNormal([4, 8])) as tf.Tensor;
 * const w = last.effectiveKernel();
 * tf.norm(w, 'euclidean', 0).print(); // 32 ones
 * console.log(logits.shape); // [4, 32]
 * ```
 */
export function weightNormDense(options: WeightNormDenseOptions): WeightNormDenseLayer {
  const fn = 'weightNormDense';
  options ??= {} as WeightNormDenseOptions;
  assertKnownOptions(options, ['units', 'frozenNorm', 'seed', 'name'], fn);
  const { units, frozenNorm = true } = options;
  assertInteger(units, fn, 'options.units', { min: 1 });
  assertOneOf(frozenNorm, [true, false], fn, 'options.frozenNorm');
  const Layer = weightNormDenseClass();
  return new Layer({
    units,
    frozenNorm,
    seed: numericSeed(options.seed, fn, 'options.seed'),
    ...(options.name !== undefined ? { name: options.name } : {}),
  });
}
