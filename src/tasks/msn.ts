import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { simclrAugment } from '../augment/presets.js';
import { InvalidArgumentError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { stopGradient } from '../core/stop-gradient.js';
import {
  assertInRange,
  assertInteger,
  assertNonNegative,
  assertOneOf,
  assertPositive,
  describeValue,
  isTensor,
} from '../core/validate.js';
import { VisionTransformer } from '../heads/vit.js';
import { msnLoss, type MsnPrior } from '../losses/msn.js';
import { randomPatchMask } from '../masking/random-patch-mask.js';
import type { Schedule } from '../train/schedules.js';
import { defaultAugment } from './grayscale-augment.js';
import { assertTrainingFits, mlpWeightShapes } from './internal/common.js';
import { JointEmbeddingTask, type JointEmbeddingOptions } from './joint-embedding.js';
import { readMomentum } from './momentum.js';
import { encodeImages, type ImageEncoder } from './pretext-task.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link MSN} and {@link PMSN}. */
export interface MSNOptions extends JointEmbeddingOptions {
  /**
   * Fraction of the anchor view's patches that are masked (dropped from a
   * ViT's input; zeroed in the pixels for other encoders).
   * @default 0.15 (MSN's ViT-S/16 setting; 0.3–0.7 for larger ViTs)
   */
  maskRatio?: number;
  /**
   * Side of the square patches masked in the pixels, for encoders other
   * than selfsup's ViT (a ViT masks its own patches). Must divide the image sides.
   * @default the image side / 7 when it divides it, else 4 (a 7×7 grid on 28-pixel images)
   */
  maskPatchSize?: number;
  /**
   * Number K of prototypes.
   * @default 1024 (MSN)
   */
  numPrototypes?: number;
  /**
   * Size of the projection (and of the prototypes).
   * @default 256 (MSN)
   */
  projectionDim?: number;
  /**
   * Hidden width of the 3-layer projector.
   * @default twice the encoder's feature size (MSN: 2048)
   */
  hiddenDim?: number;
  /**
   * Temperature τ of the softmax over prototype similarities.
   * @default 0.1 (MSN)
   */
  temperature?: number;
  /**
   * Sharpening temperature T of the targets: a number or a {@link Schedule} of the step.
   * @default 0.25 (MSN)
   */
  sharpenTemperature?: number | Schedule;
  /**
   * Sinkhorn–Knopp iterations on the targets (0: none).
   * @default 3 (MSN's ImageNet configuration)
   */
  sinkhornIterations?: number;
  /**
   * Weight λ of the regulariser on the mean prediction.
   * @default 1 (MSN, PMSN)
   */
  regularizationWeight?: number;
  /**
   * The prior of the regulariser: MSN's `'uniform'` (mean-entropy
   * maximisation), PMSN's `'powerLaw'`, or a float32 `[K]` tensor of
   * probabilities (yours; not disposed by the method).
   * @default 'uniform' for MSN, 'powerLaw' for PMSN
   */
  prior?: MsnPrior;
  /**
   * Exponent of the power-law prior.
   * @default 0.25 (PMSN)
   */
  powerLawExponent?: number;
  /**
   * Target momentum: a number, or a {@link Schedule} of the step.
   * @default a cosine rise from 0.99 to 1 over `totalSteps` (MSN: linear from 0.996); a constant 0.99 without `totalSteps`
   */
  momentum?: number | Schedule;
  /**
   * A model with the encoder's architecture for the target encoder (its
   * weights are overwritten; not disposed by the method).
   * @default a clone of the encoder
   */
  targetEncoder?: ImageEncoder;
}

const MSN_KEYS = [
  'maskRatio',
  'maskPatchSize',
  'numPrototypes',
  'projectionDim',
  'hiddenDim',
  'temperature',
  'sharpenTemperature',
  'sinkhornIterations',
  'regularizationWeight',
  'prior',
  'powerLawExponent',
  'momentum',
  'targetEncoder',
] as const;

/**
 * Masked Siamese Networks (Assran et al., "Masked Siamese Networks for
 * Label-Efficient Learning", ECCV 2022): the representation of a masked
 * anchor view must match, through soft assignments to K learnable
 * prototypes, the sharpened assignment of an unmasked target view computed
 * by an EMA target network. Collapse to one prototype is prevented by the
 * sharpening, Sinkhorn–Knopp balancing of the targets and the
 * mean-entropy-maximisation regulariser (`msnLoss`); {@link PMSN} swaps the
 * regulariser's uniform prior for a power law.
 *
 * Each step: two views of the batch; view 1 is the target (target encoder
 * and projector, no gradient), view 2 the anchor — with selfsup's ViT a
 * random `maskRatio` of its patches is dropped from the input (MSN's
 * `patch_drop`, per image; the features pool the kept tokens), with any
 * other encoder the same fraction of `maskPatchSize` patches is zeroed in
 * the pixels; then `msnLoss(anchors, targets, prototypes)`, the optimizer
 * step on the encoder, projector and prototypes, and the EMA update of the
 * target. Projector: 3 linear layers with batch norm and ReLU (hidden 2·F,
 * output 256); prototypes `U(±1/√D)` as MSN. Defaults:
 * `simclrAugment({ strength: 0.5 })` on RGB (MSN: crops, flips, colour
 * jitter 0.5), {@link grayscaleAugment} on one channel, Adam at 1e-3 (the
 * paper: AdamW, lr 1e-3, weight decay 0.04 → 0.4). One anchor view per target
 * (the paper adds 10 small "focal" anchors, which a fixed-size ViT cannot take).
 *
 * Pieces: {@link MSN.computeTargets}, {@link MSN.anchorFeatures},
 * {@link MSN.computeLoss}, {@link MSN.updateTarget}, {@link MSN.projector},
 * {@link MSN.prototypes}, {@link MSN.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { MSN, tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 16, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const msn = new MSN(vit, { numPrototypes: 16, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, totalSteps: 3, seed: 1 });
 * const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 3; i++) console.log(msn.step(images).toFixed(3));
 * msn.dispose();
 * vit.dispose();
 * ```
 */
export class MSN extends JointEmbeddingTask {
  /** The name errors and logs use; a subclass (PMSN) changes it. */
  protected static readonly methodName: string = 'MSN';
  /** The default prior of the subclass. */
  protected static readonly defaultPrior: 'uniform' | 'powerLaw' = 'uniform';
  readonly name: string;
  /** The projector (online). */
  readonly projector: tfl.Sequential;
  /** The target encoder and projector (EMA copies). */
  readonly target: TargetNetwork;
  /** Fraction of the anchor's patches masked. */
  readonly maskRatio: number;
  /** The loss settings (prior and temperatures). */
  readonly lossOptions: {
    readonly temperature: number;
    readonly sinkhornIterations: number;
    readonly regularizationWeight: number;
    readonly prior: MsnPrior;
    readonly powerLawExponent: number;
  };
  private readonly prototypeVariable: tf.Variable;
  private readonly maskPatchSize: number;
  private readonly sharpen: Schedule;
  private readonly momentum: Schedule;

  constructor(encoder: ImageEncoder, options: MSNOptions = {}) {
    const self = new.target as unknown as typeof MSN;
    const fn = self.methodName;
    JointEmbeddingTask.checkOptions(options, MSN_KEYS, fn);
    const {
      maskRatio = 0.15,
      numPrototypes = 1024,
      projectionDim = 256,
      temperature = 0.1,
      sinkhornIterations = 3,
      regularizationWeight = 1,
      prior = self.defaultPrior,
      powerLawExponent = 0.25,
    } = options;
    assertInRange(maskRatio, 0, 1, fn, 'options.maskRatio', [false, true]);
    assertInteger(numPrototypes, fn, 'options.numPrototypes', { min: 2 });
    assertInteger(projectionDim, fn, 'options.projectionDim', { min: 1 });
    if (options.hiddenDim !== undefined) assertInteger(options.hiddenDim, fn, 'options.hiddenDim', { min: 1 });
    assertPositive(temperature, fn, 'options.temperature');
    if (typeof options.sharpenTemperature !== 'function') assertPositive(options.sharpenTemperature ?? 0.25, fn, 'options.sharpenTemperature');
    assertInteger(sinkhornIterations, fn, 'options.sinkhornIterations', { min: 0 });
    assertNonNegative(regularizationWeight, fn, 'options.regularizationWeight');
    if (!isTensor(prior)) assertOneOf(prior, ['uniform', 'powerLaw'] as const, fn, 'options.prior');
    else if (prior.rank !== 1 || prior.shape[0] !== numPrototypes) {
      throw new InvalidArgumentError(fn, 'options.prior', `be a [${numPrototypes}] tensor (one probability per prototype)`, describeValue(prior));
    }
    assertPositive(powerLawExponent, fn, 'options.powerLawExponent');
    if (options.maskPatchSize !== undefined) assertInteger(options.maskPatchSize, fn, 'options.maskPatchSize', { min: 1 });
    readMomentum(options.momentum, 0.99, fn); // checked now, read again once totalSteps is known
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => defaultAugment(shape, () => simclrAugment({ strength: 0.5 })),
    });
    this.name = fn;
    const [h, w] = this.imageShape;
    const maskPatchSize = options.maskPatchSize ?? (h % 7 === 0 && w % 7 === 0 ? h / 7 : 4);
    if (!(encoder instanceof VisionTransformer) && (h % maskPatchSize !== 0 || w % maskPatchSize !== 0)) {
      super.dispose();
      throw new InvalidArgumentError(fn, 'options.maskPatchSize', `divide the image size ${h}×${w}`, String(maskPatchSize));
    }
    this.maskPatchSize = maskPatchSize;
    this.maskRatio = maskRatio;
    this.lossOptions = { temperature, sinkhornIterations, regularizationWeight, prior, powerLawExponent };
    this.sharpen = readSharpen(options.sharpenTemperature, fn);
    this.momentum = readMomentum(options.momentum, 0.99, fn, { totalSteps: this.totalSteps });
    const hiddenDim = options.hiddenDim ?? 2 * this.featureDim;
    // The projector (and its EMA copy) and the prototypes, checked before either is built.
    const widest = (['numPrototypes', 'projectionDim', 'hiddenDim'] as const).reduce((a, k) => ((options[k] ?? 0) > (options[a] ?? 0) ? k : a));
    assertTrainingFits(fn, `options.${widest}`, [...mlpWeightShapes(this.featureDim, hiddenDim, 3, projectionDim), [numPrototypes, projectionDim]], mlpWeightShapes(this.featureDim, hiddenDim, 3, projectionDim));
    this.projector = this.projectionHead({ variant: 'byol', hiddenDim, outputDim: projectionDim, numLayers: 3 });
    const bound = 1 / Math.sqrt(projectionDim);
    const values = createRng(this.rng.nextUint32()).uniformArray(numPrototypes * projectionDim, -bound, bound);
    this.prototypeVariable = tf.tidy(() => tf.variable(tf.tensor2d(values, [numPrototypes, projectionDim])));
    this.target = this.createTarget(this.projector, options.targetEncoder, [this.projector, this.prototypeVariable]);
  }

  /** The prototypes `[K, projectionDim]` (not normalised; the live variable: do not dispose). */
  get prototypes(): tf.Tensor2D {
    return this.prototypeVariable as unknown as tf.Tensor2D;
  }

  /** Encoder, projector and prototypes. */
  get trainableVariables(): tf.Variable[] {
    return [...this.variablesOf(this.projector), this.prototypeVariable];
  }

  /** The sharpening temperature of step `step` (default: the current step). */
  sharpenTemperature(step: number = this.steps): number {
    return this.sharpen(step);
  }

  /** Target projections `[B, projectionDim]` of the unmasked target view, without gradient. */
  computeTargets(targetView: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => stopGradient(this.forward(this.target.heads[0]!, targetView, this.target.encoder)));
  }

  /**
   * Encoder features `[B, F]` of the masked anchor view: a fresh random mask
   * of `maskRatio` per image, drawn from `seed` (default: the method's stream).
   */
  anchorFeatures(anchorView: tf.Tensor4D, seed?: number): tf.Tensor2D {
    const batch = anchorView.shape[0];
    const rng = createRng(seed ?? this.rng.nextUint32(), `${this.name}.anchorFeatures`, 'seed');
    if (this.encoder instanceof VisionTransformer) {
      const vit = this.encoder;
      const { idsKeep, mask, idsRestore } = randomPatchMask(batch, vit.numPatches, { maskRatio: this.maskRatio, seed: rng });
      tf.dispose([mask, idsRestore]);
      try {
        return tf.tidy(() => vit.poolTokens(vit.encode(anchorView, { keepIds: idsKeep })));
      } finally {
        idsKeep.dispose();
      }
    }
    const [h, w, c] = this.imageShape;
    const p = this.maskPatchSize;
    const rows = h / p;
    const cols = w / p;
    const { mask, idsKeep, idsRestore } = randomPatchMask(batch, rows * cols, { maskRatio: this.maskRatio, seed: rng });
    tf.dispose([idsKeep, idsRestore]);
    try {
      return tf.tidy(() => {
        // [B, rows·cols] → a [B, H, W, 1] pixel mask of p×p patches.
        const grid = tf.reshape(tf.sub(1, mask), [batch, rows, 1, cols, 1]);
        const keep = tf.reshape(tf.tile(grid, [1, 1, p, 1, p]), [batch, h, w, 1]);
        const masked = tf.mul(anchorView, c === 1 ? keep : tf.tile(keep, [1, 1, 1, c])) as tf.Tensor4D;
        return encodeImages(this.encoder, masked, true);
      });
    } finally {
      mask.dispose();
    }
  }

  /**
   * The MSN (or PMSN) loss of the masked anchor view against `targets` (from
   * {@link MSN.computeTargets}); differentiable with respect to the encoder,
   * projector and prototypes.
   */
  computeLoss(anchorView: tf.Tensor4D, targets: tf.Tensor2D, sharpenTemperature = this.sharpenTemperature()): tf.Scalar {
    return tf.tidy(() => {
      const anchors = this.projector.apply(this.anchorFeatures(anchorView), { training: true }) as tf.Tensor2D;
      return msnLoss(anchors, targets, this.prototypes, { ...this.lossOptions, sharpenTemperature });
    });
  }

  /** EMA step of the target (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const momentum = this.momentum(this.steps);
    const sharpen = this.sharpenTemperature();
    const targets = this.computeTargets(view1);
    try {
      const loss = this.minimize(() => this.computeLoss(view2, targets, sharpen), this.trainableVariables);
      this.updateTarget(momentum);
      return loss;
    } finally {
      targets.dispose();
    }
  }

  override dispose(): void {
    if (this.prototypeVariable.isDisposed) return;
    super.dispose();
    this.projector.dispose();
    this.target.dispose();
    this.prototypeVariable.dispose();
  }
}

/**
 * PMSN (Assran et al., "The Hidden Uniform Cluster Prior in Self-Supervised
 * Learning", ICLR 2023): {@link MSN} whose regulariser pulls the mean
 * prediction towards a power-law prior `π_k ∝ k^(−0.25)` (`KL(π ‖ p̄)`,
 * lightly's `PMSNLoss`) instead of maximising its entropy — the uniform
 * prior that MSN, SwAV and DINO impose is a poor fit for data whose classes
 * are not balanced. Everything else is MSN's; the options are the same, with
 * `prior` defaulting to `'powerLaw'`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { PMSN, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], seed: 0 });
 * const pmsn = new PMSN(encoder, { numPrototypes: 16, projectionDim: 8, hiddenDim: 16, maskRatio: 0.25, seed: 1 });
 * const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * console.log(pmsn.name, pmsn.step(images).toFixed(3)); // PMSN …
 * pmsn.dispose();
 * encoder.dispose();
 * ```
 */
export class PMSN extends MSN {
  protected static override readonly methodName: string = 'PMSN';
  protected static override readonly defaultPrior: 'uniform' | 'powerLaw' = 'powerLaw';
}

function readSharpen(option: unknown, fn: string): Schedule {
  if (typeof option === 'function') {
    const schedule = option as Schedule;
    return (step: number) => {
      const t = schedule(step);
      assertPositive(t, fn, `options.sharpenTemperature(${step})`);
      return t;
    };
  }
  const value = (option as number | undefined) ?? 0.25;
  return () => value;
}
