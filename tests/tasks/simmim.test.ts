/** SimMIM on a conv encoder (input masking) and on a ViT (token masking). */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { convEncoder, mlpEncoder, SimMIM, simMIMLoss, tinyVit } from 'selfsup';
import { expectClose } from '../helpers/numerics.js';
import { convTrainingBackend, structuredImages, trainFor } from './pretext-helpers.js';

describe('SimMIM', () => {
  beforeAll(async () => {
    await convTrainingBackend();
  });

  it('conv encoder: masks whole patches in the input with the learned value, decodes from the feature map, learns', () => {
    const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], strides: [2, 2], seed: 0 });
    const task = new SimMIM(encoder, { maskRatio: 0.5, learningRate: 0.01, seed: 1 });
    expect(task.encoderKind).toBe('conv');
    expect(task.stride).toBe(4);
    expect(task.maskPatchSize).toBe(4);
    expect(task.maskToken.shape).toEqual([1]);
    // Exactly ceil(ratio·count) of the 16 mask patches per image.
    const mask = task.sampleMask(5);
    expect(Array.from(tf.sum(mask, 1).dataSync())).toEqual([8, 8, 8, 8, 8]);
    mask.dispose();
    const images = structuredImages(8, 16);
    const { masked, prediction, mask: pixels } = task.reconstruct(images);
    expect(prediction.shape).toEqual([8, 16, 16, 1]);
    // Outside the mask the encoder sees the image; inside, the mask value (0.5 at the start).
    expectClose(tf.mul(masked, tf.sub(1, pixels)), tf.mul(images, tf.sub(1, pixels)), { atol: 0 });
    expectClose(tf.mul(masked, pixels), tf.mul(pixels, 0.5), { atol: 1e-7 });
    tf.dispose([masked, prediction, pixels]);
    const token = task.maskToken.dataSync()[0];
    const { first, last } = trainFor(() => task.step(images), 40);
    expect(last).toBeLessThan(0.8 * first);
    expect(task.maskToken.dataSync()[0]).not.toBe(token); // the mask value is learned
    task.dispose();
    task.dispose(); // idempotent
    expect(encoder.getWeights().length).toBeGreaterThan(0); // the encoder is the user's
    const features = new SimMIM(encoder, { seed: 1 });
    expect(features.embed(images).shape).toEqual([8, 16]); // the encoder's own output
    features.dispose();
    encoder.dispose();
    images.dispose();
  });

  it('ViT: masked tokens replaced by the learned token, one linear layer per token to its pixels, learns', () => {
    const vit = tinyVit({ imageSize: 16, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
    const task = new SimMIM(vit, { maskPatchSize: 8, learningRate: 0.01, seed: 2 });
    expect(task.encoderKind).toBe('vit');
    expect(task.maskToken.shape).toEqual([16]);
    const images = structuredImages(6, 16);
    // 8-pixel mask patches over 4-pixel tokens: every masked region is 2×2 tokens.
    const { masked, prediction, mask } = task.reconstruct(images);
    expectClose(masked, images, { atol: 0 }); // a ViT is masked in token space, not in the input
    const perImage = Array.from(tf.sum(mask, [1, 2, 3]).dataSync());
    expect(new Set(perImage)).toEqual(new Set([Math.ceil(4 * 0.6) * 64]));
    // The loss is simMIMLoss of the reconstruction under its own mask.
    expect(prediction.shape).toEqual([6, 16, 16, 1]);
    tf.dispose([masked, prediction, mask]);
    const token = Array.from(task.maskToken.dataSync());
    const { first, last } = trainFor(() => task.step(images), 40);
    expect(last).toBeLessThan(0.8 * first);
    expect(Array.from(task.maskToken.dataSync())).not.toEqual(token);
    task.dispose();
    vit.dispose();
    images.dispose();
  });

  it('the loss is simMIMLoss of the prediction on the masked pixels', () => {
    const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], strides: [2, 2], seed: 0 });
    const images = structuredImages(4, 8);
    const a = new SimMIM(encoder, { seed: 5 });
    const b = new SimMIM(encoder, { seed: 5 });
    const { masked, prediction, mask } = a.reconstruct(images);
    // Same seed, same first mask: b's loss in inference mode equals the L1 of a's reconstruction.
    const loss = tf.tidy(() => simMIMLoss(prediction, images, mask).dataSync()[0]!);
    const viaTask = tf.tidy(() => b.loss(images).dataSync()[0]!);
    // b.loss runs the encoder in training mode (batch statistics, none here: no batch norm), so they agree.
    expectClose(viaTask, loss, { rtol: 1e-5 });
    tf.dispose([masked, prediction, mask]);
    a.dispose();
    b.dispose();
    encoder.dispose();
    images.dispose();
  });

  it('the same seed reproduces a run; leaks nothing across steps', () => {
    const run = () => {
      const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], strides: [2, 2], batchNorm: true, seed: 3 });
      const task = new SimMIM(encoder, { seed: 4 });
      const x = structuredImages(4, 8);
      const losses = [task.step(x), task.step(x), task.step(x)];
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) task.step(x);
      const after = tf.memory().numTensors;
      task.dispose();
      encoder.dispose();
      x.dispose();
      return { losses, leaked: after - before };
    };
    const a = run();
    expect(a.leaked).toBe(0);
    expect(run().losses).toEqual(a.losses);
  });

  it('validates everything before allocating, with messages naming the argument', () => {
    const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [4, 8, 8], strides: [2, 2, 2], outputGrid: 2, seed: 0 });
    const mlp = mlpEncoder({ inputShape: [8, 8, 1], units: [4], seed: 0 });
    const odd = convEncoder({ inputShape: [10, 10, 1], channels: [4, 4], strides: [2, 2], seed: 0 }); // 10 → 5 → 3
    const before = tf.memory().numTensors;
    expect(() => new SimMIM(encoder, { maskRatio: 1 })).toThrow('SimMIM: options.maskRatio must be a number in [0, 1), got 1');
    expect(() => new SimMIM(encoder, { maskPatchSize: 5 })).toThrow("SimMIM: options.maskPatchSize must be a multiple of the encoder's stride 7 that divides the 28×28 image, got 5");
    expect(() => new SimMIM(encoder, { maskRatio: 0.5, maskpatchsize: 7 } as never)).toThrow('SimMIM: options.maskpatchsize must be one of the known options');
    expect(() => new SimMIM({} as never)).toThrow('SimMIM: encoder must be an image encoder');
    expect(() => new SimMIM(mlp)).toThrow('SimMIM: encoder must be a tinyVit or a conv encoder whose feature map can be read before its pooling head');
    expect(() => new SimMIM(odd)).toThrow('SimMIM: encoder must have a feature map whose size divides the 10×10 image with one stride');
    expect(tf.memory().numTensors).toBe(before); // nothing allocated by the refused constructors
    const task = new SimMIM(encoder, { seed: 0 });
    expect(task.stride).toBe(7);
    expect(() => task.step(tf.zeros([2, 14, 14, 1]) as tf.Tensor4D)).toThrow('SimMIM.step: images must have shape [B, 28, 28, 1]');
    task.dispose();
    encoder.dispose();
    mlp.dispose();
    odd.dispose();
  });
});
