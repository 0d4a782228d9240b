import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { describeValue } from '../core/validate.js';
import { assertKeepsShape, assertTransform } from './compose.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs } from './sampling.js';
import { applyToSubset } from './tensor-ops.js';
import { BaseTransform, commonChannels, type ImageShape, type Transform } from './transform.js';

/** Parameters of {@link randomOrder}. */
export interface RandomOrderParams {
  /** Number of samples. */
  batchSize: number;
  /** `B·T` entries: sample `i` runs transform `order[T·i + s]` in slot `s`. */
  order: Uint8Array;
  /** `slots[s][t]`: parameters of transform `t` for the sub-batch running it in slot `s` (`null` if none). */
  slots: (unknown | null)[][];
}

class RandomOrder extends BaseTransform<RandomOrderParams> {
  readonly name = 'randomOrder';
  readonly requiresUnitRange: boolean;
  readonly channels: readonly number[] | undefined;

  constructor(readonly transforms: readonly Transform[]) {
    super();
    this.requiresUnitRange = transforms.some((t) => t.requiresUnitRange);
    this.channels = commonChannels(transforms);
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    for (const t of this.transforms) assertKeepsShape(t, inputShape, 'randomOrder');
    return inputShape;
  }

  sample(inputShape: ImageShape, seed: Seed): RandomOrderParams {
    assertSampleArgs(inputShape, seed, 'randomOrder.sample');
    this.outputShape(inputShape);
    const rng = createRng(seed);
    const [b, h, w, c] = inputShape;
    const n = this.transforms.length;
    const order = new Uint8Array(b * n);
    for (let i = 0; i < b; i++) order.set(rng.permutation(n), i * n);
    const slots = Array.from({ length: n }, (_, s) =>
      this.transforms.map((t, k) => {
        let count = 0;
        for (let i = 0; i < b; i++) if (order[i * n + s] === k) count++;
        return count > 0 ? t.sample([count, h, w, c], rng) : null;
      }),
    );
    return { batchSize: b, order, slots };
  }

  apply(images: tf.Tensor4D, params: RandomOrderParams): tf.Tensor4D {
    const fn = 'randomOrder.apply';
    const n = this.transforms.length;
    assertApplyImages(images, fn);
    assertParamsFor(params, images, fn, { order: [params?.order, n] });
    const b = images.shape[0];
    let x = images;
    for (let s = 0; s < n; s++) {
      this.transforms.forEach((t, k) => {
        const mask = new Uint8Array(b);
        for (let i = 0; i < b; i++) mask[i] = params.order[i * n + s] === k ? 1 : 0;
        if (!mask.some((v) => v)) return;
        const next = applyToSubset(x, mask, (subset) => t.apply(subset, params.slots[s]?.[k]));
        if (x !== images) x.dispose();
        x = next;
      });
    }
    return x === images ? images.clone() : x;
  }
}

/**
 * Applies every transform once to each sample, in an order drawn per sample
 * (torchvision's `RandomOrder`, which draws one order per call). Each
 * transform runs on the sub-batch that has it in a given slot; all
 * transforms must keep the image shape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { GaussianBlur, RandomGrayscale, randomOrder } from 'selfsup';
 *
 * const t = randomOrder([new GaussianBlur({ kernelSize: 3 }), new RandomGrayscale({ p: 1 })]);
 * const { images, params } = t.run(tf.randomUniform([4, 8, 8, 3]), { seed: 0 });
 * console.log(images.shape, params.order);
 * ```
 */
export function randomOrder(transforms: readonly Transform[]): Transform<RandomOrderParams> {
  const fn = 'randomOrder';
  if (!Array.isArray(transforms) || transforms.length === 0 || transforms.length > 255) {
    throw new InvalidArgumentError(fn, 'transforms', 'be a non-empty array of transforms', describeValue(transforms));
  }
  transforms.forEach((t, i) => assertTransform(t, fn, `transforms[${i}]`));
  return new RandomOrder([...transforms]);
}
