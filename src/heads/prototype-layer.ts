import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { assertMemoryFits } from '../core/memory-budget.js';
import { createRng, type Seed } from '../core/rng.js';
import { InvalidArgumentError } from '../core/errors.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { kernelValues, writeValues } from './init.js';
import { matMulLastAxis, numericSeed, singleInput, singleShape, type BaseLayerArgs, type LayerShape } from './layer-utils.js';

/** Options of {@link prototypeLayer}. */
export interface PrototypeLayerOptions {
  /** Number of prototypes K (SwAV: 3000 on ImageNet). Required. */
  numPrototypes: number;
  /**
   * Seed of the initial prototypes.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
  /**
   * Whether the prototypes are trained (SwAV freezes them for the first epoch:
   * set `layer.trainable = false` then).
   * @default true
   */
  trainable?: boolean;
  /**
   * Layer name.
   * @default tfjs-layers' automatic name
   */
  name?: string;
}

/** SwAV's prototype layer (see {@link prototypeLayer}). */
export interface PrototypeLayer extends tfl.layers.Layer {
  /** Number of prototypes K. */
  readonly numPrototypes: number;
  /** The prototypes as columns, `[D, K]` (the live variable: do not dispose). */
  prototypes(): tf.Tensor2D;
  /** Rescales every prototype to unit L2 norm, in place (SwAV does this before each step). */
  normalizeWeights(): void;
}

type PrototypeArgs = BaseLayerArgs & { numPrototypes: number; seed: number };
let layerClass: (new (args: PrototypeArgs) => PrototypeLayer) | undefined;

/** `[D, K]` → the same with unit-norm columns. */
export function normalizeColumns(kernel: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(kernel, tf.maximum(tf.sqrt(tf.sum(tf.square(kernel), 0, true)), 1e-12)));
}

/** Defines and registers the layer class on first use: nothing touches tfjs at import time. */
export function prototypeLayerClass(): new (args: PrototypeArgs) => PrototypeLayer {
  if (layerClass === undefined) {
    class SelfsupPrototypes extends tfl.layers.Layer implements PrototypeLayer {
      static className = 'SelfsupPrototypes';
      readonly numPrototypes: number;
      readonly seed: number;
      private kernel: tfl.LayerVariable | null = null;
      constructor(args: PrototypeArgs) {
        super(args);
        this.numPrototypes = args.numPrototypes;
        this.seed = args.seed;
      }
      override build(inputShape: LayerShape | LayerShape[]): void {
        const dim = singleShape(inputShape).at(-1) as number;
        const shape = [dim, this.numPrototypes];
        assertMemoryFits('prototypeLayer', 'options.numPrototypes', [{ shape, count: 2 }]);
        this.kernel = this.addWeight('kernel', shape, 'float32', tfl.initializers.zeros());
        writeValues(this.kernel, kernelValues(createRng(this.seed), shape, 'torch'));
        this.normalizeWeights();
        this.built = true;
      }
      override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
        return [...singleShape(inputShape).slice(0, -1), this.numPrototypes];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => matMulLastAxis(singleInput(inputs), this.kernel!.read()));
      }
      prototypes(): tf.Tensor2D {
        return this.kernel!.read() as tf.Tensor2D;
      }
      normalizeWeights(): void {
        if (this.kernel === null) return;
        tf.tidy(() => {
          this.kernel!.write(normalizeColumns(this.kernel!.read()));
        });
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), numPrototypes: this.numPrototypes, seed: this.seed };
      }
    }
    tf.serialization.registerClass(SelfsupPrototypes);
    layerClass = SelfsupPrototypes;
  }
  return layerClass;
}

/**
 * SwAV's prototype layer (Caron et al. 2020): a bias-free linear map whose K
 * weight vectors are the prototypes `c₁…c_K`, scoring an L2-normalised
 * embedding z against each of them (`scores = z·C`, `[..., D]` → `[..., K]`). The
 * paper maps features "to a set of K trainable prototypes vectors"; its code
 * keeps them on the unit sphere by L2-normalising the prototypes before every
 * training step, which {@link PrototypeLayer.normalizeWeights} does in place
 * (call it once per step, before the forward pass). The prototypes start as
 * PyTorch's `nn.Linear` default, normalised. Weights are stored `[D, K]`
 * (prototypes as columns, tfjs-layers' Dense layout). Serialisable.
 *
 * For DINO's weight-normalised last layer use {@link weightNormDense}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2NormalizeLayer, prototypeLayer } from 'selfsup';
 *
 * const prototypes = prototypeLayer({ numPrototypes: 10, seed: 0 });
 * const z = l2NormalizeLayer().apply(tf.randomNormal([4, 8])) as tf.Tensor;
 * const scores = prototypes.apply(z) as tf.Tensor; // [4, 10], each in [-1, 1]
 * prototypes.normalizeWeights(); // after each optimizer step
 * console.log(scores.shape);
 * ```
 */
export function prototypeLayer(options: PrototypeLayerOptions): PrototypeLayer {
  const fn = 'prototypeLayer';
  options ??= {} as PrototypeLayerOptions;
  assertKnownOptions(options, ['numPrototypes', 'seed', 'trainable', 'name'], fn);
  const { numPrototypes, trainable = true } = options;
  assertInteger(numPrototypes, fn, 'options.numPrototypes', { min: 1 });
  assertOneOf(trainable, [true, false], fn, 'options.trainable');
  if (options.name !== undefined && typeof options.name !== 'string') throw new InvalidArgumentError(fn, 'options.name', 'be a string', describeValue(options.name));
  const Layer = prototypeLayerClass();
  return new Layer({
    numPrototypes,
    seed: numericSeed(options.seed, fn, 'options.seed'),
    trainable,
    ...(options.name !== undefined ? { name: options.name } : {}),
  });
}
