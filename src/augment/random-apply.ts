import type * as tf from '@tensorflow/tfjs-core';
import { createRng, type Seed } from '../core/rng.js';
import { assertProbability } from '../core/validate.js';
import { assertKeepsShape, assertTransform } from './compose.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs, sampleApplied } from './sampling.js';
import { applyToSubset } from './tensor-ops.js';
import { BaseTransform, type ImageShape, type Transform } from './transform.js';

/** Parameters of {@link randomApply}: which samples run the inner transform, and its parameters for them. */
export interface RandomApplyParams<P = unknown> {
  /** Number of samples. */
  batchSize: number;
  /** 1 where the inner transform runs. */
  applied: Uint8Array;
  /** The inner transform's parameters for the sub-batch of applied samples (in batch order), `null` when none is. */
  inner: P | null;
}

class RandomApply<P> extends BaseTransform<RandomApplyParams<P>> {
  readonly name: string;
  readonly requiresUnitRange: boolean;
  readonly channels: readonly number[] | undefined;

  constructor(
    readonly transform: Transform<P>,
    readonly p: number,
  ) {
    super();
    this.name = `randomApply(${transform.name})`;
    this.requiresUnitRange = transform.requiresUnitRange;
    this.channels = transform.channels;
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    assertKeepsShape(this.transform, inputShape, 'randomApply');
    return inputShape;
  }

  sample(inputShape: ImageShape, seed: Seed): RandomApplyParams<P> {
    assertSampleArgs(inputShape, seed, 'randomApply.sample');
    this.outputShape(inputShape);
    const rng = createRng(seed);
    const applied = sampleApplied(inputShape[0], rng, this.p, false);
    const count = applied.reduce((a, v) => a + v, 0);
    const [, h, w, c] = inputShape;
    return { batchSize: inputShape[0], applied, inner: count > 0 ? this.transform.sample([count, h, w, c], rng) : null };
  }

  apply(images: tf.Tensor4D, params: RandomApplyParams<P>): tf.Tensor4D {
    const fn = 'randomApply.apply';
    assertApplyImages(images, fn);
    assertParamsFor(params, images, fn, { applied: [params?.applied, 1] });
    return applyToSubset(images, params.applied, (subset) => this.transform.apply(subset, params.inner as P));
  }
}

/**
 * Runs `transform` on each sample with probability `p` and passes the other
 * samples through unchanged (torchvision's `RandomApply`). Only the selected
 * sub-batch is computed; its parameters are sampled for that sub-batch.
 * The wrapped transform must keep the image shape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ColorJitter, randomApply } from 'selfsup';
 *
 * // SimCLR: colour jitter on 80 % of the images.
 * const jitter = randomApply(new ColorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 }), 0.8);
 * const { params } = jitter.run(tf.randomUniform([8, 8, 8, 3]), { seed: 0 });
 * console.log(params.applied);
 * ```
 */
export function randomApply<P>(transform: Transform<P>, p: number): Transform<RandomApplyParams<P>> {
  assertTransform(transform, 'randomApply', 'transform');
  assertProbability(p, 'randomApply', 'p');
  return new RandomApply(transform, p);
}
