import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { describeValue, formatShape } from '../core/validate.js';
import { assertApplyImages } from './image-input.js';
import { assertParamsFor, assertSampleArgs } from './sampling.js';
import {
  composePositions,
  fromPlanar,
  hasPositions,
  isPlanar,
  PLANAR,
  planarResample,
  planarShape,
  POSITIONS,
  toPlanar,
  type Positions,
} from './planar.js';
import { resampleSeparable } from './tensor-ops.js';
import { BaseTransform, commonChannels, type ImageShape, type Transform } from './transform.js';

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
  readonly channels: readonly number[] | undefined;

  constructor(readonly transforms: readonly Transform[]) {
    super();
    this.requiresUnitRange = transforms.some((t) => t.requiresUnitRange);
    this.channels = commonChannels(transforms);
  }

  override outputShape(inputShape: ImageShape): ImageShape {
    return this.transforms.reduce((shape, t) => t.outputShape(shape), inputShape);
  }

  sample(inputShape: ImageShape, seed: Seed): ComposeParams {
    assertSampleArgs(inputShape, seed, 'compose.sample');
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
    this.checkParams(params, images.shape, fn);
    const { x, planar } = runSteps(this.transforms, params.steps, images, false);
    if (!planar) return x === images ? images.clone() : x;
    const out = fromPlanar(x);
    x.dispose();
    return out;
  }

  /** @internal */
  [PLANAR](input: tf.Tensor4D, params: ComposeParams): tf.Tensor4D {
    this.checkParams(params, planarShape(input), 'compose.apply');
    const { x, planar } = runSteps(this.transforms, params.steps, input, true);
    if (planar) return x === input ? input.clone() : x;
    const out = toPlanar(x);
    x.dispose();
    return out;
  }

  private checkParams(params: ComposeParams, shape: ImageShape, fn: string): void {
    assertParamsFor(params, { shape }, fn);
    if (!Array.isArray(params.steps) || params.steps.length !== this.transforms.length) {
      throw new InvalidArgumentError(fn, 'params.steps', `hold ${this.transforms.length} step records`, describeValue(params.steps));
    }
  }
}

/**
 * Runs the steps on NHWC or planar input, switching layout only where a
 * step has no planar implementation, and fusing consecutive geometric steps
 * into one resampling. Intermediates are disposed; the input is not.
 */
function runSteps(
  transforms: readonly Transform[],
  steps: readonly unknown[],
  input: tf.Tensor4D,
  inputPlanar: boolean,
): { x: tf.Tensor4D; planar: boolean } {
  let x = input;
  let planar = inputPlanar;
  let pending: Positions | null = null;
  const replace = (next: tf.Tensor4D): void => {
    if (x !== input) x.dispose();
    x = next;
  };
  const shapeOf = (): ImageShape => (planar ? planarShape(x) : x.shape);
  const flush = (): void => {
    if (!pending) return;
    const pos = pending;
    pending = null;
    replace(planar ? planarResample(x, pos) : tf.tidy(() => resampleSeparable(x, pos.rows, pos.cols, pos.outH, pos.outW)));
  };
  transforms.forEach((t, i) => {
    const p = steps[i];
    if (isPlanar(t)) {
      if (!planar) {
        replace(toPlanar(x));
        planar = true;
      }
      if (hasPositions(t)) {
        // Positions of this step refer to the output of the pending ones.
        const [b, h, w, c] = shapeOf();
        const inShape: ImageShape = pending ? [b, pending.outH, pending.outW, c] : [b, h, w, c];
        const pos = t[POSITIONS](inShape, p);
        const fused: Positions | null = pending ? composePositions(pending, pos, b) : pos;
        if (fused) pending = fused;
        else {
          flush();
          pending = pos;
        }
        return;
      }
      flush();
      replace(t[PLANAR](x, p));
      return;
    }
    flush();
    if (planar) {
      replace(fromPlanar(x));
      planar = false;
    }
    replace(t.apply(x, p));
  });
  flush();
  return { x, planar };
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
