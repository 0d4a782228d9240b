/** VisionTransformer.encode's `mask` / `maskToken` (SimMIM's and BEiT's token masking) and tinyVit's `outputGrid` pooling. */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { tinyVit } from '../../src/index.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

describeBackends('VisionTransformer token masking', () => {
  it('an empty mask changes nothing; a token equal to a patch embedding is that patch', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const token = tf.randomNormal([8], 0, 1, 'float32', 2) as tf.Tensor1D;
    const none = tf.zeros([2, 4]) as tf.Tensor2D;
    expectClose(expectNoLeak(() => vit.encode(images, { mask: none, maskToken: token })), vit.encode(images), { atol: 1e-6 });
    // A constant 0.3 patch embeds to 0.3·Σ_rows(W) + b: masking patch 1 of image 0 with that token
    // must equal encoding the image whose patch 1 is 0.3 everywhere.
    const [kernel, bias] = vit.getWeights() as tf.Tensor[];
    const constantToken = tf.add(tf.mul(0.3, tf.sum(kernel!, 0)), bias!) as tf.Tensor1D;
    const mask = tf.tensor2d([[0, 1, 0, 0], [0, 0, 0, 0]]);
    const patchOne = tf.tensor4d(
      Array.from({ length: 64 }, (_, i) => (Math.floor(i / 8) < 4 && i % 8 >= 4 ? 1 : 0)),
      [1, 8, 8, 1],
    );
    const onlyFirst = tf.concat([patchOne, tf.zeros([1, 8, 8, 1])], 0);
    const edited = tf.add(tf.mul(images, tf.sub(1, onlyFirst)), tf.mul(onlyFirst, 0.3)) as tf.Tensor4D;
    expectClose(vit.encode(images, { mask, maskToken: constantToken }), vit.encode(edited), { atol: 1e-5 });
    tf.dispose([images, token, none, kernel, bias, constantToken, mask, patchOne, onlyFirst, edited]);
    vit.dispose();
  });

  it('the gradient reaches the mask token only through masked positions', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const token = tf.zeros([8]) as tf.Tensor1D;
    const f = (mask: tf.Tensor2D) => tf.grad((t: tf.Tensor) => tf.sum(tf.square(vit.encode(images, { mask, maskToken: t as tf.Tensor1D }))))(token);
    const none = f(tf.zeros([2, 4]) as tf.Tensor2D);
    expectClose(none, tf.zeros([8]), { atol: 0 });
    const some = f(tf.tensor2d([[1, 0, 0, 1], [0, 0, 1, 0]]));
    expect(tf.max(tf.abs(some)).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([images, token, none, some]);
    vit.dispose();
  });

  it('rejects a bad mask or token, and masking together with keepIds', () => {
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const token = tf.zeros([8]) as tf.Tensor1D;
    expect(() => vit.encode(images, { mask: tf.zeros([2, 3]) as tf.Tensor2D, maskToken: token })).toThrow(
      'VisionTransformer.encode: options.mask must have shape [B, L] = [2, 4], got [2, 3]',
    );
    expect(() => vit.encode(images, { mask: tf.zeros([2, 4]) as tf.Tensor2D })).toThrow('VisionTransformer.encode: options.maskToken must be given together with the other');
    const keepIds = tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32');
    expect(() => vit.encode(images, { mask: tf.zeros([2, 4]) as tf.Tensor2D, maskToken: token, keepIds })).toThrow(
      'VisionTransformer.encode: options.mask must not be combined with options.keepIds',
    );
    tf.dispose([images, token, keepIds]);
    vit.dispose();
  });

  it('outputGrid: the mean of each g×g cell of patch tokens, cells concatenated; 1 is the global mean', () => {
    const grid = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 4, depth: 1, heads: 2, pool: 'mean', outputGrid: 2, seed: 0 });
    const flat = tinyVit({ imageSize: 8, channels: 1, patchSize: 2, dim: 4, depth: 1, heads: 2, pool: 'mean', seed: 0 });
    expect(grid.outputGrid).toBe(2);
    const images = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const features = expectNoLeak(() => grid.apply(images));
    expect(features.shape).toEqual([3, 16]);
    // Same weights (same seed): the tokens agree; cell (0, 1) is patches (0..1) × (2..3) of the 4×4 grid.
    const tokens = tf.slice(flat.encode(images), [0, 1, 0], [-1, -1, -1]);
    const byCell = tf.reshape(tokens, [3, 4, 4, 4]); // [B, row, col, D]
    const cell01 = tf.mean(tf.slice(byCell, [0, 0, 2, 0], [-1, 2, 2, -1]), [1, 2]);
    expectClose(tf.slice(features, [0, 4], [-1, 4]), cell01, { atol: 1e-6 });
    // The mean of the four cells is the global mean.
    expectClose(tf.mean(tf.reshape(features, [3, 4, 4]), 1), flat.apply(images), { atol: 1e-6 });
    expect(() => tinyVit({ imageSize: 8, channels: 1, patchSize: 2, outputGrid: 3, pool: 'mean', dim: 4, heads: 2 })).toThrow(
      'tinyVit: options.outputGrid must divide the 4×4 patch grid, got 3',
    );
    expect(() => tinyVit({ imageSize: 8, channels: 1, patchSize: 2, outputGrid: 2, dim: 4, heads: 2 })).toThrow("tinyVit: options.outputGrid must be 1 unless pool is 'mean', got 2");
    const copy = grid.clone();
    expect(copy.outputGrid).toBe(2);
    tf.dispose([images, features, tokens, byCell, cell01]);
    copy.dispose();
    grid.dispose();
    flat.dispose();
  });
});
