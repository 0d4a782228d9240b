import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { multiCropOfChecked, type MultiCropOptions, type MultiCropViews } from '../augment/views.js';
import { InvalidArgumentError } from '../core/errors.js';
import { stopGradient } from '../core/stop-gradient.js';
import {
  assertInRange,
  assertInteger,
  assertNonNegative,
  assertOneOf,
  assertProbability,
  assertRangePair,
  describeValue,
} from '../core/validate.js';
import { dinoHead } from '../heads/dino-head.js';
import { VisionTransformer } from '../heads/vit.js';
import { dinoLoss, updateDinoCenter } from '../losses/dino.js';
import { ibotPatchLoss } from '../losses/ibot.js';
import { koleoLoss } from '../losses/koleo.js';
import { gatherMaskedTokens } from '../masking/gather-visible.js';
import { ibotMask } from '../masking/ibot-mask.js';
import type { Schedule } from '../train/schedules.js';
import {
  assertCropsFit,
  checkCropSettings,
  CROP_KEYS,
  cropSpec,
  globalPipelines,
  readDinoHeadOptions,
  readTeacherTemperature,
  refuseAugmentOption,
  withoutFrozenLastLayer,
} from './internal/multi-crop.js';
import { JointEmbeddingTask, JOINT_EMBEDDING_KEYS, type JointEmbeddingOptions } from './joint-embedding.js';
import { readMomentum } from './momentum.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link DINOv2}. */
export interface DINOv2Options extends Omit<JointEmbeddingOptions, 'augment'> {
  /**
   * The multi-crop augmentation, as `multiCrop` options: `global` (exactly 2
   * crops at the ViT's input size; the teacher sees them unmasked, the
   * student masked) and optional `local` crops, which selfsup's fixed-size
   * ViT can only take at its input size.
   * @default DINO's crops sized to the input, without local crops
   */
  crops?: MultiCropOptions;
  /**
   * Number of local crops (when `crops` is not given); they must be of the ViT's input size.
   * @default 0 (the paper: 8 local crops of 98 px on 224 px images, which selfsup's fixed-size ViT cannot take)
   */
  localCrops?: number;
  /**
   * Side of the local crops (when `crops` is not given); only the ViT's input size works.
   * @default 96/224 of the image side, rounded
   */
  localCropSize?: number;
  /**
   * Area range of the global crops (when `crops` is not given).
   * @default [0.4, 1] (DINO; DINOv2 uses [0.32, 1])
   */
  globalCropScale?: readonly [number, number];
  /**
   * Area range of the local crops (when `crops` is not given).
   * @default [0.05, 0.4] (DINO; DINOv2 uses [0.05, 0.32])
   */
  localCropScale?: readonly [number, number];
  /**
   * Output size K of the head (the softmax dimension), shared by the class
   * token and the patch tokens.
   * @default 4096 (the paper: 65536 on ImageNet)
   */
  outputDim?: number;
  /**
   * Hidden width of the head's MLP.
   * @default twice the encoder's width (the paper: 2048)
   */
  hiddenDim?: number;
  /**
   * Width of the L2-normalised bottleneck.
   * @default 256 (the paper)
   */
  bottleneckDim?: number;
  /**
   * Batch norm in the head's hidden layers (DINO's option for ResNets; it
   * keeps the head's outputs spread over a batch, which helps short runs).
   * With it the class tokens and the patch tokens go through the head
   * separately, so each has its own batch statistics.
   * @default false (the paper's ViT heads have none)
   */
  headBatchNorm?: boolean;
  /**
   * Student temperature τ_s of both losses.
   * @default 0.1 (the paper)
   */
  studentTemperature?: number;
  /**
   * Teacher temperature τ_t of both losses: a number, or a {@link Schedule} of the step.
   * @default the linear warm-up from 0.04 to 0.07 over the first 30 % of `totalSteps`; a constant 0.04 without `totalSteps`
   */
  teacherTemperature?: number | Schedule;
  /**
   * How the teacher's logits become targets: DINO's centring (EMA centers of
   * the class-token and of the patch-token logits) and sharpening, or the
   * Sinkhorn–Knopp balancing of DINOv2's large models (no centers).
   * @default 'center' (the paper's default configuration)
   */
  centering?: 'center' | 'sinkhornKnopp';
  /**
   * Sinkhorn–Knopp iterations with `centering: 'sinkhornKnopp'`.
   * @default 3 (the paper)
   */
  sinkhornIterations?: number;
  /**
   * Momentum of the centers' EMA.
   * @default 0.9 (the paper)
   */
  centerMomentum?: number;
  /**
   * Teacher momentum: a number, or a {@link Schedule} of the step.
   * @default a cosine rise from 0.99 to 1 over `totalSteps` (the paper: from 0.992 or 0.994); a constant 0.99 without `totalSteps`
   */
  momentum?: number | Schedule;
  /**
   * Weight of the image-level DINO loss.
   * @default 1 (the paper)
   */
  dinoWeight?: number;
  /**
   * Weight of the iBOT masked-patch loss.
   * @default 1 (the paper)
   */
  ibotWeight?: number;
  /**
   * Weight of the KoLeo regulariser (on the student's class tokens of each global crop).
   * @default 0.1 (the paper)
   */
  koleoWeight?: number;
  /**
   * Fraction of the global crops that get an iBOT mask.
   * @default 0.5 (the paper)
   */
  maskProbability?: number;
  /**
   * Range of the masked fraction of a masked crop's patches.
   * @default [0.1, 0.5] (the paper)
   */
  maskRatio?: readonly [number, number];
  /**
   * Steps during which the head's last layer is not trained (the paper: the first epoch).
   * @default 0
   */
  freezeLastLayerSteps?: number;
  /**
   * A ViT with the encoder's architecture for the teacher (its weights are
   * overwritten; not disposed by the method).
   * @default a clone of the encoder
   */
  targetEncoder?: VisionTransformer;
}

const DINOV2_KEYS = [
  ...CROP_KEYS,
  'outputDim',
  'hiddenDim',
  'bottleneckDim',
  'headBatchNorm',
  'studentTemperature',
  'teacherTemperature',
  'centering',
  'sinkhornIterations',
  'centerMomentum',
  'momentum',
  'dinoWeight',
  'ibotWeight',
  'koleoWeight',
  'maskProbability',
  'maskRatio',
  'freezeLastLayerSteps',
  'targetEncoder',
] as const;

/** The teacher's logits for one step, from {@link DINOv2.teacherOutput}. */
export interface DINOv2TeacherOutput {
  /** Class-token logits of the two global crops `[2·B, K]` (crop-major). */
  classTokens: tf.Tensor2D;
  /** Logits of the patches the student sees masked `[M, K]`, in the mask's row-major order. */
  patchTokens: tf.Tensor2D;
}

/** The three terms of the DINOv2 objective (scalars), before weighting. */
export interface DINOv2Terms {
  /** Image-level DINO loss on the class tokens. */
  dino: tf.Scalar;
  /** iBOT's masked-patch loss. */
  ibot: tf.Scalar;
  /** KoLeo on the student's class tokens, summed over the two global crops. */
  koleo: tf.Scalar;
}

/**
 * DINOv2 (Oquab et al., "DINOv2: Learning Robust Visual Features without
 * Supervision", TMLR 2024; `SSLMetaArch` of the official code): DINO's
 * image-level self-distillation, iBOT's masked-patch self-distillation and
 * the KoLeo regulariser, trained together on a ViT. A student (ViT + DINO
 * head) and its EMA teacher see two global crops; in half of the student's
 * crops a random set of blocks of patches (10–50 %) is replaced by a learned
 * mask token. The loss is
 *
 * `L = w_dino · DINO(student class tokens, teacher class tokens)
 *    + w_ibot · iBOT(student masked patch tokens, teacher patch tokens)
 *    + w_koleo · Σ_crops KoLeo(student class tokens)`
 *
 * — `dinoLoss` (every crop against the teacher's other global crop),
 * `ibotPatchLoss` (the student must predict, at each masked position, the
 * teacher's distribution for the real patch) and `koleoLoss` (spreads the
 * backbone's class tokens of each crop over the sphere), with one head shared
 * by class and patch tokens (the paper's default). The teacher's targets are
 * centred and sharpened (separate EMA centers for class and patch tokens) or,
 * with `centering: 'sinkhornKnopp'`, balanced by Sinkhorn–Knopp.
 *
 * The encoder must be selfsup's {@link VisionTransformer} with a class token
 * (`tinyVit({ classToken: true })`): the method reads its patch tokens and
 * masks its input (`encode(images, { mask, maskToken })`). The method owns
 * the mask token (a `[D]` variable starting at 0, as DINOv2's). Local crops
 * must have the ViT's input size, so there are none by default. Defaults:
 * Adam at 1e-3 (the paper: AdamW with layer-wise decay, lr 4e-3·B/1024).
 *
 * Pieces: {@link DINOv2.crops}, {@link DINOv2.sampleMasks},
 * {@link DINOv2.teacherOutput}, {@link DINOv2.computeTerms},
 * {@link DINOv2.computeLoss}, {@link DINOv2.updateCenters},
 * {@link DINOv2.updateTarget}, {@link DINOv2.head}, {@link DINOv2.target},
 * {@link DINOv2.maskToken}, {@link DINOv2.center}, {@link DINOv2.patchCenter}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { DINOv2, tinyVit } from 'selfsup';
 *
 * const vit = tinyVit({ imageSize: 16, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
 * const dinov2 = new DINOv2(vit, { outputDim: 32, hiddenDim: 16, bottleneckDim: 8, totalSteps: 2, seed: 1 });
 * const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 2; i++) console.log(dinov2.step(images).toFixed(3));
 * dinov2.dispose();
 * vit.dispose();
 * ```
 */
export class DINOv2 extends JointEmbeddingTask {
  readonly name = 'DINOv2';
  /** The ViT being trained (also `encoder`). */
  readonly vit: VisionTransformer;
  /** The student head, shared by class and patch tokens. */
  readonly head: tfl.Sequential;
  /** The teacher: EMA copies of the ViT and the head. */
  readonly target: TargetNetwork;
  /** The multi-crop specification. */
  readonly cropOptions: MultiCropOptions;
  /** Student temperature τ_s. */
  readonly studentTemperature: number;
  /** How teacher targets are made. */
  readonly centering: 'center' | 'sinkhornKnopp';
  /** Weights of the DINO, iBOT and KoLeo terms. */
  readonly weights: { readonly dino: number; readonly ibot: number; readonly koleo: number };
  private readonly maskTokenVariable: tf.Variable;
  private readonly centerVariable: tf.Variable;
  private readonly patchCenterVariable: tf.Variable;
  private readonly centerMomentum: number;
  private readonly sinkhornIterations: number;
  private readonly maskProbability: number;
  private readonly maskRatio: readonly [number, number];
  private readonly teacherTemperatureSchedule: Schedule;
  private readonly momentum: Schedule;
  private readonly freezeLastLayerSteps: number;
  private readonly headBatchNorm: boolean;

  constructor(encoder: VisionTransformer, options: DINOv2Options = {}) {
    const fn = 'DINOv2';
    if (!(encoder instanceof VisionTransformer) || !encoder.classToken) {
      throw new InvalidArgumentError(
        fn,
        'encoder',
        'be a VisionTransformer with a class token (tinyVit({ classToken: true })): DINOv2 reads its class and patch tokens',
        encoder instanceof VisionTransformer ? 'a ViT without a class token' : describeValue(encoder),
      );
    }
    refuseAugmentOption(options, fn);
    JointEmbeddingTask.checkOptions(options, [...JOINT_EMBEDDING_KEYS.filter((k) => k !== 'augment'), ...DINOV2_KEYS], fn);
    checkCropSettings(options, fn);
    const { outputDim, hiddenDim, bottleneckDim, headBatchNorm, studentTemperature } = readDinoHeadOptions(options, 2 * encoder.dim, fn);
    const {
      centering = 'center',
      sinkhornIterations = 3,
      centerMomentum = 0.9,
      dinoWeight = 1,
      ibotWeight = 1,
      koleoWeight = 0.1,
      maskProbability = 0.5,
      maskRatio = [0.1, 0.5],
      freezeLastLayerSteps = 0,
      targetEncoder,
    } = options;
    assertOneOf(centering, ['center', 'sinkhornKnopp'] as const, fn, 'options.centering');
    assertInteger(sinkhornIterations, fn, 'options.sinkhornIterations', { min: 0 });
    assertInRange(centerMomentum, 0, 1, fn, 'options.centerMomentum');
    assertNonNegative(dinoWeight, fn, 'options.dinoWeight');
    assertNonNegative(ibotWeight, fn, 'options.ibotWeight');
    assertNonNegative(koleoWeight, fn, 'options.koleoWeight');
    if (dinoWeight + ibotWeight + koleoWeight === 0) {
      throw new InvalidArgumentError(fn, 'options.dinoWeight', 'leave at least one of dinoWeight, ibotWeight, koleoWeight above 0', '0 for all three');
    }
    assertProbability(maskProbability, fn, 'options.maskProbability');
    assertRangePair(maskRatio, fn, 'options.maskRatio', { min: 0, max: 1 });
    assertInteger(freezeLastLayerSteps, fn, 'options.freezeLastLayerSteps', { min: 0 });
    if (targetEncoder !== undefined && !(targetEncoder instanceof VisionTransformer)) {
      throw new InvalidArgumentError(fn, 'options.targetEncoder', 'be a VisionTransformer of the encoder’s architecture', describeValue(targetEncoder));
    }
    // Schedules are read again once totalSteps is known; reading them now checks them before any allocation.
    readMomentum(options.momentum, 0.99, fn);
    readTeacherTemperature(options.teacherTemperature, undefined, fn);
    let spec: MultiCropOptions | undefined;
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => {
        spec = cropSpec(shape, options, fn, 0);
        return globalPipelines(spec);
      },
    });
    this.vit = encoder;
    this.cropOptions = spec!;
    try {
      assertCropsFit(this.cropOptions, encoder, this.imageShape, this.featureDim, fn);
    } catch (e) {
      super.dispose();
      throw e;
    }
    this.studentTemperature = studentTemperature;
    this.centering = centering;
    this.sinkhornIterations = sinkhornIterations;
    this.centerMomentum = centerMomentum;
    this.weights = { dino: dinoWeight, ibot: ibotWeight, koleo: koleoWeight };
    this.maskProbability = maskProbability;
    this.maskRatio = [maskRatio[0], maskRatio[1]];
    this.freezeLastLayerSteps = freezeLastLayerSteps;
    this.teacherTemperatureSchedule = readTeacherTemperature(options.teacherTemperature, this.totalSteps, fn);
    this.momentum = readMomentum(options.momentum, 0.99, fn, { totalSteps: this.totalSteps });
    this.headBatchNorm = headBatchNorm;
    this.head = dinoHead({ inputDim: encoder.dim, outputDim, hiddenDim, bottleneckDim, batchNorm: headBatchNorm, seed: this.rng.nextUint32() });
    this.maskTokenVariable = tf.tidy(() => tf.variable(tf.zeros([encoder.dim])));
    this.centerVariable = tf.tidy(() => tf.variable(tf.zeros([1, outputDim]), false));
    this.patchCenterVariable = tf.tidy(() => tf.variable(tf.zeros([1, outputDim]), false));
    this.target = this.createTarget(this.head, targetEncoder, [this.head, this.maskTokenVariable, this.centerVariable, this.patchCenterVariable]);
  }

  /** The learned mask token `[D]` (the live variable: do not dispose). */
  get maskToken(): tf.Tensor1D {
    return this.maskTokenVariable as unknown as tf.Tensor1D;
  }

  /** The center `[1, K]` of the teacher's class-token logits (unused with Sinkhorn–Knopp; do not dispose). */
  get center(): tf.Tensor2D {
    return this.centerVariable as unknown as tf.Tensor2D;
  }

  /** The center `[1, K]` of the teacher's patch-token logits (unused with Sinkhorn–Knopp; do not dispose). */
  get patchCenter(): tf.Tensor2D {
    return this.patchCenterVariable as unknown as tf.Tensor2D;
  }

  /** The teacher temperature of step `step` (default: the current step). */
  teacherTemperature(step: number = this.steps): number {
    return this.teacherTemperatureSchedule(step);
  }

  /** The ViT, the mask token and the head (without its last layer while it is frozen). */
  get trainableVariables(): tf.Variable[] {
    return withoutFrozenLastLayer([...this.variablesOf(this.head), this.maskTokenVariable], this.head, this.steps < this.freezeLastLayerSteps);
  }

  /** The multi-crop views of `images` (`{ global: [2], local: [n] }`), from `seed` (default: the method's stream). Dispose them. */
  crops(images: tf.Tensor4D, seed?: number): MultiCropViews {
    this.assertLive('DINOv2.crops');
    this.checkImages(images, 'DINOv2.crops', 1);
    return this.drawCrops(images, seed);
  }

  /** The multi-crop views of a checked batch (no second range check: `multiCrop`'s would read synchronously). */
  private drawCrops(images: tf.Tensor4D, seed?: number): MultiCropViews {
    return multiCropOfChecked(images, this.cropOptions, seed ?? this.rng.nextUint32(), 'DINOv2.crops');
  }

  /**
   * iBOT masks for `count` global crops (`ibotMask` with the method's
   * `maskProbability` and `maskRatio` on the ViT's grid), float32
   * `[count, L]`, from `seed` (default: the method's stream). Dispose it.
   */
  sampleMasks(count: number, seed?: number): tf.Tensor2D {
    return ibotMask(count, this.vit.gridSize, {
      maskProbability: this.maskProbability,
      maskRatio: this.maskRatio,
      seed: seed ?? this.rng.nextUint32(),
    });
  }

  /**
   * The teacher's logits for the two global crops (unmasked), without
   * gradient: class tokens `[2·B, K]` and the patch tokens at the positions
   * `masks` (`[2·B, L]`) hides from the student, `[M, K]`. Dispose both.
   */
  teacherOutput(globalCrops: readonly tf.Tensor4D[], masks: tf.Tensor2D): DINOv2TeacherOutput {
    return tf.tidy(() => {
      const teacherVit = this.target.encoder as VisionTransformer;
      const tokens = teacherVit.encode(tf.concat([...globalCrops], 0) as tf.Tensor4D);
      const { classTokens, patchTokens } = this.headOutputs(tokens, masks, this.target.heads[0]!);
      return { classTokens: stopGradient(classTokens), patchTokens: stopGradient(patchTokens) };
    });
  }

  /**
   * The three terms on `crops` (global crops masked by `masks` in the
   * student) against `teacher` (from {@link DINOv2.teacherOutput}), at the
   * teacher temperature of this step unless given. Differentiable with
   * respect to the ViT, the mask token and the head.
   */
  computeTerms(crops: MultiCropViews, masks: tf.Tensor2D, teacher: DINOv2TeacherOutput, teacherTemperature = this.teacherTemperature()): DINOv2Terms {
    return tf.tidy(() => {
      const globals = tf.concat([...crops.global], 0) as tf.Tensor4D;
      const tokens = this.vit.encode(globals, { mask: masks, maskToken: this.maskToken });
      const student = this.headOutputs(tokens, masks, this.head, crops.local);
      const center = this.centering === 'center' ? this.center : null;
      const patchCenter = this.centering === 'center' ? this.patchCenter : null;
      const targets = { teacherTemperature, centering: this.centering, sinkhornIterations: this.sinkhornIterations };
      const dino = dinoLoss(student.classTokens, teacher.classTokens, center, { ...targets, studentTemperature: this.studentTemperature, numGlobalCrops: 2 });
      const ibot = ibotPatchLoss(student.patchTokens, teacher.patchTokens, masks, patchCenter, { ...targets, studentTemperature: this.studentTemperature });
      // KoLeo per global crop (never between the two crops of one image), on the backbone's class tokens.
      const batch = crops.global[0]!.shape[0];
      const classTokens = tf.squeeze(tf.slice(tokens, [0, 0, 0], [-1, 1, -1]), [1]);
      const koleo = tf.add(
        koleoLoss(tf.slice(classTokens, [0, 0], [batch, -1]) as tf.Tensor2D),
        koleoLoss(tf.slice(classTokens, [batch, 0], [batch, -1]) as tf.Tensor2D),
      ) as tf.Scalar;
      return { dino, ibot, koleo };
    });
  }

  /** The weighted sum of {@link DINOv2.computeTerms} (what one step minimises). */
  computeLoss(crops: MultiCropViews, masks: tf.Tensor2D, teacher: DINOv2TeacherOutput, teacherTemperature = this.teacherTemperature()): tf.Scalar {
    return tf.tidy(() => {
      const { dino, ibot, koleo } = this.computeTerms(crops, masks, teacher, teacherTemperature);
      const w = this.weights;
      return tf.addN([tf.mul(w.dino, dino), tf.mul(w.ibot, ibot), tf.mul(w.koleo, koleo)]) as tf.Scalar;
    });
  }

  /** Moves the class-token and patch-token centers towards this step's teacher logits (no-op with Sinkhorn–Knopp). */
  updateCenters(teacher: DINOv2TeacherOutput): void {
    if (this.centering !== 'center') return;
    const next = updateDinoCenter(this.center, teacher.classTokens, { momentum: this.centerMomentum });
    this.centerVariable.assign(next);
    next.dispose();
    if (teacher.patchTokens.shape[0] > 0) {
      const nextPatch = updateDinoCenter(this.patchCenter, teacher.patchTokens, { momentum: this.centerMomentum });
      this.patchCenterVariable.assign(nextPatch);
      nextPatch.dispose();
    }
  }

  /** EMA step of the teacher (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  /** One DINOv2 step on a batch of images: crops, masks, teacher, loss, update, centers, EMA; returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape, 2);
    this.applyLearningRate();
    const crops = this.drawCrops(images);
    try {
      return this.stepOn(crops);
    } finally {
      tf.dispose([...crops.global, ...crops.local]);
    }
  }

  /** A step on two given views as the global crops, without local crops. */
  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    return this.stepOn({ global: [view1, view2], local: [] });
  }

  private stepOn(crops: MultiCropViews): number {
    const momentum = this.momentum(this.steps);
    const temperature = this.teacherTemperature();
    const masks = this.sampleMasks(2 * crops.global[0]!.shape[0]);
    let teacher: DINOv2TeacherOutput | null = null;
    try {
      teacher = this.teacherOutput(crops.global, masks);
      const t = teacher;
      const loss = this.minimize(() => this.computeLoss(crops, masks, t, temperature), this.trainableVariables);
      this.updateCenters(t);
      this.updateTarget(momentum);
      return loss;
    } finally {
      masks.dispose();
      if (teacher) tf.dispose([teacher.classTokens, teacher.patchTokens]);
    }
  }

  /**
   * Head logits of the class tokens (global crops, then the local crops' class
   * tokens) and of the masked patch tokens, in one head call.
   */
  private headOutputs(tokens: tf.Tensor3D, masks: tf.Tensor2D, head: tfl.LayersModel, locals: readonly tf.Tensor4D[] = []): DINOv2TeacherOutput {
    const classOf = (t: tf.Tensor3D) => tf.squeeze(tf.slice(t, [0, 0, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [classOf(tokens)];
    if (locals.length > 0) parts.push(classOf(this.vit.encode(tf.concat([...locals], 0) as tf.Tensor4D)));
    const patches = gatherMaskedTokens(tf.slice(tokens, [0, 1, 0], [-1, -1, -1]) as tf.Tensor3D, masks);
    if (this.headBatchNorm) {
      // Separate batches, so class and patch tokens keep their own batch statistics.
      const classLogits = head.apply(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), { training: true }) as tf.Tensor2D;
      const patchLogits = patches.shape[0] > 0 ? (head.apply(patches, { training: true }) as tf.Tensor2D) : tf.zeros([0, classLogits.shape[1]]);
      return { classTokens: classLogits, patchTokens: patchLogits as tf.Tensor2D };
    }
    parts.push(patches);
    const classRows = parts.slice(0, -1).reduce((n, p) => n + p.shape[0], 0);
    const logits = head.apply(tf.concat(parts, 0), { training: true }) as tf.Tensor2D;
    // Slices, not tf.split: tfjs's SplitV gradient fails when a part receives no gradient.
    return {
      classTokens: tf.slice(logits, [0, 0], [classRows, -1]),
      patchTokens: tf.slice(logits, [classRows, 0], [patches.shape[0], -1]),
    };
  }

  override dispose(): void {
    if (this.maskTokenVariable.isDisposed) return;
    super.dispose();
    this.head.dispose();
    this.target.dispose();
    this.maskTokenVariable.dispose();
    this.centerVariable.dispose();
    this.patchCenterVariable.dispose();
  }
}
