import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { convEncoder, mlpEncoder, useBackend } from 'selfsup';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

const images = (b: number, h: number, c: number) =>
  tf.tensor4d(Array.from({ length: b * h * h * c }, (_, i) => (Math.sin(i * 0.13) + 1) / 2), [b, h, h, c]);

function trainSteps(model: tfl.LayersModel, x: tf.Tensor, steps: number): [number, number] {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Non-negative targets: the features are pooled ReLU outputs.
  const target = tf.tidy(() => tf.linspace(0.2, 1, model.outputs[0]!.shape[1] as number));
  const loss = () =>
    tf.tidy(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, target))) as tf.Scalar);
  const opt = tf.train.adam(0.01);
  const first = loss().dataSync()[0]!;
  for (let i = 0; i < steps; i++) tf.dispose(opt.minimize(loss, true, vars)!);
  const last = loss().dataSync()[0]!;
  opt.dispose();
  target.dispose();
  return [first, last];
}

describe('convEncoder architecture', () => {
  it('is the benchmark encoder: conv 32/64/128/128, 3×3, strides 1/2/2/2, ReLU, global average pool', async () => {
    await useBackend('cpu');
    const m = convEncoder({ inputShape: [28, 28, 1], seed: 0 });
    const convs = m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig());
    expect(convs.map((c) => [c.filters, c.kernelSize, c.strides, c.padding, c.useBias])).toEqual([
      [32, [3, 3], [1, 1], 'same', true],
      [64, [3, 3], [2, 2], 'same', true],
      [128, [3, 3], [2, 2], 'same', true],
      [128, [3, 3], [2, 2], 'same', true],
    ]);
    expect(m.layers.at(-2)!.outputShape).toEqual([null, 4, 4, 128]); // 28 → 28 → 14 → 7 → 4
    expect(m.layers.at(-1)!.getClassName()).toBe('GlobalAveragePooling2D');
    expect(m.outputs[0]!.shape).toEqual([null, 128]);
    const bn = convEncoder({ inputShape: [32, 32, 3], batchNorm: true, seed: 0 });
    expect(bn.layers.slice(0, 3).map((l) => l.getClassName())).toEqual(['Conv2D', 'BatchNormalization', 'Activation']);
    expect(bn.layers[0]!.getConfig().useBias).toBe(false);
    expect(bn.outputs[0]!.shape).toEqual([null, 128]);
  });

  it('starts He-normal, seeded identically on cpu and wasm', async () => {
    const w = await onEachBackend(() => convEncoder({ inputShape: [8, 8, 1], channels: [4, 4], seed: 9 }).getWeights().map((t) => Array.from(t.dataSync())));
    expect(w.wasm).toEqual(w.cpu);
    const kernel = w.cpu[2]!; // second conv: fan_in = 3·3·4
    const std = Math.sqrt(kernel.reduce((s, v) => s + v * v, 0) / kernel.length);
    expect(std).toBeGreaterThan(0.5 * Math.sqrt(2 / 36));
    expect(std).toBeLessThan(1.5 * Math.sqrt(2 / 36));
    expect(w.cpu[1]!.every((v) => v === 0)).toBe(true);
  });

  it('explains bad options', async () => {
    await useBackend('cpu');
    expect(() => convEncoder({ inputShape: [28, 28] })).toThrow(
      'convEncoder: options.inputShape must be an array of 3 of integers ≥ 1, got [28, 28]',
    );
    expect(() => convEncoder({ inputShape: [28, 28, 1], channels: [8, 8], strides: [1, 2, 2] })).toThrow(
      'convEncoder: options.strides must have one stride per convolution (2, as options.channels), got [1, 2, 2]',
    );
    expect(() => mlpEncoder({ inputShape: [4], units: [] })).toThrow('mlpEncoder: options.units must be a non-empty array of integers ≥ 1, got []');
  });
});

describeBackends('reference encoders', (backend) => {
  it('convEncoder: forward shape on 28×28×1 and 32×32×3, finite, no leak', () => {
    for (const [h, c] of [[28, 1], [32, 3]] as const) {
      const m = convEncoder({ inputShape: [h, h, c], channels: [4, 8, 8, 16], seed: 1 });
      const x = images(2, h, c);
      const y = expectNoLeak(() => m.predict(x) as tf.Tensor);
      expect(y.shape).toEqual([2, 16]);
      expect(tf.min(y).dataSync()[0]!).toBeGreaterThanOrEqual(0); // pooled ReLU features
      tf.dispose([x, y]);
      m.dispose();
    }
  });

  it('convEncoder agrees across backends', async () => {
    const out = await onEachBackend(() =>
      tf.tidy(() => {
        const m = convEncoder({ inputShape: [12, 12, 1], channels: [4, 8], seed: 2 });
        const y = Array.from((m.predict(images(2, 12, 1)) as tf.Tensor).dataSync());
        m.dispose();
        return y;
      }),
    );
    expectClose(out.wasm, out.cpu, { rtol: 1e-4, atol: 1e-5, label: backend });
  });

  // On wasm this runs through selfsup's Conv2DBackpropFilter/Input kernels (stock tfjs-backend-wasm lacks them).
  it('convEncoder trains', () => {
    const m = convEncoder({ inputShape: [12, 12, 1], channels: [4, 8], batchNorm: true, seed: 3 });
    const x = images(4, 12, 1);
    const [first, last] = trainSteps(m, x, 20);
    expect(last).toBeLessThan(first * 0.5);
    x.dispose();
    m.dispose();
  });

  it('mlpEncoder: flattens, ReLU features, trains', () => {
    const m = mlpEncoder({ inputShape: [8, 8, 1], units: [16, 6], batchNorm: true, seed: 4 });
    expect(m.layers.map((l) => l.getClassName())).toEqual([
      'Flatten',
      'Dense',
      'BatchNormalization',
      'Activation',
      'Dense',
      'BatchNormalization',
      'Activation',
    ]);
    const x = images(8, 8, 1);
    const y = expectNoLeak(() => m.predict(x) as tf.Tensor);
    expect(y.shape).toEqual([8, 6]);
    const [first, last] = trainSteps(m, x, 30);
    expect(last, backend).toBeLessThan(first * 0.5);
    tf.dispose([x, y]);
    m.dispose();
    const vector = mlpEncoder({ inputShape: [5], units: [3], seed: 4 });
    expect(vector.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Activation']);
    expect((vector.predict(tf.ones([2, 5])) as tf.Tensor).shape).toEqual([2, 3]);
  });
});
