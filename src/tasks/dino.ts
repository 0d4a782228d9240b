import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { multiCropOfChecked, type MultiCropOptions, type MultiCropViews } from '../augment/views.js';
import { stopGradient } from '../core/stop-gradient.js';
import { assertInRange, assertInteger } from '../core/validate.js';
import { dinoHead } from '../heads/dino-head.js';
import { dinoLoss, updateDinoCenter } from '../losses/dino.js';
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
import type { ImageEncoder } from './pretext-task.js';
import type { TargetNetwork } from './target-network.js';

/** Options of {@link DINO}. */
export interface DINOOptions extends Omit<JointEmbeddingOptions, 'augment'> {
  /**
   * The multi-crop augmentation, as `multiCrop` options: `global` (exactly 2
   * crops, at the encoder's input size; the teacher sees them) and `local`
   * (smaller crops, student only; the encoder must accept their size).
   * @default `dinoMultiCrop` sized to the input on RGB (global crops at the image size, `localCrops` local crops at `localCropSize`); on 1-channel images the same crops with {@link grayscaleAugment}'s flip and brightness/contrast jitter
   */
  crops?: MultiCropOptions;
  /**
   * Number of local crops (when `crops` is not given).
   * @default 8 (the paper)
   */
  localCrops?: number;
  /**
   * Side of the local crops (when `crops` is not given).
   * @default 96/224 of the image side, rounded (the paper: 96 px for 224 px images)
   */
  localCropSize?: number;
  /**
   * Area range of the global crops (when `crops` is not given).
   * @default [0.4, 1] (the paper)
   */
  globalCropScale?: readonly [number, number];
  /**
   * Area range of the local crops (when `crops` is not given).
   * @default [0.05, 0.4] (the paper)
   */
  localCropScale?: readonly [number, number];
  /**
   * Output size K of the head (the softmax dimension).
   * @default 4096 (the paper: 65536 on ImageNet)
   */
  outputDim?: number;
  /**
   * Hidden width of the head's MLP.
   * @default twice the encoder's feature size (the paper: 2048)
   */
  hiddenDim?: number;
  /**
   * Width of the L2-normalised bottleneck.
   * @default 256 (the paper)
   */
  bottleneckDim?: number;
  /**
   * Batch norm in the head's hidden layers (the paper: off for ViTs).
   * @default false
   */
  headBatchNorm?: boolean;
  /**
   * Student temperature τ_s.
   * @default 0.1 (the paper)
   */
  studentTemperature?: number;
  /**
   * Teacher temperature τ_t: a number, or a {@link Schedule} of the step.
   * @default the paper's linear warm-up from 0.04 to 0.07 over the first 30 % of `totalSteps` (`teacherTemperatureSchedule`); a constant 0.04 without `totalSteps`
   */
  teacherTemperature?: number | Schedule;
  /**
   * Momentum of the center's EMA.
   * @default 0.9 (the paper)
   */
  centerMomentum?: number;
  /**
   * Teacher momentum: a number, or a {@link Schedule} of the step.
   * @default a cosine rise from 0.99 to 1 over `totalSteps` (the paper: from 0.996); a constant 0.99 without `totalSteps`
   */
  momentum?: number | Schedule;
  /**
   * Steps during which the head's last layer is not trained (the paper: the first epoch).
   * @default 0
   */
  freezeLastLayerSteps?: number;
  /**
   * A model with the encoder's architecture for the teacher, for encoders
   * `cloneEncoder` cannot copy (its weights are overwritten; not disposed by
   * the method).
   * @default a clone of the encoder
   */
  targetEncoder?: ImageEncoder;
}

const DINO_KEYS = [
  ...CROP_KEYS,
  'outputDim',
  'hiddenDim',
  'bottleneckDim',
  'headBatchNorm',
  'studentTemperature',
  'teacherTemperature',
  'centerMomentum',
  'momentum',
  'freezeLastLayerSteps',
  'targetEncoder',
] as const;

/**
 * DINO (Caron et al., "Emerging Properties in Self-Supervised Vision
 * Transformers", ICCV 2021): self-distillation without labels. A student
 * (encoder + DINO head) is trained to match, with a cross-entropy over K
 * output dimensions, the softmax of a teacher — an EMA of the student — on
 * different crops of the same image: the teacher sees the 2 global crops,
 * the student all crops (2 global + small local ones), and every student crop
 * predicts every teacher crop but its own. Collapse is avoided by centring
 * the teacher's logits (an EMA `center` of its mean output, which prevents
 * one dimension from dominating) and sharpening them with a low teacher
 * temperature (which prevents the uniform output); the balance of the two is
 * why the teacher temperature warms up.
 *
 * Each step: crops (`multiCrop`), teacher logits of the global crops (no
 * gradient, training-mode batch norm), `dinoLoss(student, teacher, center,
 * { studentTemperature, teacherTemperature })`, the optimizer step (the head's
 * last layer excluded while frozen), then `updateDinoCenter` with this step's
 * teacher logits and the EMA update of the teacher. Head: `dinoHead` (MLP →
 * L2-normalised bottleneck → weight-normalised K-way layer). Defaults: Adam
 * at 1e-3 (the paper: AdamW, lr 5e-4·B/256 with warm-up, weight decay
 * 0.04 → 0.4).
 *
 * Local crops run through the encoder at their own size, so the encoder must
 * accept them (a conv encoder with global pooling does; selfsup's ViT has a
 * fixed input size — give it `localCrops: 0` or full-size local crops).
 *
 * Pieces: {@link DINO.crops}, {@link DINO.teacherOutput},
 * {@link DINO.computeLoss}, {@link DINO.updateCenter},
 * {@link DINO.updateTarget}, {@link DINO.center}, {@link DINO.head},
 * {@link DINO.target}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { DINO, convEncoder } from 'selfsup';
 *
 * const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [4, 8], seed: 0 });
 * const dino = new DINO(encoder, { localCrops: 2, outputDim: 32, hiddenDim: 16, bottleneckDim: 8, totalSteps: 2, seed: 1 });
 * const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * for (let i = 0; i < 2; i++) console.log(dino.step(images).toFixed(3)); // ≈ ln 32 at the start
 * console.log(dino.center.shape); // [1, 32]
 * dino.dispose();
 * ```
 */
export class DINO extends JointEmbeddingTask {
  readonly name = 'DINO';
  /** The student head. */
  readonly head: tfl.Sequential;
  /** The teacher: EMA copies of the encoder and the head. */
  readonly target: TargetNetwork;
  /** The multi-crop specification. */
  readonly cropOptions: MultiCropOptions;
  /** Student temperature τ_s. */
  readonly studentTemperature: number;
  /** Center momentum. */
  readonly centerMomentum: number;
  private readonly centerVariable: tf.Variable;
  private readonly teacherTemperatureSchedule: Schedule;
  private readonly momentum: Schedule;
  private readonly freezeLastLayerSteps: number;

  constructor(encoder: ImageEncoder, options: DINOOptions = {}) {
    const fn = 'DINO';
    refuseAugmentOption(options, fn);
    JointEmbeddingTask.checkOptions(
      options,
      [...JOINT_EMBEDDING_KEYS.filter((k) => k !== 'augment'), ...DINO_KEYS],
      fn,
    );
    checkCropSettings(options, fn);
    let spec: MultiCropOptions | undefined;
    super(fn, encoder, options, {
      learningRate: 1e-3,
      augment: (shape) => {
        spec = cropSpec(shape, options, fn, 8);
        return globalPipelines(spec);
      },
    });
    this.cropOptions = spec!;
    assertCropsFit(this.cropOptions, encoder, this.imageShape, this.featureDim, fn);
    const { outputDim, hiddenDim, bottleneckDim, headBatchNorm, studentTemperature } = readDinoHeadOptions(options, 2 * this.featureDim, fn);
    const { centerMomentum = 0.9, freezeLastLayerSteps = 0 } = options;
    assertInRange(centerMomentum, 0, 1, fn, 'options.centerMomentum');
    assertInteger(freezeLastLayerSteps, fn, 'options.freezeLastLayerSteps', { min: 0 });
    this.studentTemperature = studentTemperature;
    this.centerMomentum = centerMomentum;
    this.freezeLastLayerSteps = freezeLastLayerSteps;
    this.teacherTemperatureSchedule = readTeacherTemperature(options.teacherTemperature, this.totalSteps, fn);
    this.momentum = readMomentum(options.momentum, 0.99, fn, { totalSteps: this.totalSteps });
    this.head = dinoHead({
      inputDim: this.featureDim,
      outputDim,
      hiddenDim,
      bottleneckDim,
      batchNorm: headBatchNorm,
      seed: this.rng.nextUint32(),
    });
    this.centerVariable = tf.tidy(() => tf.variable(tf.zeros([1, outputDim]), false));
    this.target = this.createTarget(this.head, options.targetEncoder, [this.head, this.centerVariable]);
  }

  /** The center `[1, K]` subtracted from the teacher's logits (the live variable: do not dispose). */
  get center(): tf.Tensor2D {
    return this.centerVariable as unknown as tf.Tensor2D;
  }

  /** The teacher temperature of step `step` (default: the current step). */
  teacherTemperature(step: number = this.steps): number {
    return this.teacherTemperatureSchedule(step);
  }

  /** Encoder and head, without the head's last layer while it is frozen. */
  get trainableVariables(): tf.Variable[] {
    return withoutFrozenLastLayer(this.variablesOf(this.head), this.head, this.steps < this.freezeLastLayerSteps);
  }

  /** The multi-crop views of `images` (`{ global: [2], local: [n] }`), from `seed` (default: the method's stream). Dispose them. */
  crops(images: tf.Tensor4D, seed?: number): MultiCropViews {
    this.assertLive('DINO.crops');
    this.checkBatch(images, this.imageShape, 1, 'DINO.crops');
    return this.drawCrops(images, seed);
  }

  /** The multi-crop views of a checked batch (no second range check: `multiCrop`'s would read synchronously). */
  private drawCrops(images: tf.Tensor4D, seed?: number): MultiCropViews {
    return multiCropOfChecked(images, this.cropOptions, seed ?? this.rng.nextUint32(), 'DINO.crops');
  }

  /** The teacher's logits `[2·B, K]` for the two global crops (crop-major), without gradient. */
  teacherOutput(globalCrops: readonly tf.Tensor4D[]): tf.Tensor2D {
    return tf.tidy(() => {
      const logits = this.forward(this.target.heads[0]!, tf.concat([...globalCrops], 0) as tf.Tensor4D, this.target.encoder);
      return stopGradient(logits) as tf.Tensor2D;
    });
  }

  /** The student's logits `[V·B, K]` for all crops (global first, crop-major). */
  studentOutput(crops: MultiCropViews): tf.Tensor2D {
    return tf.tidy(() => {
      const run = (group: readonly tf.Tensor4D[]) => this.forward(this.head, tf.concat([...group], 0) as tf.Tensor4D);
      const parts = [run(crops.global)];
      if (crops.local.length > 0) parts.push(run(crops.local));
      return (parts.length === 1 ? parts[0]! : tf.concat(parts, 0)) as tf.Tensor2D;
    });
  }

  /**
   * The DINO loss of the student on `crops` against `teacherOutput` (from
   * {@link DINO.teacherOutput}), with the current center and the teacher
   * temperature of this step unless given. Differentiable with respect to the
   * encoder and the head.
   */
  computeLoss(crops: MultiCropViews, teacherOutput: tf.Tensor2D, teacherTemperature = this.teacherTemperature()): tf.Scalar {
    return tf.tidy(() =>
      dinoLoss(this.studentOutput(crops), teacherOutput, this.center, {
        studentTemperature: this.studentTemperature,
        teacherTemperature,
        numGlobalCrops: 2,
      }),
    );
  }

  /** Moves the center towards the mean of this step's teacher logits (`updateDinoCenter`). */
  updateCenter(teacherOutput: tf.Tensor2D): void {
    const next = updateDinoCenter(this.center, teacherOutput, { momentum: this.centerMomentum });
    this.centerVariable.assign(next);
    next.dispose();
  }

  /** EMA step of the teacher (momentum: the option's value at the current step unless given). */
  updateTarget(momentum: number = this.momentum(this.steps)): void {
    this.target.update(momentum);
  }

  /** One DINO step on a batch of images (multi-crop, not two views); returns the loss. */
  protected override runStep(images: tf.Tensor4D): number {
    this.checkBatch(images, this.imageShape, 2);
    this.applyLearningRate();
    const momentum = this.momentum(this.steps);
    const temperature = this.teacherTemperature();
    const crops = this.drawCrops(images);
    let teacher: tf.Tensor2D | null = null;
    try {
      teacher = this.teacherOutput(crops.global);
      const t = teacher;
      const loss = this.minimize(() => this.computeLoss(crops, t, temperature), this.trainableVariables);
      this.updateCenter(t);
      this.updateTarget(momentum);
      return loss;
    } finally {
      tf.dispose([...crops.global, ...crops.local]);
      teacher?.dispose();
    }
  }

  /**
   * A step on two given views treated as the global crops, without local
   * crops (`step` itself draws the full multi-crop set).
   */
  protected trainStep(view1: tf.Tensor4D, view2: tf.Tensor4D): number {
    const crops = { global: [view1, view2], local: [] };
    const teacher = this.teacherOutput(crops.global);
    try {
      const loss = this.minimize(() => this.computeLoss(crops, teacher), this.trainableVariables);
      this.updateCenter(teacher);
      this.updateTarget();
      return loss;
    } finally {
      teacher.dispose();
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.head.dispose();
    this.target.dispose();
    this.centerVariable.dispose();
  }
}
