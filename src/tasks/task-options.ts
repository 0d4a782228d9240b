import type * as tf from '@tensorflow/tfjs-core';
import type { Seed } from '../core/rng.js';
import type { StepGuardOptions } from './pretext-task.js';

/**
 * Options every pretext task of selfsup/tasks accepts (each task's own
 * options interface extends this one and documents its `learningRate`).
 */
export interface TaskOptions extends StepGuardOptions {
  /**
   * The optimizer of the encoder and the task's heads. When omitted the task
   * creates Adam with `learningRate` and disposes it in `dispose()`; one you
   * pass is yours to dispose.
   * @default undefined (Adam with the task's learningRate)
   */
  optimizer?: tf.Optimizer;
  /**
   * Seed of the task's heads and of every random choice it makes per step
   * (masks, rotations, tiles, negatives, augmentations): the same seed and
   * encoder weights reproduce a run exactly on a given backend.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}
