/**
 * End to end: a tfjs-layers model with Conv2D, DepthwiseConv2D and dilated
 * SeparableConv2D / Conv2D layers (with and without activation) trains with `fit` on the wasm backend (it
 * cannot without selfsup: tfjs-backend-wasm has no Conv2DBackpropFilter and
 * tfjs-core refuses dilated gradients), its loss falls, it matches the cpu
 * backend's first step, and repeated fits leak no tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { expectClose } from '../helpers/numerics.js';
import { values } from './conv-reference.js';

function buildModel(optimizer: tf.Optimizer): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same', activation: 'relu', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.separableConv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 3 }), pointwiseInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
      // No activation: tfjs-layers runs tf.fused.conv2d, whose own gradient refuses dilation.
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: [2, 1], padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 7 }) }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return model;
}

/** 48 images whose class is the colour channel that is brightest. */
function data(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = 48;
  const noise = values(n * 12 * 12 * 3, 7);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    labels.push(cls);
    for (let p = 0; p < 144; p++) noise[(i * 144 + p) * 3 + cls]! += 1.5;
  }
  return { x: tf.tensor4d(noise, [n, 12, 12, 3]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3) as tf.Tensor2D };
}

describe('tfjs-layers training through selfsup kernels', () => {
  it('fits a Conv2D + DepthwiseConv2D + dilated model on wasm, loss falls, no leaks', async () => {
    await useBackend('wasm');
    const model = buildModel(tf.train.adam(0.01));
    const { x, y } = data();
    const first = await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    const tensorsAfterFirst = tf.memory().numTensors;
    const rest = await model.fit(x, y, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = [...(first.history['loss'] as number[]), ...(rest.history['loss'] as number[])];
    expect(losses.every(Number.isFinite), JSON.stringify(losses)).toBe(true);
    expect(losses.at(-1)!, JSON.stringify(losses)).toBeLessThan(losses[0]! * 0.5);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('takes the same first step on wasm and cpu', async () => {
    const weightsAfterStep: Float32Array[][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await useBackend(backend);
      // Plain SGD so the weights after one step are a direct image of the gradients.
      const model = buildModel(tf.train.sgd(1));
      const { x, y } = data();
      await model.trainOnBatch(x, y);
      weightsAfterStep.push(model.getWeights().map((w) => w.dataSync() as Float32Array));
      model.dispose();
      tf.dispose([x, y]);
    }
    weightsAfterStep[0]!.forEach((w, i) => expectClose(weightsAfterStep[1]![i]!, w, { rtol: 1e-3, atol: 1e-4, label: `weight ${i}` }));
  });
});
