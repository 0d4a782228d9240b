/** MaskedAutoencoder on a conv encoder: blanked input, map cells as patches, MAE's decoder and loss. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { convEncoder, MaskedAutoencoder } from 'selfsup';
import { expectClose } from '../helpers/numerics.js';
import { convTrainingBackend, structuredImages, trainFor } from './pretext-helpers.js';

describe('MaskedAutoencoder on a conv encoder', () => {
  beforeAll(async () => {
    await convTrainingBackend();
  });

  it('patches are the map cells; the loss is maeLoss on the removed ones; it learns, leaks nothing, reproduces', () => {
    const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], strides: [2, 2], batchNorm: true, seed: 0 });
    const task = new MaskedAutoencoder(encoder, { maskRatio: 0.75, normPixLoss: false, learningRate: 0.01, seed: 3 });
    expect(task.encoderKind).toBe('conv');
    expect(task.vit).toBeNull();
    expect([task.patchSize, task.numPatches]).toEqual([4, 16]);
    expect(task.fill!.shape).toEqual([1]);
    const { keepIds, mask } = task.sampleMask(2);
    expect(keepIds.shape).toEqual([2, 4]);
    expect(Array.from(tf.sum(mask, 1).dataSync())).toEqual([12, 12]);
    const images = structuredImages(6, 16);
    const { prediction, mask: pixels, pasted } = task.reconstruct(images);
    expect(prediction.shape).toEqual([6, 16, 16, 1]);
    // Pasted = the image outside the removed patches.
    expectClose(tf.mul(pasted, tf.sub(1, pixels)), tf.mul(images, tf.sub(1, pixels)), { atol: 1e-6 });
    tf.dispose([keepIds, mask, prediction, pixels, pasted]);
    const fill = task.fill!.dataSync()[0];
    const { first, last } = trainFor(() => task.step(images), 40);
    expect(last).toBeLessThan(0.8 * first);
    expect(task.fill!.dataSync()[0]).not.toBe(fill);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) task.step(images);
    expect(tf.memory().numTensors).toBe(before);
    expect(task.embed(images).shape).toEqual([6, 16]);
    task.dispose();
    task.dispose();
    const run = () => {
      const e = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], strides: [2, 2], seed: 5 });
      const t = new MaskedAutoencoder(e, { seed: 6 });
      const losses = [t.step(images), t.step(images)];
      t.dispose();
      e.dispose();
      return losses;
    };
    expect(run()).toEqual(run());
    encoder.dispose();
    images.dispose();
  });

  it('refuses a decoder option and impossible ratios before allocating', () => {
    const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], strides: [2, 2], seed: 0 }); // 2×2 cells
    const before = tf.memory().numTensors;
    expect(() => new MaskedAutoencoder(encoder, { decoder: {} as never })).toThrow('MaskedAutoencoder: options.decoder must be omitted for a conv encoder');
    expect(() => new MaskedAutoencoder(encoder, { maskRatio: 0.9 })).toThrow('MaskedAutoencoder: options.maskRatio must leave at least one of the 4 patches visible');
    expect(tf.memory().numTensors).toBe(before);
    encoder.dispose();
  });
});
