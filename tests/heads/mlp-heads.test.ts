import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationHead, predictionMlp, projectionMlp, useBackend } from 'selfsup';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

/** `Dense(8)`, `BatchNormalization`, … with `useBias` / trainable marks, for architecture assertions. */
function describeLayers(model: tfl.LayersModel): string[] {
  return model.layers.map((l) => {
    const cfg = l.getConfig();
    switch (l.getClassName()) {
      case 'Dense':
        return `Dense(${cfg.units}${cfg.useBias ? '' : ', no bias'})`;
      case 'Activation':
        return String(cfg.activation);
      case 'BatchNormalization':
        return l.trainable ? 'BN' : 'BN(affine=False)';
      default:
        return l.getClassName();
    }
  });
}

function weightsOf(model: tfl.LayersModel): number[] {
  return model.getWeights().flatMap((w) => Array.from(w.dataSync()));
}

describe('projectionMlp architectures', () => {
  beforeAll(() => useBackend('cpu'));
  it('SimCLR: linear → ReLU → linear, hidden = input, output 128', () => {
    const m = projectionMlp({ inputDim: 16, seed: 0 });
    expect(describeLayers(m)).toEqual(['Dense(16)', 'relu', 'Dense(128)']);
  });

  it('BYOL: linear(4096) → BN → ReLU → linear(256)', () => {
    const m = projectionMlp({ inputDim: 8, variant: 'byol', seed: 0 });
    expect(describeLayers(m)).toEqual(['Dense(4096, no bias)', 'BN', 'relu', 'Dense(256)']);
  });

  it('SimSiam: 3 layers, BN on every layer including the output (affine-free), no ReLU on the output', () => {
    const m = projectionMlp({ inputDim: 8, variant: 'simsiam', hiddenDim: 16, outputDim: 16, seed: 0 });
    expect(describeLayers(m)).toEqual([
      'Dense(16, no bias)',
      'BN',
      'relu',
      'Dense(16, no bias)',
      'BN',
      'relu',
      'Dense(16, no bias)',
      'BN(affine=False)',
    ]);
    const bn = m.layers[2 + 5]!.getConfig();
    expect([bn.momentum, bn.epsilon]).toEqual([0.9, 1e-5]); // PyTorch's 0.1 / 1e-5
    expect(projectionMlp({ inputDim: 8, variant: 'simsiam', hiddenDim: 16, numLayers: 2, seed: 0 }).layers.length).toBe(5);
  });

  it('explicit options override the variant', () => {
    const m = projectionMlp({ inputDim: 8, hiddenDim: 12, outputDim: 4, numLayers: 1, batchNorm: true });
    expect(describeLayers(m)).toEqual(['Dense(4)']);
    expect(describeLayers(projectionMlp({ inputDim: 8, hiddenDim: 6, outputDim: 4, batchNorm: true }))).toEqual([
      'Dense(6, no bias)',
      'BN',
      'relu',
      'Dense(4)',
    ]);
  });

  it("starts from PyTorch's nn.Linear default U(±1/√fan_in)", () => {
    const m = projectionMlp({ inputDim: 64, hiddenDim: 256, outputDim: 32, seed: 3 });
    const [k1, b1, k2] = m.getWeights();
    for (const [w, fanIn] of [[k1!, 64], [b1!, 64], [k2!, 256]] as const) {
      const v = Array.from(w.dataSync());
      const bound = 1 / Math.sqrt(fanIn);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      const variance = v.reduce((s, x) => s + x * x, 0) / v.length;
      expect(variance).toBeCloseTo(bound ** 2 / 3, 3);
    }
  });

  it('is seeded: the same seed gives the same weights, on cpu and wasm; another seed differs', async () => {
    const byBackend = await onEachBackend(() => weightsOf(projectionMlp({ inputDim: 8, hiddenDim: 8, outputDim: 4, variant: 'byol', seed: 11 })));
    expect(byBackend.wasm).toEqual(byBackend.cpu);
    expect(weightsOf(projectionMlp({ inputDim: 8, hiddenDim: 8, outputDim: 4, variant: 'byol', seed: 12 }))).not.toEqual(byBackend.cpu);
  });

  it('explains bad options', () => {
    expect(() => projectionMlp({ inputDim: 0 })).toThrow('projectionMlp: options.inputDim must be an integer ≥ 1, got 0');
    expect(() => projectionMlp(undefined as never)).toThrow('projectionMlp: options.inputDim must be an integer ≥ 1, got undefined');
    expect(() => projectionMlp({ inputDim: 8, variant: 'moco' as never })).toThrow(
      "projectionMlp: options.variant must be one of 'simclr', 'byol', 'simsiam', got \"moco\"",
    );
    expect(() => projectionMlp({ inputDim: 8, hiddenDims: 4 } as never)).toThrow(/options.hiddenDims must be one of the known options/);
    expect(() => projectionMlp({ inputDim: 8, numLayers: 0 })).toThrow(/options.numLayers must be an integer ≥ 1, got 0/);
  });
});

describe('predictionMlp architectures', () => {
  beforeAll(() => useBackend('cpu'));
  it('BYOL: same shape as the projector, 4096 hidden', () => {
    expect(describeLayers(predictionMlp({ inputDim: 8, seed: 0 }))).toEqual(['Dense(4096, no bias)', 'BN', 'relu', 'Dense(8)']);
  });

  it('SimSiam: a bottleneck, hidden = d/4, no BN or ReLU on the output', () => {
    expect(describeLayers(predictionMlp({ inputDim: 2048, variant: 'simsiam', seed: 0 }))).toEqual([
      'Dense(512, no bias)',
      'BN',
      'relu',
      'Dense(2048)',
    ]);
  });

  it('explains bad options', () => {
    expect(() => predictionMlp({ inputDim: 8, outputDim: 1.5 })).toThrow('predictionMlp: options.outputDim must be an integer ≥ 1, got 1.5');
  });
});

describeBackends('heads train', (backend) => {
  it('a BYOL-style projector + predictor step lowers the loss and updates batch-norm statistics', () => {
    const projector = projectionMlp({ inputDim: 6, hiddenDim: 16, outputDim: 4, variant: 'byol', seed: 1 });
    const predictor = predictionMlp({ inputDim: 4, hiddenDim: 8, seed: 2 });
    const x = tf.tensor2d(Array.from({ length: 16 * 6 }, (_, i) => Math.sin(i * 0.37)), [16, 6]);
    const target = tf.tensor2d(Array.from({ length: 16 * 4 }, (_, i) => Math.cos(i * 0.11)), [16, 4]);
    const vars = [...projector.trainableWeights, ...predictor.trainableWeights].map((w) => w.read() as tf.Variable);
    const loss = () =>
      tf.tidy(() => {
        const p = predictor.apply(projector.apply(x, { training: true }), { training: true }) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(p, target))) as tf.Scalar;
      });
    const opt = tf.train.adam(0.01);
    const movingMean = projector.layers[1]!.getWeights()[2]!;
    expect(Array.from(movingMean.dataSync()).every((v) => v === 0)).toBe(true);
    const first = loss().dataSync()[0]!;
    for (let i = 0; i < 25; i++) tf.dispose(opt.minimize(loss, true, vars)!);
    expect(loss().dataSync()[0]!, backend).toBeLessThan(first * 0.8);
    expect(Array.from(projector.layers[1]!.getWeights()[2]!.dataSync()).some((v) => v !== 0)).toBe(true);
    const y = expectNoLeak(() => tf.tidy(() => predictor.apply(projector.apply(x, { training: true }), { training: true }) as tf.Tensor));
    y.dispose();
    opt.dispose();
    tf.dispose([x, target]);
    projector.dispose();
    predictor.dispose();
  });

  it('classificationHead: logits, or probabilities that tfjs-layers fit() trains on', async () => {
    const head = classificationHead({ inputDim: 4, numClasses: 3, seed: 0 });
    expect(describeLayers(head)).toEqual(['Dense(3)']);
    const [kernel, bias] = head.getWeights();
    const k = Array.from(kernel!.dataSync());
    expect(Math.sqrt(k.reduce((s, v) => s + v * v, 0) / k.length)).toBeLessThan(0.03); // N(0, 0.01²)
    expect(Array.from(bias!.dataSync())).toEqual([0, 0, 0]);

    const probs = classificationHead({ inputDim: 4, numClasses: 3, hiddenDims: [8], batchNorm: true, softmax: true, seed: 0 });
    expect(describeLayers(probs)).toEqual(['Dense(8, no bias)', 'BN', 'relu', 'Dense(3)', 'softmax']);
    const x = tf.tensor2d(Array.from({ length: 30 * 4 }, (_, i) => ((i * 7) % 11) / 11 - 0.5), [30, 4]);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 30 }, (_, i) => i % 3), 'int32'), 3);
    const out = probs.predict(x) as tf.Tensor;
    expectClose(tf.sum(out, 1), tf.ones([30]), { atol: 1e-5 });
    probs.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const history = await probs.fit(x, labels, { epochs: 15, batchSize: 30, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    tf.dispose([x, labels, out]);
    expect(() => classificationHead({ inputDim: 4, numClasses: 3, hiddenDims: [0] })).toThrow(
      'classificationHead: options.hiddenDims must be an array of integers ≥ 1, got [0]',
    );
  });
});
