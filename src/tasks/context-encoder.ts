import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Rng } from '../core/rng.js';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  assertPositive,
} from '../core/validate.js';
import { InvalidArgumentError } from '../core/errors.js';
import { patchDiscriminator } from '../heads/patch-discriminator.js';
import { discriminatorAdversarialLoss, inpaintingLoss } from '../losses/reconstruction.js';
import { trainableVariables } from '../train/variables.js';
import { defaultDecoder } from './internal/autoencoder.js';
import { assertEncoder, assertImageBatch, assertOptimizer, checkTaskOptions, resolveImageShape } from './internal/common.js';
import { centerMask, irregularMask, randomRectangleMask } from '../masking/inpainting-masks.js';
import { BasePretextTask, encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TaskOptions } from './task-options.js';

/** The hole shapes of Context Encoders: a centred square, random rectangles ("random block"), free-form regions ("random region"). */
export type InpaintingMaskKind = 'center' | 'random-rectangle' | 'irregular';

/** A custom hole sampler: `[B, H, W, 1]` float32 holes (1 = removed), drawing from `rng`. */
export type InpaintingMaskSampler = (batchSize: number, size: [number, number], rng: Rng) => tf.Tensor4D;

/** Options of {@link ContextEncoder}. */
export interface ContextEncoderOptions extends TaskOptions {
  /**
   * `[H, W, C]` of the images.
   * @default the encoder's input shape
   */
  imageShape?: readonly number[];
  /**
   * The decoder `[B, F]` → `[B, H, W, C]` (pixels in [0, 1]); with the encoder
   * it forms the generator. Not disposed by the task.
   * @default a convDecoder for the encoder's feature size, owned by the task
   */
  decoder?: tfl.LayersModel;
  /**
   * The adversary `[B, H, W, C]` → logits of any shape (one per patch for a
   * patch discriminator). Not disposed by the task.
   * @default patchDiscriminator({ inputShape: imageShape }), owned by the task
   */
  discriminator?: tfl.LayersModel;
  /**
   * The holes: `'center'` (selfsup/masking's `centerMask`: the central
   * square of half the side, a quarter of the image, as the paper),
   * `'random-rectangle'` (`randomRectangleMask`: 1–3 overlapping rectangles
   * with sides in [H/8, H/2], the paper's "random block"), `'irregular'`
   * (`irregularMask`: free-form brush strokes, standing in for the paper's
   * "random region"), or your own sampler.
   * @default 'random-rectangle'
   */
  mask?: InpaintingMaskKind | InpaintingMaskSampler;
  /**
   * Value written into the hole of the generator's input: a number, or
   * `'mean'` for the per-channel mean of the batch (Context Encoders fill
   * the hole with the mean pixel value).
   * @default 'mean'
   */
  fillValue?: number | 'mean';
  /**
   * λ_rec of the masked L2 term.
   * @default 0.999 (Context Encoders)
   */
  reconstructionWeight?: number;
  /**
   * λ_adv of the adversarial term (0 trains with the L2 loss alone).
   * @default 0.001 (Context Encoders)
   */
  adversarialWeight?: number;
  /**
   * Learning rate of the generator's Adam (β₁ = 0.5) when no optimizer is given.
   * @default 2e-4 (Context Encoders, as DCGAN)
   */
  learningRate?: number;
  /**
   * Learning rate of the discriminator's Adam (β₁ = 0.5), owned by the task.
   * @default the generator's learningRate
   */
  discriminatorLearningRate?: number;
}

/**
 * Context Encoders (Pathak, Krähenbühl, Donahue, Darrell & Efros, "Context
 * Encoders: Feature Learning by Inpainting", CVPR 2016): a region of each image
 * is removed and an encoder–decoder generator paints it back from the
 * surrounding context. The generator is trained with the joint loss
 * `0.999 · L_rec + 0.001 · L_adv`, where `L_rec` is the L2 error on the
 * removed region only and `L_adv` the non-saturating adversarial loss of a
 * discriminator that sees the image with the hole filled by the generator;
 * the discriminator is trained in alternation (one update per generator
 * update) to tell real images from inpainted ones. The encoder (the generator's
 * first half, whose pooled features are its bottleneck) is the representation.
 *
 * Holes (from the task's seed, drawn by selfsup/masking): `'center'` (the
 * central quarter), `'random-rectangle'` (the paper's "random block":
 * overlapping rectangles), `'irregular'` (the paper's "random region", which
 * samples PASCAL segmentation shapes; here free-form brush strokes). The hole of the
 * input is filled with the mean pixel value. Differences from the paper: the
 * bottleneck is the encoder's global-average-pooled features instead of a
 * channel-wise fully connected layer, the discriminator is a patch
 * discriminator over the whole inpainted image, and the 10× loss weight on a
 * thin overlap band at the hole's border (in the paper's code, not its text)
 * is not used.
 *
 * `step` updates the generator on a fresh batch of holes, then the
 * discriminator on the same holes and the generator's (pre-update) fill,
 * and returns the generator loss; {@link ContextEncoder.lastDiscriminatorLoss}
 * holds the discriminator's.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ContextEncoder, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 0 });
 * const task = new ContextEncoder(encoder, { mask: 'center', seed: 1 });
 * const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(task.step(images), task.lastDiscriminatorLoss);
 * task.dispose();
 * ```
 */
export class ContextEncoder extends BasePretextTask {
  readonly name = 'ContextEncoder';
  /** `[H, W, C]` of the images. */
  readonly imageShape: [number, number, number];
  /** The generator's decoder. */
  readonly decoder: tfl.LayersModel;
  /** The adversary. */
  readonly discriminator: tfl.LayersModel;
  /** Hole shape (`'custom'` for a sampler you gave). */
  readonly maskKind: InpaintingMaskKind | 'custom';
  /** λ_rec. */
  readonly reconstructionWeight: number;
  /** λ_adv. */
  readonly adversarialWeight: number;
  /** The discriminator's loss at the last step (NaN before the first). */
  lastDiscriminatorLoss = NaN;
  private readonly fillValue: number | 'mean';
  private readonly sampler: InpaintingMaskSampler;
  private readonly discriminatorOptimizer: tf.Optimizer;
  private readonly ownsDecoder: boolean;
  private readonly ownsDiscriminator: boolean;
  private readonly rng: Rng;

  constructor(encoder: ImageEncoder, options: ContextEncoderOptions = {}) {
    const fn = 'ContextEncoder';
    assertEncoder(encoder, fn);
    assertKnownOptions(
      options,
      [
        'imageShape',
        'decoder',
        'discriminator',
        'mask',
        'fillValue',
        'reconstructionWeight',
        'adversarialWeight',
        'learningRate',
        'discriminatorLearningRate',
        'optimizer',
        'seed',
        'onNonFinite',
      ],
      fn,
    );
    checkTaskOptions(options, fn, ['decoder', 'discriminator']);
    const {
      mask = 'random-rectangle',
      fillValue = 'mean',
      reconstructionWeight = 0.999,
      adversarialWeight = 0.001,
      learningRate = 2e-4,
    } = options;
    const { discriminatorLearningRate = learningRate } = options;
    assertPositive(learningRate, fn, 'options.learningRate');
    assertPositive(discriminatorLearningRate, fn, 'options.discriminatorLearningRate');
    if (typeof mask !== 'function') assertOneOf(mask, ['center', 'random-rectangle', 'irregular'] as const, fn, 'options.mask');
    if (fillValue !== 'mean') assertFiniteNumber(fillValue, fn, 'options.fillValue');
    assertNonNegative(reconstructionWeight, fn, 'options.reconstructionWeight');
    assertNonNegative(adversarialWeight, fn, 'options.adversarialWeight');
    assertOptimizer(options.optimizer, fn);
    const imageShape = resolveImageShape(encoder, options.imageShape, fn);
    // DCGAN's Adam (β₁ = 0.5), which Context Encoders train with.
    super(encoder, options.optimizer ?? (() => tf.train.adam(learningRate, 0.5)), learningRate, { onNonFinite: options.onNonFinite });
    this.rng = createRng(options.seed, fn, 'options.seed');
    const built = defaultDecoder(encoder, imageShape, options.decoder, this.rng, fn);
    this.imageShape = imageShape;
    this.decoder = built.decoder;
    this.ownsDecoder = built.owned;
    this.ownsDiscriminator = options.discriminator === undefined;
    this.discriminator = options.discriminator ?? patchDiscriminator({ inputShape: imageShape, seed: this.rng.nextUint32() });
    this.discriminatorOptimizer = tf.train.adam(discriminatorLearningRate, 0.5);
    this.maskKind = typeof mask === 'function' ? 'custom' : mask;
    this.sampler =
      typeof mask === 'function'
        ? mask
        : mask === 'center'
          ? (b, size) => centerMask(b, size)
          : mask === 'random-rectangle'
            ? (b, size, rng) => randomRectangleMask(b, size, { seed: rng })
            : (b, size, rng) => irregularMask(b, size, { seed: rng });
    this.fillValue = fillValue;
    this.reconstructionWeight = reconstructionWeight;
    this.adversarialWeight = adversarialWeight;
  }

  /** The generator's variables (encoder, then decoder): what `step`'s generator update trains. */
  get trainableVariables(): tf.Variable[] {
    return [...trainableVariables(this.encoder), ...trainableVariables(this.decoder)];
  }

  /** A fresh batch of holes `[B, H, W, 1]` (1 = removed), from the task's seed. */
  sampleMask(batch: number): tf.Tensor4D {
    const [h, w] = this.imageShape;
    const mask = this.sampler(batch, [h, w], this.rng);
    if (mask?.rank !== 4 || mask.shape[0] !== batch || mask.shape[1] !== h || mask.shape[2] !== w || mask.shape[3] !== 1) {
      throw new InvalidArgumentError('ContextEncoder.sampleMask', 'options.mask', `return [${batch}, ${h}, ${w}, 1] holes`, String(mask?.shape));
    }
    return mask;
  }

  /** The generator's input: `images` with the hole filled by `fillValue`. */
  maskImages(images: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
    assertImageBatch(images, this.imageShape, 'ContextEncoder.maskImages');
    return this.fillHole(images, mask);
  }

  /** The generator's output for holed images: `images` outside `mask`, the painted pixels inside. */
  inpaint(images: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
    assertImageBatch(images, this.imageShape, 'ContextEncoder.inpaint');
    return tf.tidy(() => this.composite(images, mask, this.generate(this.fillHole(images, mask), false)));
  }

  protected runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape);
    const mask = this.sampleMask(images.shape[0]);
    let fake: tf.Tensor4D | undefined;
    try {
      const generatorLoss = this.minimize(
        () =>
          tf.tidy(() => {
            const prediction = this.generate(this.fillHole(images, mask), true);
            const inpainted = this.composite(images, mask, prediction);
            fake?.dispose();
            fake = tf.keep(tf.clone(inpainted));
            const fakeLogits = this.discriminator.apply(inpainted, { training: true }) as tf.Tensor;
            return inpaintingLoss(prediction, images, mask, fakeLogits, {
              reconstructionWeight: this.reconstructionWeight,
              adversarialWeight: this.adversarialWeight,
            });
          }),
        this.trainableVariables,
      );
      const generated = fake!;
      this.lastDiscriminatorLoss = this.minimize(
        () =>
          tf.tidy(() =>
            discriminatorAdversarialLoss(
              this.discriminator.apply(images, { training: true }) as tf.Tensor,
              this.discriminator.apply(generated, { training: true }) as tf.Tensor,
            ),
          ),
        trainableVariables(this.discriminator),
        this.discriminatorOptimizer,
      );
      return generatorLoss;
    } finally {
      mask.dispose();
      fake?.dispose();
    }
  }

  /** Checkpoints also carry the discriminator's last loss. */
  protected override stateFields(): string[] {
    return [...super.stateFields(), 'lastDiscriminatorLoss'];
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.discriminatorOptimizer.dispose();
    if (this.ownsDecoder) this.decoder.dispose();
    if (this.ownsDiscriminator) this.discriminator.dispose();
  }

  private fillHole(images: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const fill = this.fillValue === 'mean' ? tf.mean(images, [0, 1, 2], true) : tf.scalar(this.fillValue);
      return tf.add(tf.mul(images, tf.sub(1, mask)), tf.mul(fill, mask)) as tf.Tensor4D;
    });
  }

  private composite(images: tf.Tensor4D, mask: tf.Tensor4D, prediction: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.mul(images, tf.sub(1, mask)), tf.mul(prediction, mask)) as tf.Tensor4D;
  }

  private generate(input: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.decoder.apply(encodeImages(this.encoder, input, training), { training }) as tf.Tensor4D;
  }
}
