import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  discriminatorAdversarialLoss,
  generatorAdversarialLoss,
  inpaintingLoss,
  maeLoss,
  reconstructionLoss,
  rotationLoss,
  sparsityPenalty,
} from '../../src/losses/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randu, valueOf } from './inputs.js';

/** MAE's patchify written out with loops: patches row-major, values (row, col, channel). */
function patchifyByHand(images: number[][][][], p: number): number[][][] {
  return images.map((img) => {
    const out: number[][] = [];
    for (let gy = 0; gy < img.length / p; gy++) {
      for (let gx = 0; gx < img[0]!.length / p; gx++) {
        const patch: number[] = [];
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) patch.push(...img[gy * p + y]![gx * p + x]!);
        out.push(patch);
      }
    }
    return out;
  });
}

describeBackends('pretext-task and pixel losses', () => {
  it('rotationLoss: ln 4 for uniform logits, integer labels equal one-hot labels', () => {
    const uniform = tf.zeros([3, 4]) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 3, 1], 'int32');
    expectClose(valueOf(rotationLoss(uniform, labels)), Math.log(4), { rtol: 1e-6 });
    const logits = randn([3, 4], 1) as tf.Tensor2D;
    const oneHot = tf.cast(tf.oneHot(labels, 4), 'float32') as tf.Tensor2D;
    expectClose(valueOf(rotationLoss(logits, labels)), valueOf(rotationLoss(logits, oneHot)), { rtol: 1e-6 });
    checkGradients((l) => rotationLoss(l as tf.Tensor2D, labels), [logits]);
    const huge = tf.mul(logits, 1e4) as tf.Tensor2D;
    expectFinite(valueOf(rotationLoss(huge, labels)));
    expectFinite(tf.grad((l: tf.Tensor) => rotationLoss(l as tf.Tensor2D, labels))(huge));
    tf.dispose(expectNoLeak(() => tf.grads((l: tf.Tensor) => rotationLoss(l as tf.Tensor2D, oneHot))([logits])));
    tf.dispose([uniform, labels, logits, oneHot, huge]);
  });

  it('maeLoss: 0 for a perfect reconstruction in MAE\'s patch layout, masked mean otherwise', () => {
    const images = randu([2, 4, 6, 3], 2) as tf.Tensor4D;
    const patches = tf.tensor3d(patchifyByHand(images.arraySync(), 2));
    const mask = tf.tensor2d([[1, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 1]]);
    expectClose(valueOf(maeLoss(patches, images, mask, { patchSize: 2 })), 0, { atol: 1e-7 });
    // Only removed patches count: corrupting a visible one changes nothing.
    const visibleOff = tf.add(patches, tf.mul(tf.reshape(tf.sub(1, mask), [2, 6, 1]), 5)) as tf.Tensor3D;
    expectClose(valueOf(maeLoss(visibleOff, images, mask, { patchSize: 2 })), 0, { atol: 1e-7 });
    const shifted = tf.add(patches, 0.5) as tf.Tensor3D;
    expectClose(valueOf(maeLoss(shifted, images, mask, { patchSize: 2 })), 0.25, { rtol: 1e-5 });
    // An empty mask gives 0 and a zero (finite) gradient, not NaN.
    const none = tf.zeros([2, 6]) as tf.Tensor2D;
    expectClose(valueOf(maeLoss(shifted, images, none, { patchSize: 2 })), 0);
    const g = tf.grad((p: tf.Tensor) => maeLoss(p as tf.Tensor3D, images, none, { patchSize: 2 }))(shifted);
    expectClose(g, tf.zerosLike(g));
    const pred = randn([2, 6, 12], 3) as tf.Tensor3D;
    checkGradients((p, x) => maeLoss(p as tf.Tensor3D, x as tf.Tensor4D, mask, { patchSize: 2, normPixLoss: true }), [pred, images]);
    checkGradients((p) => maeLoss(p as tf.Tensor3D, images, mask, { patchSize: 2 }), [pred]);
    tf.dispose(expectNoLeak(() => tf.grads((p: tf.Tensor) => maeLoss(p as tf.Tensor3D, images, mask, { patchSize: 2, normPixLoss: true }))([pred])));
    tf.dispose([images, patches, mask, visibleOff, shifted, none, g, pred]);
  });

  it('reconstruction, adversarial and inpainting losses take their documented values', () => {
    const target = randu([2, 3, 3, 2], 4) as tf.Tensor4D;
    const prediction = tf.add(target, 0.1) as tf.Tensor4D;
    const mask = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [2, 3, 3, 1]);
    expectClose(valueOf(reconstructionLoss(prediction, target)), 0.01, { rtol: 1e-4 });
    expectClose(valueOf(reconstructionLoss(prediction, target, { mask })), 0.01, { rtol: 1e-4 });
    const inMask = tf.add(prediction, tf.mul(tf.sub(1, mask), 3)) as tf.Tensor4D; // errors outside the mask are ignored
    expectClose(valueOf(reconstructionLoss(inMask, target, { mask })), 0.01, { rtol: 1e-4 });
    expectClose(valueOf(reconstructionLoss(prediction, target, { mask: tf.zeros([2, 3, 3, 1]) as tf.Tensor4D })), 0);
    expectClose(valueOf(generatorAdversarialLoss(tf.zeros([5]))), Math.LN2, { rtol: 1e-6 });
    expectClose(valueOf(discriminatorAdversarialLoss(tf.zeros([3, 1]), tf.zeros([5, 1]))), 2 * Math.LN2, { rtol: 1e-6 });
    const fake = tf.tensor1d([0.3, -1.2]);
    const expected = 0.999 * valueOf(reconstructionLoss(inMask, target, { mask })) + 0.001 * valueOf(generatorAdversarialLoss(fake));
    expectClose(valueOf(inpaintingLoss(inMask, target, mask, fake)), expected, { rtol: 1e-6 });
    // Logits of ±1e4: finite values and gradients (softplus never overflows).
    const huge = tf.tensor1d([1e4, -1e4, 0]);
    expectFinite(valueOf(discriminatorAdversarialLoss(huge, huge)));
    const gs = tf.grads((r: tf.Tensor, f: tf.Tensor) => discriminatorAdversarialLoss(r, f))([huge, huge]);
    gs.forEach((g) => expectFinite(g));
    checkGradients((p, t) => reconstructionLoss(p, t, { mask }), [prediction, target]);
    checkGradients((r, f) => discriminatorAdversarialLoss(r, f), [randn([4], 5), randn([3, 1], 6)]);
    checkGradients((f) => generatorAdversarialLoss(f), [randn([2, 3], 7, 2)]);
    checkGradients((p, f) => inpaintingLoss(p as tf.Tensor4D, target, mask, f!, { adversarialWeight: 0.5 }), [prediction, fake]);
    tf.dispose(expectNoLeak(() => tf.grads((p: tf.Tensor, f: tf.Tensor) => inpaintingLoss(p as tf.Tensor4D, target, mask, f))([prediction, fake])));
    tf.dispose([target, prediction, mask, inMask, fake, huge, ...gs]);
  });

  it('sparsityPenalty: 0 at zero activations (with zero gradient) and at the target rate; finite for dead units', () => {
    const zeros = tf.zeros([4, 3]);
    expectClose(valueOf(sparsityPenalty(zeros)), 0);
    expectClose(tf.grad((a: tf.Tensor) => sparsityPenalty(a))(zeros), tf.zeros([4, 3]));
    const atTarget = tf.fill([5, 4], 0.05);
    expectClose(valueOf(sparsityPenalty(atTarget, { kind: 'kl' })), 0, { atol: 1e-6 });
    const dead = tf.concat([tf.zeros([5, 2]), tf.ones([5, 2])], 1);
    expectFinite(valueOf(sparsityPenalty(dead, { kind: 'kl' })));
    const g = tf.grad((a: tf.Tensor) => sparsityPenalty(a, { kind: 'kl' }))(dead);
    expectFinite(g);
    const gd = g.dataSync();
    expect(gd[0]).toBeLessThan(0); // a dead unit is pushed up
    expect(gd[3]).toBeGreaterThan(0); // a saturated one down
    const x = tf.sigmoid(randn([6, 3], 7));
    checkGradients((a) => sparsityPenalty(a, { kind: 'kl', target: 0.3 }), [x], { step: 1e-3 });
    checkGradients((a) => sparsityPenalty(a), [randn([3, 2, 2], 8)]);
    tf.dispose(expectNoLeak(() => tf.grads((a: tf.Tensor) => sparsityPenalty(a, { kind: 'kl' }))([x])));
    tf.dispose([zeros, atTarget, dead, g, x]);
  });

  it('reject bad input with messages naming the function and argument', () => {
    const logits = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => rotationLoss(logits, tf.tensor1d([0, 4], 'int32'))).toThrow(
      'rotationLoss: labels must have class indices in [0, 3], got values in [0, 4]',
    );
    expect(() => rotationLoss(tf.zeros([2, 3]) as tf.Tensor2D, tf.tensor1d([0, 1], 'int32'))).toThrow(
      'rotationLoss: logits must have shape [B, 4] = [?, 4], got [2, 3]',
    );
    expect(() => rotationLoss(logits, tf.tensor1d([0, 1]))).toThrow(
      'rotationLoss: labels must be int32 class indices [B] with B = 2, or float32 one-hot rows [B, C] = [2, 4], got a float32 tensor of shape [2]',
    );
    const images = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const pred = tf.zeros([1, 4, 12]) as tf.Tensor3D;
    const mask = tf.zeros([1, 4]) as tf.Tensor2D;
    expect(() => maeLoss(pred, images, mask, { patchSize: 3 })).toThrow(
      'maeLoss: images must have H and W divisible by options.patchSize = 3, got [1, 4, 4, 3]',
    );
    expect(() => maeLoss(pred, images, mask, {} as never)).toThrow('maeLoss: options.patchSize must be an integer ≥ 1, got undefined');
    expect(() => maeLoss(tf.zeros([1, 4, 11]) as tf.Tensor3D, images, mask, { patchSize: 2 })).toThrow(
      'maeLoss: prediction must have shape [B, L, p·p·C] = [1, 4, 12], got [1, 4, 11]',
    );
    expect(() => maeLoss(pred, images, tf.zeros([1, 5]) as tf.Tensor2D, { patchSize: 2 })).toThrow(
      'maeLoss: mask must have shape [B, L] = [1, 4], got [1, 5]',
    );
    expect(() => maeLoss(pred, images, mask, { patchSize: 2, normPix: true } as never)).toThrow(
      'maeLoss: options.normPix must be one of the known options (patchSize, normPixLoss), got an unknown option',
    );
    expect(() => reconstructionLoss(images, tf.zeros([1, 4, 4, 1]))).toThrow(
      'reconstructionLoss: target must have shape matching prediction [1, 4, 4, 3], got [1, 4, 4, 1]',
    );
    expect(() => reconstructionLoss(images, images, { mask: tf.zeros([1, 4, 4, 3]) as tf.Tensor4D })).toThrow(
      'reconstructionLoss: options.mask must have shape [B, H, W, 1] = [1, 4, 4, 1], got [1, 4, 4, 3]',
    );
    expect(() => reconstructionLoss(tf.zeros([3]), tf.zeros([3]), { mask: tf.zeros([1, 1, 1, 1]) as tf.Tensor4D })).toThrow(
      'reconstructionLoss: prediction must be a rank-4 tensor [B, H, W, C] (NHWC), got rank 1 with shape [3]',
    );
    expect(() => generatorAdversarialLoss(tf.zeros([0]))).toThrow('generatorAdversarialLoss: fakeLogits must have at least one element, got [0]');
    expect(() => discriminatorAdversarialLoss(tf.zeros([2], 'int32'), tf.zeros([2]))).toThrow(
      'discriminatorAdversarialLoss: realLogits must have dtype float32, got int32',
    );
    expect(() => inpaintingLoss(images, images, tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, tf.zeros([1]), { adversarialWeight: -1 })).toThrow(
      'inpaintingLoss: options.adversarialWeight must be a finite number ≥ 0, got -1',
    );
    expect(() => sparsityPenalty(tf.zeros([3]))).toThrow('sparsityPenalty: activations must be a tensor of rank ≥ 2 [B, ...units], got rank 1');
    expect(() => sparsityPenalty(logits, { kind: 'kl', target: 1 })).toThrow(
      'sparsityPenalty: options.target must be a number in (0, 1), got 1',
    );
    expect(() => sparsityPenalty(logits, { kind: 'l2' as never })).toThrow("sparsityPenalty: options.kind must be one of 'l1', 'kl', got \"l2\"");
    tf.dispose([logits, images, pred, mask]);
  });
});

it('pixel losses agree on cpu and wasm', async () => {
  const results = await onEachBackend(() =>
    tf.tidy(() => {
      const images = randu([2, 4, 4, 3], 9) as tf.Tensor4D;
      const pred = randn([2, 4, 12], 10) as tf.Tensor3D;
      const mask = tf.tensor2d([[1, 0, 1, 1], [0, 1, 0, 1]]);
      const f = (p: tf.Tensor) =>
        tf.addN([
          maeLoss(p as tf.Tensor3D, images, mask, { patchSize: 2, normPixLoss: true }),
          sparsityPenalty(tf.sigmoid(p), { kind: 'kl' }),
          generatorAdversarialLoss(p),
        ]) as tf.Scalar;
      return [f(pred).dataSync()[0]!, ...tf.grad(f)(pred).dataSync()];
    }),
  );
  expectClose(results.wasm, results.cpu, { rtol: 1e-4, atol: 1e-6 });
});
