/**
 * The DINOv2 row's evaluation features (DINOv2's linear evaluation: the class
 * token ⊕ the mean patch token) and their use by the row and its
 * random-init-vit baseline alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedImages, tinyVit, useBackend } from 'selfsup';
import { classTokenAndMeanPatch, JOINT_EMBEDDING_ENTRIES } from '../../bench/learn/joint-embedding.js';

describe('bench:learn ViT features', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('class token ⊕ mean of the patch tokens, batched like any encoder, without leaks', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 3 });
    const images = tf.randomUniform([5, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const features = embedImages(classTokenAndMeanPatch(vit), images, { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(features.shape).toEqual([5, 16]);
    const tokens = vit.encode(images).arraySync();
    const got = features.arraySync();
    for (let b = 0; b < 5; b++) {
      const cls = tokens[b]![0]!;
      const mean = cls.map((_, d) => tokens[b]!.slice(1).reduce((s, t) => s + t[d]!, 0) / 4);
      [...cls, ...mean].forEach((v, i) => expect(got[b]![i]).toBeCloseTo(v, 5));
    }
    tf.dispose([features, images]);
    vit.dispose();
  });

  it('the dinov2 row and its random-init-vit baseline are read through the same features', () => {
    const dinov2 = JOINT_EMBEDDING_ENTRIES.find((e) => e.name === 'dinov2')!;
    expect(dinov2.baseline?.name).toBe('random-init-vit');
    expect(dinov2.baseline?.features).toBe(classTokenAndMeanPatch);
  });
});
