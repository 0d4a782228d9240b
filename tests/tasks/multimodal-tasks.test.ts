import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Clip, CrossModalCorrespondence, mlpEncoder, tokenEncoder, zeroShotClassifier } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { structuredImages, trainFor } from './pretext-helpers.js';

/** Captions that name each image's class (its index mod 4) with two tokens. */
const captionsFor = (n: number) =>
  tf.tensor2d(
    Array.from({ length: n }, (_, i) => [1 + (i % 4), 5 + (i % 4)]),
    [n, 2],
    'int32',
  );

describeBackends('Clip', () => {
  it('dual encoders, symmetric loss, learnable logit scale clamped at log 100, learns the pairing', () => {
    const images = mlpEncoder({ inputShape: [6, 6, 1], units: [16], seed: 0 });
    const texts = tokenEncoder({ vocabSize: 9, sequenceLength: 2, embeddingDim: 8, hiddenDims: [], outputDim: 16, seed: 1 });
    const clip = new Clip(images, texts, { embedDim: 8, logScale: 10, learningRate: 0.02, seed: 2 });
    expect(clip.logitScale).toBeCloseTo(100, 3); // initialised above the bound: clamped
    expect(clip.trainableVariables).toContain(clip.logScale);
    const x = structuredImages(8, 6);
    const captions = captionsFor(8);
    const { first, last } = trainFor(() => clip.step(x, captions), 40);
    expect(last).toBeLessThan(first * 0.5);
    expect(clip.logitScale).toBeLessThanOrEqual(100 + 1e-3);
    const e = clip.encodeImage(x);
    expectClose(tf.norm(e, 2, 1), tf.ones([8]), { atol: 1e-5 });
    expect(clip.encodeText(captions).shape).toEqual([8, 8]);
    expect(clip.embed(x).shape).toEqual([8, 16]);
    expect(() => clip.step(x)).toThrow('Clip.step: texts must be the paired texts (e.g. [B, T] token ids, row i describing image i), got undefined');
    expect(() => clip.step(x, captionsFor(3))).toThrow('Clip.step: texts must have 8 rows, one per image');
    expect(() => new Clip(images, {} as never)).toThrow('Clip: textEncoder must be a single-output tfjs-layers model');
    const loss = expectNoLeak(() => clip.loss(x, captions));
    tf.dispose([x, captions, e, loss]);
    clip.dispose();
    images.dispose();
    texts.dispose();
  });

  it('with a fixed temperature the scale is not trained', () => {
    const images = mlpEncoder({ inputShape: [6, 6, 1], units: [8], seed: 0 });
    const texts = tokenEncoder({ vocabSize: 9, sequenceLength: 2, outputDim: 8, seed: 1 });
    const clip = new Clip(images, texts, { embedDim: 4, learnLogScale: false, seed: 2 });
    const x = structuredImages(4, 6);
    const captions = captionsFor(4);
    clip.step(x, captions);
    expect(clip.logitScale).toBeCloseTo(1 / 0.07, 3);
    expect(clip.trainableVariables).not.toContain(clip.logScale);
    tf.dispose([x, captions]);
    clip.dispose();
    images.dispose();
    texts.dispose();
  });
});

describeBackends('zeroShotClassifier', () => {
  it('averages normalised prompt embeddings (ensembling) and picks the most similar class', () => {
    const prompts = tf.tensor3d([[[2, 0], [0, 1]], [[0, 3], [-1, 1]]]); // 2 classes × 2 prompts
    const ensembled = zeroShotClassifier(prompts);
    const s = Math.SQRT1_2;
    expectClose(ensembled.classEmbeddings, [[s, s], [-0.3826834, 0.9238795]], { atol: 1e-5 });
    const firstOnly = zeroShotClassifier(prompts, { promptEnsembling: false, logitScale: 1 });
    expectClose(firstOnly.classEmbeddings, [[1, 0], [0, 1]], { atol: 1e-6 });
    const images = tf.tensor2d([[1, 0.1], [0, 5], [-2, 1]]);
    expect(Array.from(ensembled.predict(images).dataSync())).toEqual([0, 1, 1]);
    expectClose(firstOnly.logits(images), [[0.995037, 0.0995037], [0, 1], [-0.894427, 0.447214]], { atol: 1e-5 });
    const single = zeroShotClassifier(tf.tensor2d([[0, 1], [1, 0]]), { logitScale: 10 });
    expectClose(single.logits(tf.tensor2d([[3, 0]])), [[0, 10]], { atol: 1e-5 });
    expect(() => zeroShotClassifier(tf.zeros([3]) as never)).toThrow('zeroShotClassifier: classEmbeddings must be a [C, D] or [C, P, D] tensor');
    expect(() => ensembled.predict(tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(
      "ZeroShotClassifier.predict: imageEmbeddings must have D = 2 (the class embeddings' width) on axis 1, got [2, 3]",
    );
    ensembled.dispose();
    expect(() => ensembled.logits(images)).toThrow('ZeroShotClassifier.logits: this must not be disposed');
    firstOnly.dispose();
    single.dispose();
    tf.dispose([prompts, images]);
  });
});

describe('CrossModalCorrespondence', () => {
  describeBackends('pairs and training', () => {
    it('half positives, negatives never the own pair; learns which pairs correspond', () => {
      const vision = mlpEncoder({ inputShape: [6, 6, 1], units: [16], seed: 0 });
      const other = mlpEncoder({ inputShape: [12], units: [16], seed: 1 });
      const task = new CrossModalCorrespondence(vision, other, { hiddenDim: 16, learningRate: 0.01, seed: 3 });
      const { otherIndex, labels } = task.samplePairs(2000);
      const positives = labels.reduce((a, b) => a + b, 0);
      expect(positives / 2000).toBeGreaterThan(0.45);
      expect(positives / 2000).toBeLessThan(0.55);
      otherIndex.forEach((j, i) => expect(j === i).toBe(labels[i] === 1));
      // The second modality: row and column profiles of the same image.
      const x = structuredImages(16, 6);
      const profiles = tf.tidy(() => tf.concat([tf.reshape(tf.mean(x, 1), [16, 6]), tf.reshape(tf.mean(x, 2), [16, 6])], 1));
      const { first, last } = trainFor(() => task.step(x, profiles), 60);
      expect(first).toBeCloseTo(Math.log(2), 1);
      expect(last).toBeLessThan(first);
      const p = task.predict(x, profiles);
      expect(p.shape).toEqual([16]);
      expect(Math.min(...p.dataSync())).toBeGreaterThanOrEqual(0);
      expect(task.embedOther(profiles).shape).toEqual([16, 16]);
      expect(() => task.step(x)).toThrow('CrossModalCorrespondence.step: other must be the paired second-modality batch');
      expect(() => task.step(tf.slice(x, 0, 1) as tf.Tensor4D, tf.slice(profiles, 0, 1))).toThrow(
        'CrossModalCorrespondence.step: images must have shape [B, 6, 6, 1] with B ≥ 2, got [1, 6, 6, 1]',
      );
      expect(() => new CrossModalCorrespondence(vision, {} as never)).toThrow('CrossModalCorrespondence: otherEncoder must be a single-output tfjs-layers model');
      tf.dispose([x, profiles, p]);
      task.dispose();
      vision.dispose();
      other.dispose();
    });
  });
});
