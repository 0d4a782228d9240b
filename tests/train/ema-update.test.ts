import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { convEncoder, emaUpdate, mlpEncoder, projectionMlp, tinyVit, trainableVariables } from 'selfsup';
import { describeBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/numerics.js';

const values = (vars: tf.Tensor[]) => vars.map((v) => Array.from(v.dataSync()));

describeBackends('emaUpdate', (backend) => {
  it('θt ← m·θt + (1 − m)·θo on every parameter, in place, leaving no tensor behind', () => {
    const online = projectionMlp({ inputDim: 3, hiddenDim: 5, outputDim: 2, seed: 1 });
    const target = projectionMlp({ inputDim: 3, hiddenDim: 5, outputDim: 2, seed: 2 });
    const t0 = values(target.getWeights());
    const o0 = values(online.getWeights());
    const liveTarget = target.getWeights();
    const before = tf.memory().numTensors;
    emaUpdate(target, online, 0.9);
    expect(tf.memory().numTensors, backend).toBe(before);
    target.getWeights().forEach((w, i) => {
      expect(w, 'updated in place (same variables)').toBe(liveTarget[i]);
      expectClose(w, t0[i]!.map((t, j) => 0.9 * t + 0.1 * o0[i]![j]!), { atol: 1e-6 });
    });
    expect(values(online.getWeights())).toEqual(o0); // the online network is untouched
  });

  it('m = 0 copies, m = 1 keeps; repeated updates converge geometrically', () => {
    const online = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.scalar(-1))];
    const target = [tf.variable(tf.zeros([3])), tf.variable(tf.scalar(5))];
    emaUpdate(target, online, 1);
    expectClose(target[1]!, 5);
    for (let k = 0; k < 10; k++) emaUpdate(target, online, 0.5);
    expectClose(target[0]!, [1 - 0.5 ** 10, 2 * (1 - 0.5 ** 10), 3 * (1 - 0.5 ** 10)], { atol: 1e-6 });
    expectClose(target[1]!, -1 + 6 * 0.5 ** 10, { atol: 1e-6 });
    emaUpdate(target, online, 0);
    expectClose(target[0]!, [1, 2, 3]);
    tf.dispose([...online, ...target]);
  });

  it('skips batch-norm statistics unless includeBuffers; keeps the pairing when a layer is frozen', () => {
    const online = projectionMlp({ inputDim: 3, hiddenDim: 4, outputDim: 2, variant: 'byol', seed: 1 });
    const target = projectionMlp({ inputDim: 3, hiddenDim: 4, outputDim: 2, variant: 'byol', seed: 2 });
    const x = tf.randomNormal([6, 3], 0, 1, 'float32', 7);
    online.apply(x, { training: true }); // moves the online moving statistics
    const movingMean = (m: typeof online) => Array.from(m.layers[1]!.getWeights()[2]!.dataSync());
    const targetStats = movingMean(target);
    emaUpdate(target, online, 0);
    expect(movingMean(target)).toEqual(targetStats);
    expect(values(trainableVariables(target))).toEqual(values(trainableVariables(online)));
    emaUpdate(target, online, 0, { includeBuffers: true });
    expect(movingMean(target)).toEqual(movingMean(online));
    // DINO freezes the student's last layer for an epoch; the teacher keeps following it.
    online.layers.at(-1)!.trainable = false;
    const t2 = projectionMlp({ inputDim: 3, hiddenDim: 4, outputDim: 2, variant: 'byol', seed: 3 });
    emaUpdate(t2, online, 0);
    expect(values(t2.layers.at(-1)!.getWeights())).toEqual(values(online.layers.at(-1)!.getWeights()));
    x.dispose();
  });

  it('works for the functional ViT and conv encoders', () => {
    const a = tinyVit({ imageSize: 4, channels: 1, patchSize: 2, dim: 4, depth: 1, heads: 1, seed: 1 });
    const b = tinyVit({ imageSize: 4, channels: 1, patchSize: 2, dim: 4, depth: 1, heads: 1, seed: 2 });
    emaUpdate(b, a, 0);
    expect(values(b.getWeights())).toEqual(values(a.getWeights()));
    const c1 = convEncoder({ inputShape: [8, 8, 1], channels: [2, 2], seed: 1 });
    const c2 = convEncoder({ inputShape: [8, 8, 1], channels: [2, 2], seed: 2 });
    emaUpdate(c2, c1, 0.5);
    a.dispose();
    b.dispose();
  });

  it('explains mismatched models and bad momentum', () => {
    const a = mlpEncoder({ inputShape: [4], units: [3], seed: 0 });
    const b = mlpEncoder({ inputShape: [4], units: [5], seed: 0 });
    const c = mlpEncoder({ inputShape: [4], units: [3, 3], seed: 0 });
    expect(() => emaUpdate(a, b, 0.9)).toThrow(
      /emaUpdate: online must have the same architecture as target: weight 0 \(.*kernel\) has shape \[4, 3\] in target, got \[4, 5\]/,
    );
    expect(() => emaUpdate(a, c, 0.9)).toThrow('emaUpdate: online must have the same architecture as target (2 weights), got 4 weights');
    expect(() => emaUpdate(a, a, 0.9)).toThrow('emaUpdate: online must be a different model from target, got the same variable at weight 0');
    expect(() => emaUpdate(a, b, 1.5)).toThrow('emaUpdate: momentum must be a number in [0, 1], got 1.5');
    expect(() => emaUpdate({} as never, a, 0.5)).toThrow(/emaUpdate: target must be a tfjs-layers model or layer/);
    expect(() => emaUpdate([tf.scalar(1)] as never, [tf.scalar(1)] as never, 0.5)).toThrow('emaUpdate: target[0] must be a tf.Variable');
  });
});
