import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  annealedMean,
  colorizationBins,
  Colorization,
  ContextEncoder,
  DenoisingAutoencoder,
  MaskedAutoencoder,
  maeDecoder,
  maeLoss,
  mlpEncoder,
  reconstructionLoss,
  sparsityPenalty,
  SparseAutoencoder,
  SplitBrainAutoencoder,
  tinyVit,
  useBackend,
} from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { convTrainingBackend, structuredImages, tinyConv, trainFor } from './pretext-helpers.js';

describe('generative tasks learn (conv training backend)', () => {
  beforeAll(async () => {
    await convTrainingBackend();
  });

  it('SparseAutoencoder: the loss is MSE + β·penalty of the code, and it falls', () => {
    const images = structuredImages(8, 8);
    for (const sparsity of ['l1', 'kl'] as const) {
      const encoder = tinyConv(8);
      const task = new SparseAutoencoder(encoder, { sparsity, sparsityWeight: 0.5, learningRate: 0.01, seed: 1 });
      const loss = task.loss(images);
      const expected = tf.tidy(() => {
        const code = encoder.apply(images) as tf.Tensor2D;
        const recon = task.decoder.apply(code) as tf.Tensor4D;
        const units = sparsity === 'kl' ? tf.tanh(code) : code;
        return tf.add(reconstructionLoss(recon, images), tf.mul(0.5, sparsityPenalty(units, { kind: sparsity })));
      });
      expectClose(loss, expected, { rtol: 1e-5, atol: 1e-6, label: sparsity });
      const { first, last } = trainFor(() => task.step(images), 25);
      expect(last, sparsity).toBeLessThan(first * 0.8);
      expect(task.steps).toBe(25);
      expect(task.reconstruct(images).shape).toEqual([8, 8, 8, 1]);
      tf.dispose([loss, expected]);
      task.dispose();
      expect(task.decoder.weights.length === 0 || encoder.weights.length > 0).toBe(true);
      encoder.dispose();
    }
    images.dispose();
  });

  it('DenoisingAutoencoder: drops the asked fraction of pixels (all channels together) and learns to restore them', () => {
    const encoder = tinyConv(8, 3);
    const task = new DenoisingAutoencoder(encoder, { dropProbability: 0.3, learningRate: 0.01, seed: 4 });
    const big = tf.ones([40, 8, 8, 3]) as tf.Tensor4D;
    const noisy = task.corrupt(big);
    const v = noisy.dataSync();
    let zeros = 0;
    let partial = 0;
    for (let p = 0; p < v.length; p += 3) {
      const z = [v[p], v[p + 1], v[p + 2]].filter((x) => x === 0).length;
      if (z === 3) zeros++;
      else if (z > 0) partial++;
    }
    expect(partial).toBe(0);
    expect(zeros / (v.length / 3)).toBeGreaterThan(0.25);
    expect(zeros / (v.length / 3)).toBeLessThan(0.35);
    const images = structuredImages(8, 8, 3);
    const { first, last } = trainFor(() => task.step(images), 25);
    expect(last).toBeLessThan(first * 0.8);
    tf.dispose([big, noisy, images]);
    task.dispose();
    encoder.dispose();
  });

  it('ContextEncoder: holes of each kind, mean fill, generator and discriminator both step', () => {
    const encoder = tinyConv(16);
    for (const mask of ['center', 'random-rectangle', 'irregular'] as const) {
      const task = new ContextEncoder(encoder, { mask, seed: 2, learningRate: 0.005 });
      expect(task.maskKind).toBe(mask);
      const m = task.sampleMask(6);
      const values = m.dataSync() as Float32Array;
      for (let b = 0; b < 6; b++) {
        const c = values.subarray(b * 256, (b + 1) * 256).reduce((s, x) => s + x, 0) / 256;
        if (mask === 'center') expect(c).toBe(0.25);
        else {
          expect(c, mask).toBeGreaterThan(0);
          expect(c, mask).toBeLessThan(0.75);
        }
      }
      if (mask === 'center') {
        const grid = (m.arraySync() as number[][][][])[0]!.map((row) => row.map((p) => p[0]));
        expect(grid[3]![3]).toBe(0);
        expect(grid[4]![4]).toBe(1);
        expect(grid[11]![11]).toBe(1);
        expect(grid[12]![12]).toBe(0);
      }
      const images = structuredImages(6, 16);
      const holed = task.maskImages(images, m);
      const mean = tf.mean(images).dataSync()[0]!;
      const outside = tf.sum(tf.abs(tf.mul(tf.sub(holed, images), tf.sub(1, m)))).dataSync()[0]!;
      const inside = tf.sum(tf.abs(tf.mul(tf.sub(holed, mean), m))).dataSync()[0]!;
      expect(outside).toBe(0);
      expect(inside).toBeLessThan(1e-3);
      const { first, last } = trainFor(() => task.step(images), mask === 'center' ? 20 : 3);
      expect(Number.isFinite(task.lastDiscriminatorLoss)).toBe(true);
      if (mask === 'center') expect(last).toBeLessThan(first);
      expect(task.inpaint(images, m).shape).toEqual([6, 16, 16, 1]);
      tf.dispose([m, images, holed]);
      task.dispose();
    }
    // A custom hole sampler is used as given, and checked.
    const custom = new ContextEncoder(encoder, { mask: (b, [h, w]) => tf.ones([b, h, w, 1]) as tf.Tensor4D, seed: 0 });
    expect(custom.maskKind).toBe('custom');
    expect(tf.mean(custom.sampleMask(2)).dataSync()[0]).toBe(1);
    custom.dispose();
    const broken = new ContextEncoder(encoder, { mask: () => tf.ones([1, 2, 2, 1]) as tf.Tensor4D, seed: 0 });
    expect(() => broken.sampleMask(2)).toThrow('ContextEncoder.sampleMask: options.mask must return [2, 16, 16, 1] holes, got 1,2,2,1');
    broken.dispose();
    encoder.dispose();
  });

  it('MaskedAutoencoder: MAE masks, loss on the removed patches, learns', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 16, depth: 1, heads: 2, seed: 0 });
    const decoder = maeDecoder(vit, { dim: 16, depth: 1, heads: 2, seed: 1 });
    const task = new MaskedAutoencoder(vit, { decoder, maskRatio: 0.75, normPixLoss: false, learningRate: 0.01, seed: 3 });
    const { keepIds, mask } = task.sampleMask(3);
    expect(keepIds.shape).toEqual([3, 4]); // ⌊16 · 0.25⌋ visible patches
    const ids = keepIds.arraySync() as number[][];
    const m = mask.arraySync() as number[][];
    ids.forEach((row, b) => {
      expect(new Set(row).size).toBe(4);
      row.forEach((id) => expect(m[b]![id]).toBe(0));
      expect(m[b]!.reduce((s, x) => s + x, 0)).toBe(12);
    });
    // The loss is maeLoss of the decoder's prediction from the visible patches.
    const images = structuredImages(4, 8);
    const twin = new MaskedAutoencoder(vit, { maskRatio: 0.75, normPixLoss: false, seed: 3, decoder });
    twin.sampleMask(3); // the same draws as above, so the next mask matches task.loss's
    const loss = task.loss(images);
    const again = tf.tidy(() => {
      const { keepIds: k, mask: mk } = twin.sampleMask(4);
      return maeLoss(task.decoder.decode(vit.encode(images, { keepIds: k }), k), images, mk, { patchSize: 2 });
    });
    expectClose(loss, again, { rtol: 1e-5 });
    const { first, last } = trainFor(() => task.step(images), 30);
    expect(last).toBeLessThan(first * 0.7);
    const rec = task.reconstruct(images);
    expect(rec.pasted.shape).toEqual([4, 8, 8, 1]);
    expect(() => new MaskedAutoencoder(mlpEncoder({ inputShape: [8, 8, 1], units: [4], seed: 0 }))).toThrow(
      'MaskedAutoencoder: encoder must be a tinyVit or a conv encoder whose feature map can be read before its pooling head',
    );
    const other = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 16, depth: 1, heads: 2, seed: 0 });
    const wrong = maeDecoder(other, { dim: 8, depth: 1, heads: 2 });
    expect(() => new MaskedAutoencoder(vit, { decoder: wrong })).toThrow('MaskedAutoencoder: options.decoder must be a MaeDecoder made by maeDecoder(encoder)');
    tf.dispose([keepIds, mask, images, loss, again, rec.prediction, rec.mask, rec.pasted]);
    task.dispose();
    twin.dispose();
    decoder.dispose();
    wrong.dispose();
    other.dispose();
    vit.dispose();
  });

  it('Colorization: rebalanced 313-bin loss on L, prior estimated then frozen, colorize and embed', () => {
    const encoder = tinyConv(16, 1, 0, [4, 8, 8]);
    const task = new Colorization(encoder, { priorSteps: 2, learningRate: 0.01, seed: 5 });
    expect(task.outputSize).toEqual([8, 8]); // 16 → 8 → 4 map, ×2 up-sampling
    const photos = structuredImages(4, 16, 3);
    expect(task.prior).toBeNull();
    const { first, last } = trainFor(() => task.step(photos), 25);
    expect(last).toBeLessThan(first);
    const prior = task.prior!;
    expect(prior.shape).toEqual([313]);
    expectClose(tf.sum(prior), 1, { atol: 1e-5 });
    const rgb = task.colorize(photos);
    expect(rgb.shape).toEqual([4, 16, 16, 3]);
    expect(task.predict(photos).shape).toEqual([4, 8, 8, 313]);
    const gray = tf.mean(photos, 3, true) as tf.Tensor4D;
    expect(task.embed(gray).shape).toEqual([4, 8]);
    task.estimatePrior(photos);
    expect(() => task.step(gray)).toThrow('Colorization.step: images must have 3 channels');
    expect(() => new Colorization(tinyConv(16, 3))).toThrow('Colorization: encoder must take 1-channel input (the L channel), got [16, 16, 3]');
    expect(() => new Colorization(mlpEncoder({ inputShape: [16, 16, 1], units: [4] }))).toThrow(
      'featureMapModel: encoder must end in pooling / flatten layers after a 4-D feature map',
    );
    tf.dispose([photos, prior, rgb, gray]);
    task.dispose();
    encoder.dispose();
  });

  it('SplitBrainAutoencoder: L → ab over 313 bins, ab → L over 100 bins, features concatenated', () => {
    const lNet = tinyConv(16, 1, 0, [4, 8, 8]);
    const abNet = tinyConv(16, 2, 1, [4, 8, 6]);
    const task = new SplitBrainAutoencoder(lNet, abNet, { learningRate: 0.01, seed: 6 });
    const photos = structuredImages(4, 16, 3);
    const { lToAb, abToL } = task.losses(photos);
    // At initialisation both classifiers are near uniform: about ln 313 and ln 100.
    expect(lToAb.dataSync()[0]).toBeGreaterThan(Math.log(313) - 0.5);
    expect(abToL.dataSync()[0]).toBeGreaterThan(Math.log(100) - 0.5);
    const { first, last } = trainFor(() => task.step(photos), 20);
    expect(last).toBeLessThan(first);
    expect(task.embed(photos).shape).toEqual([4, 14]);
    expect(task.embed(tf.ones([2, 16, 16, 1]) as tf.Tensor4D).shape).toEqual([2, 14]);
    expect(() => new SplitBrainAutoencoder(lNet, tinyConv(16, 1))).toThrow(
      "SplitBrainAutoencoder: abNetwork must take 2-channel input (ab) of lNetwork's size, [16, 16, 2], got [16, 16, 1]",
    );
    tf.dispose([photos, lToAb, abToL]);
    task.dispose();
    lNet.dispose();
    abNet.dispose();
  });
});

describe('annealedMean', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('is the mean at T = 1 and tends to the mode as T → 0', () => {
    const bins = colorizationBins();
    const logits = tf.tidy(() =>
      tf.reshape(tf.add(tf.randomNormal([313], 0, 1, 'float32', 7), tf.mul(tf.oneHot(tf.tensor1d([200], 'int32'), 313), 6)), [1, 1, 1, 313]),
    ) as tf.Tensor4D;
    const mean = tf.tidy(() => tf.matMul(tf.softmax(tf.reshape(logits, [1, 313])), bins));
    expectClose(annealedMean(logits, bins, { temperature: 1 }), mean, { rtol: 1e-4, atol: 1e-3 });
    const mode = tf.tidy(() => tf.gather(bins, tf.argMax(tf.reshape(logits, [313]))));
    expectClose(annealedMean(logits, bins, { temperature: 0.01 }), mode, { atol: 1e-2 });
    expect(() => annealedMean(logits, bins, { temperature: 0 })).toThrow('annealedMean: options.temperature must be a finite number > 0, got 0');
    expect(() => annealedMean(logits, tf.zeros([312, 2]) as tf.Tensor2D)).toThrow('annealedMean: bins must have shape');
    tf.dispose([bins, logits, mean, mode]);
  });
});

describeBackends('generative tasks: options and inputs are checked', () => {
  it('names the function, the argument, what was expected and what was given', () => {
    const encoder = tinyConv(8);
    expect(() => new SparseAutoencoder(encoder, { sparsity: 'l2' as never })).toThrow("SparseAutoencoder: options.sparsity must be one of 'l1', 'kl'");
    expect(() => new SparseAutoencoder(encoder, { sparsityWieght: 1 } as never)).toThrow(
      'SparseAutoencoder: options.sparsityWieght must be one of the known options',
    );
    expect(() => new SparseAutoencoder({} as never)).toThrow('SparseAutoencoder: encoder must be an image encoder');
    expect(() => new DenoisingAutoencoder(encoder, { dropProbability: 1 })).toThrow('DenoisingAutoencoder: options.dropProbability must be');
    expect(() => new ContextEncoder(encoder, { mask: 'square' as never })).toThrow("ContextEncoder: options.mask must be one of 'center', 'random-rectangle', 'irregular'");
    expect(() => new ContextEncoder(encoder, { learningRate: -1 })).toThrow('ContextEncoder: options.learningRate must be a finite number > 0, got -1');
    const odd = tinyConv(7);
    expect(() => new DenoisingAutoencoder(odd)).toThrow('DenoisingAutoencoder: options.decoder must be given for images whose height and width are odd');
    const task = new SparseAutoencoder(encoder, { seed: 0 });
    expect(() => task.step(tf.zeros([2, 9, 9, 1]) as tf.Tensor4D)).toThrow("SparseAutoencoder.step: images must have shape [B, 8, 8, 1] (the encoder's input), got [2, 9, 9, 1]");
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const loss = expectNoLeak(() => task.loss(x));
    tf.dispose([loss, x]);
    task.dispose();
    odd.dispose();
    encoder.dispose();
  });
});
