import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { mlpEncoder } from '../../src/heads/mlp-encoder.js';
import { BasePretextTask, embedImages, encodeImages } from '../../src/tasks/pretext-task.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

class ShrinkFeatures extends BasePretextTask {
  readonly name = 'ShrinkFeatures';
  constructor() {
    super(mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 0 }), undefined, 0.05);
  }
  protected runStep(images: tf.Tensor4D): number {
    return this.minimize(() => tf.mean(tf.square(encodeImages(this.encoder, images, true))) as tf.Scalar, this.variablesOf());
  }
}

describeBackends('BasePretextTask and embedImages', () => {
  it('embedImages batches exactly like one pass and leaks nothing', () => {
    const encoder = mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 3 });
    const images = tf.randomUniform([13, 4, 4, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const whole = embedImages(encoder, images);
    const batched = expectNoLeak(() => embedImages(encoder, images, { batchSize: 5 }));
    expect(batched.shape).toEqual([13, 8]);
    expectClose(batched, whole, { rtol: 1e-5, atol: 1e-6 });
    expect(() => embedImages(encoder, images, { batchSize: 0 })).toThrow(
      'embedImages: options.batchSize must be an integer ≥ 1, got 0',
    );
    expect(() => embedImages(encoder, tf.zeros([2, 4]) as never)).toThrow('embedImages: images must be a rank-4 tensor');
    tf.dispose([images, whole, batched]);
    encoder.dispose();
  });

  it('minimize steps the optimizer, counts steps, lowers the loss, leaks nothing', () => {
    const task = new ShrinkFeatures();
    const images = tf.randomUniform([8, 4, 4, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const first = task.step(images);
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 20; i++) last = task.step(images);
    expect(tf.memory().numTensors).toBe(before);
    expect(task.steps).toBe(21);
    expect(last).toBeLessThan(first);
    task.dispose();
    (task.encoder as unknown as { dispose(): void }).dispose();
    images.dispose();
  });
});
