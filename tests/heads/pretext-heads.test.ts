import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  convDecoder,
  convEncoder,
  correspondenceHead,
  featureMapModel,
  mlpEncoder,
  patchDiscriminator,
  pixelClassifier,
  siameseHead,
  tokenEncoder,
  useBackend,
} from 'selfsup';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));

describe('pretext-task heads: shapes, layers, seeds, errors', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('convDecoder: linear → n × (up-conv 4×4/2 + ReLU) → 3×3 conv with the output activation', () => {
    const d = convDecoder({ inputDim: 16, outputShape: [28, 28, 1], seed: 0 });
    expect(d.layers.map((l) => l.getClassName())).toEqual([
      'Dense', 'Activation', 'Reshape', 'Conv2DTranspose', 'Activation', 'Conv2DTranspose', 'Activation', 'Conv2D',
    ]);
    expect(d.layers[2]!.outputShape).toEqual([null, 7, 7, 64]);
    expect(d.outputs[0]!.shape).toEqual([null, 28, 28, 1]);
    const out = d.predict(tf.randomNormal([3, 16], 0, 1, 'float32', 1)) as tf.Tensor;
    const v = out.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(convDecoder({ inputDim: 4, outputShape: [32, 32, 3], channels: [8, 8, 8], outputActivation: 'linear', seed: 0 }).outputs[0]!.shape).toEqual([null, 32, 32, 3]);
    expect(weightsOf(convDecoder({ inputDim: 4, outputShape: [8, 8, 1], channels: [2], seed: 5 }))).toEqual(
      weightsOf(convDecoder({ inputDim: 4, outputShape: [8, 8, 1], channels: [2], seed: 5 })),
    );
    expect(() => convDecoder({ inputDim: 4, outputShape: [28, 28, 1], channels: [8, 8, 8] })).toThrow(
      'convDecoder: options.channels must have n entries with 2ⁿ dividing the output height and width [28, 28] (each entry is one ×2 up-sampling), got 3 entries',
    );
    expect(() => convDecoder({ inputDim: 0, outputShape: [8, 8, 1] })).toThrow('convDecoder: options.inputDim must be an integer ≥ 1, got 0');
    expect(() => convDecoder({ inputDim: 4, outputShape: [8, 8, 1], outputActivation: 'tanh' as never })).toThrow('convDecoder: options.outputActivation');
    tf.dispose(out);
  });

  it('patchDiscriminator: strided 4×4 convs with LeakyReLU 0.2, one logit per patch', () => {
    const d = patchDiscriminator({ inputShape: [28, 28, 1], seed: 0 });
    expect(d.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'LeakyReLU', 'Conv2D', 'LeakyReLU', 'Conv2D']);
    expect(d.layers[1]!.getConfig().alpha).toBeCloseTo(0.2);
    expect(d.outputs[0]!.shape).toEqual([null, 7, 7, 1]);
    const bn = patchDiscriminator({ inputShape: [16, 16, 3], channels: [4, 8, 8], batchNorm: true, seed: 0 });
    expect(bn.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D', 'LeakyReLU', 'Conv2D', 'BatchNormalization', 'LeakyReLU', 'Conv2D', 'BatchNormalization', 'LeakyReLU', 'Conv2D',
    ]);
    expect(bn.outputs[0]!.shape).toEqual([null, 2, 2, 1]);
    expect(() => patchDiscriminator({ inputShape: [28, 28] })).toThrow('patchDiscriminator: options.inputShape must be an array of 3 of integers ≥ 1');
  });

  it('pixelClassifier: bilinear ×upsample, 3×3 convs, 1×1 to Q logits per pixel', () => {
    const h = pixelClassifier({ inputShape: [4, 4, 8], numClasses: 313, seed: 0 });
    expect(h.layers.map((l) => l.getClassName())).toEqual(['UpSampling2D', 'Conv2D', 'Conv2D']);
    expect(h.outputs[0]!.shape).toEqual([null, 8, 8, 313]);
    const flat = pixelClassifier({ inputShape: [7, 7, 4], numClasses: 100, upsample: 1, hiddenChannels: [], seed: 0 });
    expect(flat.layers.map((l) => l.getClassName())).toEqual(['Conv2D']);
    expect(flat.outputs[0]!.shape).toEqual([null, 7, 7, 100]);
    expect(() => pixelClassifier({ inputShape: [4, 4, 8], numClasses: 0 })).toThrow('pixelClassifier: options.numClasses must be an integer ≥ 1, got 0');
    expect(() => pixelClassifier({ inputShape: [4, 4, 8], numClasses: 2, hiddenChannels: [0] })).toThrow(
      'pixelClassifier: options.hiddenChannels must be an array of integers ≥ 1',
    );
  });

  it('siameseHead: the per-branch layer is shared; the fusion sees the branches in order', () => {
    const h = siameseHead({ branches: 3, inputDim: 4, branchDim: 5, hiddenDims: [6], numClasses: 7, seed: 0 });
    expect(h.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Flatten', 'Dense', 'Dense']);
    expect(h.layers[0]!.getWeights()[0]!.shape).toEqual([4, 5]); // one kernel for all three branches
    expect(h.layers[2]!.getWeights()[0]!.shape).toEqual([15, 6]);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
    const swapped = tf.concat([tf.slice(x, [0, 1, 0], [-1, 1, -1]), tf.slice(x, [0, 0, 0], [-1, 1, -1]), tf.slice(x, [0, 2, 0], [-1, 1, -1])], 1);
    const a = h.apply(x) as tf.Tensor;
    const b = h.apply(swapped) as tf.Tensor;
    expect(a.shape).toEqual([2, 7]);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeGreaterThan(1e-6); // order matters
    expect(siameseHead({ branches: 2, inputDim: 4, numClasses: 8, seed: 0 }).layers.map((l) => l.getClassName())).toEqual([
      'Flatten', 'Dense', 'Dense',
    ]);
    expect(() => siameseHead({ branches: 0, inputDim: 4, numClasses: 2 })).toThrow('siameseHead: options.branches must be an integer ≥ 1, got 0');
    tf.dispose([x, swapped, a, b]);
  });

  it('tokenEncoder: the bag-of-tokens layer followed by a linear layer is the mean token embedding', () => {
    const enc = tokenEncoder({ vocabSize: 6, sequenceLength: 3, embeddingDim: 4, hiddenDims: [], outputDim: 2, seed: 0 });
    const table = enc.layers[1]!.getWeights()[0]!; // [V, E]
    const tokens = tf.tensor2d([[1, 2, 2], [5, 0, 0]], [2, 3], 'int32');
    const pooled = tfl.model({ inputs: enc.inputs, outputs: enc.layers[1]!.output as tfl.SymbolicTensor }).predict(tokens) as tf.Tensor;
    const expected = tf.mean(tf.gather(table, tokens), 1);
    expectClose(pooled, expected, { atol: 1e-6 });
    const std = Math.sqrt(tf.mean(tf.square(table)).dataSync()[0]!);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.04); // N(0, 0.02²)
    expect(() => tokenEncoder({ vocabSize: 6, sequenceLength: 0 })).toThrow('tokenEncoder: options.sequenceLength must be an integer ≥ 1, got 0');
    tf.dispose([tokens, pooled, expected]);
  });

  it('correspondenceHead: concatenation → fc1 ReLU → fc2 logits', () => {
    const h = correspondenceHead({ inputDims: [3, 5], hiddenDim: 4, seed: 0 });
    expect(h.inputs.map((i) => i.shape)).toEqual([[null, 3], [null, 5]]);
    expect(h.outputs[0]!.shape).toEqual([null, 2]);
    expect(h.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.getWeights()[0]!.shape)).toEqual([[8, 4], [4, 2]]);
    expect(() => correspondenceHead({ inputDims: [3] })).toThrow('correspondenceHead: options.inputDims must be a pair [Fa, Fb] of integers ≥ 1, got [3]');
  });

  it('featureMapModel shares the encoder weights and reads the map before pooling', () => {
    const enc = convEncoder({ inputShape: [8, 8, 1], channels: [2, 3], seed: 0 });
    const map = featureMapModel(enc);
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
    const pooled = tf.mean(map.predict(x) as tf.Tensor, [1, 2]);
    expectClose(pooled, enc.predict(x) as tf.Tensor, { atol: 1e-6 });
    expect(map.trainableWeights.map((w) => w.read().id)).toEqual(enc.trainableWeights.map((w) => w.read().id));
    expect(() => featureMapModel(mlpEncoder({ inputShape: [4], units: [2] }))).toThrow(
      'featureMapModel: encoder must end in pooling / flatten layers after a 4-D feature map, so the map can be read before pooling (e.g. convEncoder), got a model whose last layer is Activation',
    );
    // A grid head (average pooling to 2×2, flatten) on layers shared with another model: the graph is followed.
    const input = tfl.input({ shape: [8, 8, 1] });
    let t = input;
    for (const layer of enc.layers.slice(0, -1)) t = layer.apply(t) as tfl.SymbolicTensor;
    t = tfl.layers.flatten().apply(tfl.layers.averagePooling2d({ poolSize: 1, strides: 1 }).apply(t) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const gridded = tfl.model({ inputs: input, outputs: t });
    expect(featureMapModel(gridded).outputs[0]!.shape).toEqual([null, 4, 4, 3]);
    expect(() => featureMapModel({})).toThrow('featureMapModel: encoder must be a single-input tfjs-layers model ending in a pooling head');
    tf.dispose([x, pooled]);
  });
});

describe('pretext-task heads on both backends', () => {
  it('are seeded identically on cpu and wasm', async () => {
    const build = () => [
      weightsOf(convDecoder({ inputDim: 3, outputShape: [4, 4, 1], channels: [2], seed: 1 })),
      weightsOf(patchDiscriminator({ inputShape: [4, 4, 1], channels: [2], seed: 2 })),
      weightsOf(tokenEncoder({ vocabSize: 4, sequenceLength: 2, embeddingDim: 2, outputDim: 2, seed: 3 })),
    ];
    const w = await onEachBackend(build);
    expect(w.wasm).toEqual(w.cpu);
  });
});

describeBackends('pretext-task heads train', () => {
  it('tokenEncoder and convDecoder get gradients (no UnsortedSegmentSum on wasm) and leak nothing', () => {
    const text = tokenEncoder({ vocabSize: 5, sequenceLength: 3, embeddingDim: 4, outputDim: 2, seed: 0 });
    const decoder = convDecoder({ inputDim: 2, outputShape: [4, 4, 1], channels: [2], seed: 1 });
    const tokens = tf.tensor2d([[1, 2, 0], [3, 4, 4]], [2, 3], 'int32');
    const vars = [...text.trainableWeights, ...decoder.trainableWeights].map((w) => w.read() as tf.Variable);
    const f = () => tf.mean(tf.square(decoder.apply(text.apply(tokens)) as tf.Tensor)) as tf.Scalar;
    const { value, grads } = expectNoLeak(() => tf.variableGrads(f, vars));
    expect(Object.keys(grads)).toHaveLength(vars.length);
    expect(Object.values(grads).every((g) => Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0]!))).toBe(true);
    tf.dispose([value, ...Object.values(grads), tokens]);
    text.dispose();
    decoder.dispose();
  });
});
