/**
 * The multi-crop, head and teacher-temperature machinery DINO and DINOv2
 * share: their default crops, the validation of a `multiCrop` spec against
 * the encoder, the head options, the frozen last layer and the
 * teacher-temperature schedule option.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compose } from '../../augment/compose.js';
import { dinoMultiCrop } from '../../augment/presets.js';
import { RandomResizedCrop } from '../../augment/resized-crop.js';
import type { Transform } from '../../augment/transform.js';
import type { CropGroup, MultiCropOptions } from '../../augment/views.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { assertInteger, assertOneOf, assertPositive, assertRangePair, describeValue } from '../../core/validate.js';
import { teacherTemperatureSchedule, type Schedule } from '../../train/schedules.js';
import { trainableVariables } from '../../train/variables.js';
import { grayscalePhotometric } from '../grayscale-augment.js';
import { encodeImages, type ImageEncoder } from '../pretext-task.js';

/** The crop options of DINO and DINOv2 (documented on their options interfaces). */
export interface CropSettings {
  crops?: MultiCropOptions;
  localCrops?: number;
  localCropSize?: number;
  globalCropScale?: readonly [number, number];
  localCropScale?: readonly [number, number];
}

/** Option keys of {@link CropSettings}. */
export const CROP_KEYS = ['crops', 'localCrops', 'localCropSize', 'globalCropScale', 'localCropScale'] as const;

/**
 * Checks the crop options that do not depend on the image (before anything is
 * allocated); the spec itself is built by {@link cropSpec} once the shape is known.
 */
export function checkCropSettings(options: CropSettings, fn: string): void {
  const { localCrops, localCropSize, globalCropScale, localCropScale, crops } = options;
  if (localCrops !== undefined) assertInteger(localCrops, fn, 'options.localCrops', { min: 0, max: 64 });
  if (localCropSize !== undefined) assertInteger(localCropSize, fn, 'options.localCropSize', { min: 1 });
  if (globalCropScale !== undefined) assertRangePair(globalCropScale, fn, 'options.globalCropScale', { min: 0, max: 1 });
  if (localCropScale !== undefined) assertRangePair(localCropScale, fn, 'options.localCropScale', { min: 0, max: 1 });
  if (crops !== undefined) {
    if (typeof crops !== 'object' || crops === null || typeof crops.global !== 'object' || crops.global === null) {
      throw new InvalidArgumentError(fn, 'options.crops', 'be multiCrop options { global, local? }', describeValue(crops));
    }
    if (crops.global.count !== 2) {
      throw new InvalidArgumentError(fn, 'options.crops.global.count', 'be 2 (the teacher sees two global crops)', describeValue(crops.global.count));
    }
  }
}

/**
 * The multi-crop spec for `[H, W, C]` images: `options.crops`, or DINO's
 * default — `dinoMultiCrop` sized to the input on square RGB images, the same
 * crops with {@link grayscaleAugment}'s photometric part otherwise.
 */
export function cropSpec(shape: readonly [number, number, number], options: CropSettings, fn: string, defaultLocalCrops: number): MultiCropOptions {
  if (options.crops !== undefined) return options.crops;
  const [h, w, c] = shape;
  const {
    localCrops = defaultLocalCrops,
    localCropSize = Math.max(1, Math.round((Math.min(h, w) * 96) / 224)),
    globalCropScale = [0.4, 1],
    localCropScale = [0.05, 0.4],
  } = options;
  if (c === 3 && h === w) {
    return dinoMultiCrop({ globalSize: h, localSize: localCropSize, localCount: localCrops, globalScale: globalCropScale, localScale: localCropScale });
  }
  const photometric = c === 1 || c === 3 ? grayscalePhotometric({}, fn) : undefined;
  const group = (count: number, size: CropGroup['size'], scale: readonly [number, number]): CropGroup => ({
    count,
    size,
    scale,
    ...(photometric ? { transforms: photometric } : {}),
  });
  return {
    global: group(2, [h, w], globalCropScale),
    ...(localCrops > 0 ? { local: group(localCrops, localCropSize, localCropScale) } : {}),
  };
}

/** The two global-crop pipelines of a multi-crop spec, as a pair for `views`. */
export function globalPipelines(spec: MultiCropOptions): [Transform, Transform] {
  const g = spec.global;
  const crop = new RandomResizedCrop({ size: g.size, scale: g.scale, ...(g.ratio ? { ratio: g.ratio } : {}) });
  const after = g.transforms;
  const pick = (i: number): Transform =>
    after === undefined ? crop : compose([crop, Array.isArray(after) ? (after[i] as Transform) : (after as Transform)]);
  return [pick(0), pick(1)];
}

function cropSide(size: CropGroup['size']): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/**
 * Throws unless the global crops have the encoder's input size and the
 * encoder turns the local crops into features of its width.
 */
export function assertCropsFit(
  spec: MultiCropOptions,
  encoder: ImageEncoder,
  imageShape: readonly [number, number, number],
  featureDim: number,
  fn: string,
): void {
  const [h, w, c] = imageShape;
  const [gh, gw] = cropSide(spec.global.size);
  if (gh !== h || gw !== w) {
    throw new InvalidArgumentError(fn, 'options.crops.global.size', `be the encoder's input size ${h}×${w}`, `${gh}×${gw}`);
  }
  const local = spec.local;
  if (local === undefined || local.count === 0) return;
  const [lh, lw] = cropSide(local.size);
  let width: number | string;
  try {
    width = tf.tidy(() => encodeImages(encoder, tf.zeros([1, lh, lw, c]) as tf.Tensor4D, false).shape[1]);
  } catch (e) {
    width = `an error: "${(e as Error).message}"`;
  }
  if (width !== featureDim) {
    throw new InvalidArgumentError(
      fn,
      'options.localCropSize',
      `be a size the encoder accepts with its ${featureDim} features (or use localCrops: 0)`,
      `${lh}×${lw}, which gave ${typeof width === 'number' ? `${width} features` : width}`,
    );
  }
}

/** The teacher-temperature option as a schedule: DINO's warm-up 0.04 → 0.07 over 30 % of the run by default. */
export function readTeacherTemperature(option: unknown, totalSteps: number | undefined, fn: string): Schedule {
  if (option === undefined) {
    if (totalSteps === undefined) return () => 0.04;
    return teacherTemperatureSchedule({ warmupSteps: Math.round(0.3 * totalSteps), start: 0.04, final: 0.07 });
  }
  if (typeof option === 'function') {
    const schedule = option as Schedule;
    return (step: number) => {
      const t = schedule(step);
      assertPositive(t, fn, `options.teacherTemperature(${step})`);
      return t;
    };
  }
  assertPositive(option, fn, 'options.teacherTemperature');
  return () => option as number;
}

/** Throws when `options` has an `augment` key: DINO and DINOv2 take their augmentation as `crops`. */
export function refuseAugmentOption(options: object | undefined, fn: string): void {
  if ('augment' in (options ?? {})) {
    throw new InvalidArgumentError(fn, 'options.augment', `be omitted: ${fn} takes its multi-crop augmentation as options.crops`, describeValue((options as { augment?: unknown }).augment));
  }
}

/** The head options of DINO and DINOv2 (documented on their options interfaces). */
export interface DinoHeadOptions {
  outputDim?: number;
  hiddenDim?: number;
  bottleneckDim?: number;
  headBatchNorm?: boolean;
  studentTemperature?: number;
}

/** The head options with their defaults filled in, checked in this order. */
export function readDinoHeadOptions(options: DinoHeadOptions, defaultHiddenDim: number, fn: string): Required<DinoHeadOptions> {
  const { outputDim = 4096, hiddenDim = defaultHiddenDim, bottleneckDim = 256, headBatchNorm = false, studentTemperature = 0.1 } = options;
  assertInteger(outputDim, fn, 'options.outputDim', { min: 1 });
  assertInteger(hiddenDim, fn, 'options.hiddenDim', { min: 1 });
  assertInteger(bottleneckDim, fn, 'options.bottleneckDim', { min: 1 });
  assertOneOf(headBatchNorm, [true, false], fn, 'options.headBatchNorm');
  assertPositive(studentTemperature, fn, 'options.studentTemperature');
  return { outputDim, hiddenDim, bottleneckDim, headBatchNorm, studentTemperature };
}

/**
 * `variables` without those of the head's last layer while it is frozen (the
 * paper's first epoch, against the early collapse of the prototypes).
 */
export function withoutFrozenLastLayer(variables: tf.Variable[], head: tfl.Sequential, frozen: boolean): tf.Variable[] {
  if (!frozen) return variables;
  const last = new Set(trainableVariables(head.layers[head.layers.length - 1]!));
  return variables.filter((v) => !last.has(v));
}
