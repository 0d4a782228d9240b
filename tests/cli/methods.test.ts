/**
 * Every entry of the command's method registry that accepts a ViT builds
 * with its defaults and trains with one: three steps on 32-pixel images (each inside `tf.tidy`, as
 * `trainLoop` runs them) give finite losses, with each encoder it accepts, and free every tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { encoderInput, METHODS, NOT_FROM_A_FOLDER } from '../../src/cli/methods.js';
import { embedImages, type ImageEncoder } from '../../src/tasks/pretext-task.js';
import * as tasks from '../../src/tasks/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the method registry', () => {
  it('names every task class of selfsup/tasks that trains on images (multimodal ones are listed as unavailable)', () => {
    const classes = new Set(METHODS.map((m) => m.className));
    const taskClasses = Object.entries(tasks)
      .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof tasks.BasePretextTask)
      .map(([k]) => k)
      .filter((k) => !['JointEmbeddingTask'].includes(k));
    const missing = taskClasses.filter((c) => !classes.has(c) && !['Clip', 'CrossModalCorrespondence'].includes(c));
    expect(missing).toEqual([]);
    expect(Object.keys(NOT_FROM_A_FOLDER).sort()).toEqual(['clip', 'cross-modal-correspondence']);
    expect(new Set(METHODS.map((m) => m.name)).size).toBe(METHODS.length);
  });

  // The conv encoder of every method runs through the whole command in pretrain.test.ts; here the ViTs.
  const cases = METHODS.flatMap((spec) => spec.encoders.filter((e) => e === 'vit').map((encoder) => [spec, encoder] as const));
  it.each(cases.map(([spec, encoder]) => [`${spec.name} (${encoder})`, spec, encoder] as const))('%s trains three steps', (_, spec, encoder) => {
    const size = 32;
    const before = tf.memory().numTensors;
    const built = spec.build({ imageShape: [size, size, 3], encoder, seed: 0, steps: 10 });
    try {
      // Each step inside tf.tidy, as trainLoop runs it: state a task keeps between steps must survive it.
      const losses = [0, 1, 2].map((i) => tf.tidy(() => built.task.step(tf.randomUniform([8, size, size, 3], 0, 1, 'float32', i) as tf.Tensor4D)));
      expect(losses.every(Number.isFinite), `${spec.name}: ${losses.join(', ')}`).toBe(true);
      const x = tf.randomUniform([3, size, size, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
      const features = tf.tidy(() => embedImages(built.encoder as ImageEncoder, encoderInput(spec.input, x)));
      expect(features.shape[0]).toBe(3);
      tf.dispose([x, features]);
    } finally {
      built.task.dispose();
      for (const m of built.owned) m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
