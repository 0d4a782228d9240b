/**
 * Whole training steps of the learning benchmark's recipes (bench/learn/), at
 * one batch size, for the `step` benchmark group (bench/workloads/step.ts)
 * and the kernel profile (bench/profile.ts): SimCLR, BYOL, MAE and rotation
 * prediction built by the same registry entries `npm run bench:learn` trains
 * (same encoder, heads, augmentation, optimizer, schedule), and one
 * supervised step of each reference encoder (convEncoder as the benchmark
 * configures it, mlpEncoder, tinyVit) with Adam and a squared-error target.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadFashionMnist, mlpEncoder, tinyVit, type ImageEncoder, type PretextTask } from 'selfsup';
import type { LearnContext } from '../learn/entry.js';
import { JOINT_EMBEDDING_ENTRIES } from '../learn/joint-embedding.js';
import { PRETEXT_TASK_ENTRIES } from '../learn/pretext-tasks.js';
import { IMAGE_SHAPE, makeEncoder } from '../learn/protocol.js';

/** One training step to time, and the cleanup. */
export interface StepFixture {
  /** Runs one step (returns once the loss value is read back). */
  step(): number;
  /** The optimizer the step updates with (the profiler wraps its `applyGradients`). */
  optimizer: tf.Optimizer;
  dispose(): void;
}

export const METHOD_STEPS = ['simclr', 'byol', 'mae', 'rotation'] as const;
export const ENCODER_STEPS = ['convEncoder', 'mlpEncoder', 'tinyVit'] as const;
export type StepName = (typeof METHOD_STEPS)[number] | (typeof ENCODER_STEPS)[number];

/** `batch` Fashion-MNIST training images (the benchmark's data). */
export function benchImages(batch: number): tf.Tensor4D {
  const { images, labels } = loadFashionMnist({ split: 'train', limit: batch });
  labels.dispose();
  return images;
}

function methodStep(name: string, images: tf.Tensor4D): StepFixture {
  const entry = [...JOINT_EMBEDDING_ENTRIES, ...PRETEXT_TASK_ENTRIES].find((e) => e.name === name);
  if (!entry) throw new Error(`no learning-benchmark entry named ${name}`);
  const context: LearnContext = { seed: 0, imageShape: IMAGE_SHAPE, makeEncoder: (s = 0) => makeEncoder(s), quick: false };
  const task: PretextTask = entry.build(context);
  return {
    step: () => task.step(images),
    optimizer: (task as unknown as { optimizer: tf.Optimizer }).optimizer,
    dispose: () => {
      task.dispose();
      (task.encoder as unknown as { dispose?: () => void }).dispose?.();
    },
  };
}

function encoderStep(encoder: ImageEncoder, images: tf.Tensor4D, dispose: () => void): StepFixture {
  const optimizer = tf.train.adam(1e-3);
  const features = tf.tidy(() => tf.reshape(encoder.apply(images, { training: true }) as tf.Tensor, [images.shape[0], -1]));
  const target = tf.randomNormal(features.shape, 0, 1, 'float32', 7);
  features.dispose();
  return {
    step: () => {
      const loss = optimizer.minimize(
        () => tf.mean(tf.squaredDifference(tf.reshape(encoder.apply(images, { training: true }) as tf.Tensor, target.shape), target)) as tf.Scalar,
        true,
      );
      const value = loss!.dataSync()[0]!;
      loss!.dispose();
      return value;
    },
    optimizer,
    dispose: () => {
      optimizer.dispose();
      target.dispose();
      dispose();
    },
  };
}

/** The step `name` on `images` (`[B, 28, 28, 1]`), on the active backend. */
export function makeStep(name: StepName, images: tf.Tensor4D): StepFixture {
  switch (name) {
    case 'convEncoder': {
      const e = makeEncoder(0);
      return encoderStep(e, images, () => (e as unknown as { dispose(): void }).dispose());
    }
    case 'mlpEncoder': {
      const e = mlpEncoder({ inputShape: [...IMAGE_SHAPE], units: [512, 512, 128], batchNorm: true, seed: 0 });
      return encoderStep(e, images, () => e.dispose());
    }
    case 'tinyVit': {
      // MAE's encoder configuration in bench/learn/pretext-tasks.ts.
      const e = tinyVit({ imageSize: 28, channels: 1, patchSize: 7, dim: 64, depth: 4, heads: 4, pool: 'mean', seed: 0 });
      return encoderStep(e, images, () => e.dispose());
    }
    default:
      return methodStep(name, images);
  }
}
