import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { describeValue, formatShape } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleShape } from './sampling.js';
import { BaseTransform, type ImageShape, type Transform } from './transform.js';

/** Parameters of a {@link compose} pipeline: one record per step, in order. */
export interface ComposeParams {
  /** Number of samples. */
  batchSize: number;
  /** The parameters of each step. */
  steps: unknown[];
}

/** Throws unless `t` looks like a {@link Transform}. */
export function assertTransform(t: unknown, fn: string, arg: string): asserts t is Transform {
  const ok =
    typeof t === 'object' &&
    t !== null &&
    typeof (t as Transform).sample === 'function' &&
    typeof (t as Transform).apply === 'function' &&
    typeof (t as Transform).outputShape === 'function';
  if (!ok) throw new InvalidArgumentError(fn, arg, 'be a Transform (an object with sample, apply and outputShape)', describeValue(t));
}

class Compose extends BaseTransform<ComposeParams> {
  readonly name = 'compose';
  readonly requiresUnitRange: boolean;

  constructor(readonly transforms: readonly Transform[]) {
    super();
    this.requiresUnitRange = transforms.some((t) => t.requiresUnitRange);
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    return this.transforms.reduce((shape, t) => t.outputShape(shape), inputShape);
  }

  sample(inputShape: ImageShape, seed: Seed): ComposeParams {
    assertSampleShape(inputShape, 'compose.sample');
    const rng = createRng(seed);
    let shape = inputShape;
    const steps = this.transforms.map((t) => {
      const params = t.sample(shape, rng);
      shape = t.outputShape(shape);
      return params;
    });
    return { batchSize: inputShape[0], steps };
  }

  apply(images: tf.Tensor4D, params: ComposeParams): tf.Tensor4D {
    const fn = 'compose.apply';
    assertApplyImages(images, fn);
    assertParamsFor(params, images, fn);
    if (!Array.isArray(params.steps) || params.steps.length !== this.transforms.length) {
      throw new InvalidArgumentError(fn, 'params.steps', `hold ${this.transforms.length} step records`, describeValue(params.steps));
    }
    let x = images;
    this.transforms.forEach((t, i) => {
      const next = t.apply(x, params.steps[i]);
      if (x !== images) x.dispose();
      x = next;
    });
    return x === images ? images.clone() : x;
  }
}

/**
 * Chains transforms into one (torchvision's `Compose`, kornia's
 * `AugmentationSequential`): `sample` draws every step's parameters from one
 * stream, in order, each for the shape the previous steps produce; `apply`
 * runs the steps in order and frees the intermediate images.
 *
 * @param transforms - the steps, applied first to last.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ColorJitter, compose, RandomHorizontalFlip, RandomResizedCrop } from 'selfsup';
 *
 * const pipeline = compose([new RandomResizedCrop({ size: 24 }), new RandomHorizontalFlip(), new ColorJitter({ brightness: 0.4 })]);
 * const x = tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D;
 * const { images, params } = pipeline.run(x, { seed: 42 });
 * const replay = pipeline.apply(x, params); // identical to images
 * console.log(images.shape); // [4, 24, 24, 3]
 * ```
 */
export function compose(transforms: readonly Transform[]): Transform<ComposeParams> {
  const fn = 'compose';
  if (!Array.isArray(transforms)) throw new InvalidArgumentError(fn, 'transforms', 'be an array of transforms', describeValue(transforms));
  transforms.forEach((t, i) => assertTransform(t, fn, `transforms[${i}]`));
  return new Compose([...transforms]);
}

/** Throws unless `t` keeps the image shape `shape` (needed to put sub-batches back in place). */
export function assertKeepsShape(t: Transform, shape: ImageShape, fn: string): void {
  const out = t.outputShape(shape);
  if (out.some((d, i) => d !== shape[i])) {
    throw new InvalidArgumentError(
      fn,
      'transform',
      `keep the image shape (${t.name} maps ${formatShape(shape)} to ${formatShape(out)}); apply size-changing transforms to every sample`,
      t.name,
    );
  }
}
