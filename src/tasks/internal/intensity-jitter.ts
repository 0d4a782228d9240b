import * as tf from '@tensorflow/tfjs-core';
import { brightnessOf, contrastOf } from '../../augment/adjust.js';
import { BaseTransform, type ImageShape } from '../../augment/transform.js';
import { createRng, type Seed } from '../../core/rng.js';

/** Parameters of {@link IntensityJitter}: per-sample brightness and contrast factors. */
export interface IntensityJitterParams {
  brightness: Float32Array;
  contrast: Float32Array;
}

/**
 * Brightness then contrast jitter for images of any channel count (factors
 * uniform in [1 − s, 1 + s], torchvision's convention). selfsup/augment's
 * `ColorJitter` takes RGB only; exemplar CNN's contrast augmentations must
 * also run on grayscale data.
 */
export class IntensityJitter extends BaseTransform<IntensityJitterParams> {
  readonly name = 'IntensityJitter';
  readonly requiresUnitRange = true;

  constructor(
    private readonly brightness: number,
    private readonly contrast: number,
  ) {
    super();
  }

  sample(shape: ImageShape, seed: Seed): IntensityJitterParams {
    const rng = createRng(seed, `${this.name}.sample`, 'rng');
    const draw = (s: number) => Float32Array.from({ length: shape[0] }, () => rng.uniform(Math.max(0, 1 - s), 1 + s));
    return { brightness: draw(this.brightness), contrast: draw(this.contrast) };
  }

  apply(images: tf.Tensor4D, params: IntensityJitterParams): tf.Tensor4D {
    // Pipelines check the range once, on their input; no second (synchronous) read here.
    return tf.tidy(() => {
      const bright = brightnessOf(images, params.brightness);
      return images.shape[3] === 1 || images.shape[3] === 3 ? contrastOf(bright, params.contrast) : bright;
    });
  }
}
