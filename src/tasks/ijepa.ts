import * as tf from '@tensorflow/tfjs-core';
import { RandomResizedCrop } from '../augment/resized-crop.js';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng, type Seed } from '../core/rng.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { JepaPredictor, jepaPredictor } from '../heads/jepa-predictor.js';
import { VisionTransformer } from '../heads/vit.js';
import { ijepaLoss } from '../losses/ijepa.js';
import { gatherVisible } from '../masking/gather-visible.js';
import { multiBlockMask, type MultiBlockMask, type MultiBlockMaskOptions } from '../masking/multi-block-mask.js';
import type { Schedule } from '../train/schedules.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import { readMomentum } from './momentum.js';
import { TargetNetwork } from './target-network.js';

/** Options of {@link IJEPA}. */
export interface IJEPAOptions extends JointEmbeddingOptions {
  /**
   * The predictor (made for this encoder by `jepaPredictor`); not disposed by the method.
   * @default jepaPredictor(encoder) (half the encoder's width, depth 2), owned by the method
   */
  predictor?: JepaPredictor;
  /**
   * The multi-block masks (`multiBlockMask` options without the seed, which
   * comes from the method's stream).
   * @default I-JEPA's: 4 target blocks of 15–20 % of the patches with aspect 0.75–1.5, a square context block of 85–100 %, minKeep 4
   */
  masks?: Omit<MultiBlockMaskOptions, 'seed'>;
  /**
   * The distance in representation space (`ijepaLoss`).
   * @default 'l2' (the paper; the official code uses 'smoothL1')
   */
  distance?: 'l2' | 'smoothL1';
  /**
   * Target-encoder momentum: a number, or a {@link Schedule} of the step.
   * @default a cosine rise from 0.996 to 1 over `totalSteps` (I-JEPA: linear from 0.996); a constant 0.996 without `totalSteps`
   */
  momentum?: number | Schedule;
  /**
   * A ViT with the encoder's architecture for the target encoder (its
   * weights are overwritten; not disposed by the method).
   * @default a clone of the encoder
   */
  targetEncoder?: VisionTransformer;
  /**
   * The augmentation of the one view per image (a pair uses only its first pipeline).
   * @default a random resized crop at the input size, scale [0.3, 1] (I-JEPA: no other augmentation)
   */
  augment?: JointEmbeddingOptions['augment'];
}

const IJEPA_KEYS = ['predictor', 'masks', 'distance', 'momentum', 'targetEncoder'] as const;

/** What {@link IJEPA.sampleMasks} returns: multi-block masks with the batch size they were drawn for. */
export type IJEPAMasks = MultiBlockMask;

/**
 * I-JEPA (Assran et al., "Self-Supervised Learning from Images with a
 * Joint-Embedding Predictive Architecture", CVPR 2023): predict, in
 * representation space, what the hidden parts of an image look like. Per
 * image a context block and M target blocks of patches are drawn
 * (`multiBlockMask`; the context never contains a target patch); the context
 * encoder — the ViT being trained — sees only the context patches; a narrow
 * predictor ViT (`jepaPredictor`) receives the context tokens plus one
 * positional mask token per target patch and predicts the target encoder's
 * representation of each target patch; the target encoder is an EMA of the
 * context encoder and sees the whole image, its output layer-normalised over
 * the features. The loss is the L2 (or smooth-L1) distance between
 * predictions and targets (`ijepaLoss`), averaged over the M blocks, their
 * patches and the features. No hand-crafted views: one random resized crop
 * per image. No negatives, no pixels: the EMA target and the predictor keep
 * the representation from collapsing.
 *
 * The encoder must be selfsup's {@link VisionTransformer}; I-JEPA's has no
 * class token and is evaluated by the mean of its patch tokens
 * (`tinyVit({ classToken: false, pool: 'mean' })`); a class token, if
 * present, is dropped before the predictor and from the targets. Defaults:
 * Adam at 1e-3 (the paper: AdamW, lr 1e-3 with warm-up and cosine decay,
 * weight decay 0.04 → 0.4).
 *
 * Pieces: {@link IJEPA.view}, {@link IJEPA.sampleMasks},
 * {@link IJEPA.computeTargets}, {@link IJEPA.predict},
 * {@link IJEPA.computeLoss}, {@link IJEPA.updateTarget},
 * {@link IJEPA.predictor}, {@link IJEPA.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { IJEPA, tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 16, channels: 1, patchSize: 2, dim: 16, depth: 1, heads: 2, classToken: false, seed: 0 });
 * const ijepa = new IJEPA(vit, { totalSteps: 3, seed: 1 });
 * const images = tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(ijepa.step(images).toFixed(4));
 * ijepa.dispose();
 * vit.dispose();
 * ```
 */
export class IJEPA extends JointEmbeddingTask {
  readonly name = 'IJEPA';
  /** The context encoder (also `encoder`). */
  readonly vit: VisionTransformer;
  /** The predictor. */
  readonly predictor: JepaPredictor;
  /** The target encoder (EMA of the context encoder). */
  readonly target: TargetNetwork;
  /** The distance of the loss. */
  readonly distance: 'l2' | 'smoothL1';
  private readonly maskOptions: Omit<MultiBlockMaskOptions, 'seed'>;
  private readonly ownsPredictor: boolean;
  private readonly momentum: Schedule;

  constructor(encoder: VisionTransformer, options: IJEPAOptions = {}) {
    const fn = 'IJEPA';
    if (!(encoder instanceof VisionTransformer)) {
      throw new InvalidArgumentError(fn, 'encoder', 'be a VisionTransformer made by tinyVit (I-JEPA encodes subsets of patches)', describeValue(encoder));
    }
    JointEmbeddingTask.checkOptions(options, IJEPA_KEYS, fn);
    const { distance = 'l2', masks = {}, predictor } = options;
    assertOneOf(distance, ['l2', 'smoothL1'] as const, fn, 'options.distance');
    assertKnownOptions(masks, ['numTargets', 'targetScale', 'targetAspect', 'contextScale', 'contextAspect', 'minKeep', 'allowOverlap'], fn, 'options.masks');
    // The mask settings are checked by drawing one mask: any error names them before anything is allocated.
    try {
      const probe = multiBlockMask(1, encoder.gridSize, { ...masks, seed: 0 });
      tf.dispose([probe.contextIds, probe.targetIds]);
    } catch (e) {
      throw new InvalidArgumentError(fn, 'options.masks', 'be valid multiBlockMask options for the encoder’s grid', (e as Error).message);
    }
    if (predictor !== undefined) {
      const ok = predictor instanceof JepaPredictor && predictor.numPatches === encoder.numPatches && predictor.encoderDim === encoder.dim;
      if (!ok) throw new InvalidArgumentError(fn, 'options.predictor', 'be a JepaPredictor made by jepaPredictor(encoder)', describeValue(predictor));
    }
    if (options.targetEncoder !== undefined && !(options.targetEncoder instanceof VisionTransformer)) {
      throw new InvalidArgumentError(fn, 'options.targetEncoder', 'be a VisionTransformer of the encoder’s architecture', describeValue(options.targetEncoder));
    }
    readMomentum(options.momentum, 0.996, fn);
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => new RandomResizedCrop({ size: [shape[0], shape[1]], scale: [0.3, 1] }),
    });
    this.vit = encoder;
    this.distance = distance;
    this.maskOptions = { ...masks };
    this.momentum = readMomentum(options.momentum, 0.996, fn, { totalSteps: this.totalSteps });
    this.ownsPredictor = predictor === undefined;
    this.predictor = predictor ?? jepaPredictor(encoder, { seed: this.rng.nextUint32() });
    try {
      this.target = new TargetNetwork({ encoder }, options.targetEncoder !== undefined ? { targetEncoder: options.targetEncoder } : {});
    } catch (e) {
      if (this.ownsPredictor) this.predictor.dispose();
      super.dispose();
      throw e;
    }
  }

  /** The context encoder's and the predictor's variables. */
  get trainableVariables(): tf.Variable[] {
    return [...this.vit.trainableVariables, ...this.predictor.trainableVariables];
  }

  /** The augmented view of `images` (one per image), from `seed` (default: the method's stream). Dispose it. */
  view(images: tf.Tensor4D, seed?: Seed): tf.Tensor4D {
    this.assertLive('IJEPA.view');
    this.checkImages(images, 'IJEPA.view', 1);
    return this.drawView(images, createRng(seed ?? this.rng.nextUint32(), 'IJEPA.view', 'seed'));
  }

  /** The view of a checked batch (no second range check). */
  private drawView(images: tf.Tensor4D, seed?: Seed): tf.Tensor4D {
    const pipeline = this.augmentations[0];
    return pipeline.apply(images, pipeline.sample(images.shape, createRng(seed ?? this.rng.nextUint32())));
  }

  /** Multi-block masks for `batch` images on the ViT's grid, from `seed` (default: the method's stream). Dispose both tensors. */
  sampleMasks(batch: number, seed?: Seed): IJEPAMasks {
    return multiBlockMask(batch, this.vit.gridSize, { ...this.maskOptions, seed: seed ?? this.rng.nextUint32() });
  }

  /**
   * The target encoder's layer-normalised representations of the target
   * patches, `[M·B, Kt, D]` (block-major), without gradient.
   */
  computeTargets(view: tf.Tensor4D, masks: IJEPAMasks): tf.Tensor3D {
    return tf.tidy(() => {
      const teacher = this.target.encoder as VisionTransformer;
      return stopGradient(jepaTargets(this.patchTokens(teacher.encode(view)), masks.targetIds));
    });
  }

  /** The predictor's outputs for the target patches, `[M·B, Kt, D]` (block-major), from the context patches of `view`. */
  predict(view: tf.Tensor4D, masks: IJEPAMasks): tf.Tensor3D {
    return tf.tidy(() => {
      const [m, b, kt] = masks.targetIds.shape;
      const context = this.patchTokens(this.vit.encode(view, { keepIds: masks.contextIds }));
      const repeatedContext = tf.tile(context, [m, 1, 1]) as tf.Tensor3D;
      const repeatedIds = tf.tile(masks.contextIds, [m, 1]) as tf.Tensor2D;
      return this.predictor.predict(repeatedContext, repeatedIds, tf.reshape(masks.targetIds, [m * b, kt]) as tf.Tensor2D);
    });
  }

  /** The I-JEPA loss of `view` under `masks` against `targets` (from {@link IJEPA.computeTargets}); differentiable with respect to the encoder and predictor. */
  computeLoss(view: tf.Tensor4D, masks: IJEPAMasks, targets: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => ijepaLoss(this.predict(view, masks), targets, { distance: this.distance }));
  }

  /** EMA step of the target encoder (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  /** One I-JEPA step on a batch of images (one view, masks, targets, update, EMA); returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape, 1);
    this.applyLearningRate();
    const view = this.drawView(images);
    try {
      return this.stepOn(view);
    } finally {
      view.dispose();
    }
  }

  /** A step on view 1 (I-JEPA uses one view; view 2 is ignored). */
  protected trainStep(view1: tf.Tensor4D): number {
    return this.stepOn(view1);
  }

  private stepOn(view: tf.Tensor4D): number {
    const momentum = this.momentum(this.steps);
    const masks = this.sampleMasks(view.shape[0]);
    let targets: tf.Tensor3D | null = null;
    try {
      targets = this.computeTargets(view, masks);
      const t = targets;
      const loss = this.minimize(() => this.computeLoss(view, masks, t), this.trainableVariables);
      this.updateTarget(momentum);
      return loss;
    } finally {
      tf.dispose([masks.contextIds, masks.targetIds]);
      targets?.dispose();
    }
  }

  /** The patch tokens of an `encode` output (the class token, if any, dropped). */
  private patchTokens(tokens: tf.Tensor3D): tf.Tensor3D {
    return this.vit.classToken ? (tf.slice(tokens, [0, 1, 0], [-1, -1, -1]) as tf.Tensor3D) : tokens;
  }

  override dispose(): void {
    if (this.target.isDisposed) return;
    super.dispose();
    this.target.dispose();
    if (this.ownsPredictor) this.predictor.dispose();
  }
}

/**
 * I-JEPA's targets from the target encoder's patch tokens `[B, L, D]`: each
 * token layer-normalised over D without affine parameters (`F.layer_norm`,
 * ε = 1e-5), then the tokens of every target block gathered, block-major
 * `[M·B, Kt, D]` for `targetIds` `[M, B, Kt]` (`forward_target` of the
 * official `train.py` with `apply_masks`). Internal to the method; exported
 * for its tests.
 */
export function jepaTargets(tokens: tf.Tensor3D, targetIds: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [m, b, kt] = targetIds.shape;
    const { mean, variance } = tf.moments(tokens, -1, true);
    const normalized = tf.div(tf.sub(tokens, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor3D;
    const repeated = tf.tile(normalized, [m, 1, 1]) as tf.Tensor3D;
    return gatherVisible(repeated, tf.reshape(targetIds, [m * b, kt]) as tf.Tensor2D);
  });
}
