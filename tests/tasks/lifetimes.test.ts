/**
 * Constructors and lifetimes (issue 16): every class checks every option
 * before it allocates anything — a constructor that throws leaks no tensor
 * (reproduction 5: `new SimCLR(enc, { temperature: -1 })` leaked its
 * optimizer's 2 tensors each time) and throws a SelfsupError, never a raw
 * JS or tfjs error; `dispose()` is idempotent and a disposed object throws a
 * DisposedError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as selfsup from 'selfsup';
import {
  BasePretextTask,
  DisposedError,
  MemoryBank,
  SelfsupError,
  TargetNetwork,
  TrainingMonitor,
  classificationHead,
  convEncoder,
  dinoHead,
  maeDecoder,
  mlpEncoder,
  predictionMlp,
  projectionMlp,
  prototypeLayer,
  tinyVit,
  tokenEncoder,
  useBackend,
} from 'selfsup';
import { ALL_TASKS } from './all-tasks.js';

/** Values no option accepts everywhere: negative, fractional, wrong type, absurdly large, null. */
const BAD_VALUES: unknown[] = [-1, 1.5, 'bad', 1e12, null, NaN];

/** The option names a constructor knows, read from its own unknown-option error. */
function knownOptions(build: (extra: Record<string, unknown>) => unknown): string[] {
  try {
    const built = build({ notAnOption: 1 }) as { dispose(): void };
    built.dispose();
  } catch (e) {
    const match = /known options \(([^)]*)\)/.exec((e as Error).message);
    if (match) return match[1]!.split(', ');
  }
  throw new Error('the constructor did not name its known options');
}

/** Tries every bad value for every option: each either builds (then disposes) or throws a SelfsupError, and leaks nothing. */
function sweep(name: string, build: (extra: Record<string, unknown>) => { dispose(): void }): number {
  const keys = knownOptions(build);
  let refused = 0;
  const problems: string[] = [];
  for (const key of keys) {
    for (const value of BAD_VALUES) {
      const before = tf.memory().numTensors;
      try {
        build({ [key]: value }).dispose();
      } catch (e) {
        if (e instanceof SelfsupError) refused++;
        else problems.push(`{ ${key}: ${String(value)} } threw a raw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
      const leaked = tf.memory().numTensors - before;
      if (leaked !== 0) problems.push(`{ ${key}: ${String(value)} } leaked ${leaked} tensors`);
    }
  }
  expect(problems, name).toEqual([]);
  return refused;
}

describe('constructors check every option before allocating (no leak), and lifetimes are safe', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('the task list covers every task class selfsup exports (new methods join these tests)', () => {
    const exported = Object.entries(selfsup)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof BasePretextTask)
      .map(([k]) => k)
      .filter((k) => k !== 'JointEmbeddingTask')
      .sort();
    const covered = new Set(ALL_TASKS.map((c) => c.name.split(' (')[0]));
    expect(exported.filter((k) => !covered.has(k))).toEqual([]);
    expect(exported.length).toBeGreaterThanOrEqual(28);
  });

  for (const c of ALL_TASKS) {
    it(`${c.name}: every bad option throws a SelfsupError and leaks nothing`, () => {
      const refused = sweep(c.name, (extra) => c.build(extra));
      expect(refused).toBeGreaterThan(0);
    });
  }

  // Issue 16, reproduction 5, exactly.
  it('new SimCLR(encoder, { temperature: -1 }) leaks nothing, however often', () => {
    const simclr = ALL_TASKS.find((c) => c.name === 'SimCLR')!;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) expect(() => simclr.build({ temperature: -1 })).toThrow('SimCLR: options.temperature must be a finite number > 0, got -1');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the other classes and the heads: bad options throw SelfsupErrors and leak nothing', () => {
    const encoder = mlpEncoder({ inputShape: [4, 4, 1], units: [4], seed: 0 });
    const head = projectionMlp({ inputDim: 4, hiddenDim: 4, outputDim: 2, seed: 0 });
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    try {
      const builders: [string, (x: Record<string, unknown>) => { dispose(): void }][] = [
        ['MemoryBank', (x) => new MemoryBank({ size: 4, dim: 2, seed: 0, ...x })],
        ['TargetNetwork', (x) => new TargetNetwork({ encoder, heads: [head] }, x)],
        ['TrainingMonitor', (x) => Object.assign(new TrainingMonitor(x), { dispose: () => undefined })],
        ['projectionMlp', (x) => projectionMlp({ inputDim: 4, seed: 0, ...x })],
        ['predictionMlp', (x) => predictionMlp({ inputDim: 4, seed: 0, ...x })],
        ['classificationHead', (x) => classificationHead({ inputDim: 4, numClasses: 3, seed: 0, ...x })],
        ['dinoHead', (x) => dinoHead({ inputDim: 4, outputDim: 8, hiddenDim: 4, bottleneckDim: 2, seed: 0, ...x })],
        ['mlpEncoder', (x) => mlpEncoder({ inputShape: [4, 4, 1], units: [4], seed: 0, ...x })],
        ['convEncoder', (x) => convEncoder({ inputShape: [8, 8, 1], seed: 0, ...x })],
        ['tokenEncoder', (x) => tokenEncoder({ vocabSize: 5, sequenceLength: 2, seed: 0, ...x })],
        [
          'prototypeLayer',
          (x) => {
            const layer = prototypeLayer({ numPrototypes: 3, seed: 0, ...x });
            tf.tidy(() => {
              layer.apply(tf.zeros([1, 2]));
            }); // built (tfjs refuses to dispose an unbuilt layer)
            return layer as unknown as { dispose(): void };
          },
        ],
        ['tinyVit', (x) => tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0, ...x })],
        ['maeDecoder', (x) => maeDecoder(vit, { dim: 8, depth: 1, heads: 2, seed: 0, ...x })],
      ];
      for (const [name, build] of builders) sweep(name, build);
    } finally {
      encoder.dispose();
      head.dispose();
      vit.dispose();
    }
  });

  it('dispose() is idempotent and use after dispose is a DisposedError (MemoryBank, TargetNetwork, ViT)', () => {
    const encoder = mlpEncoder({ inputShape: [4, 4, 1], units: [4], seed: 0 });
    const bank = new MemoryBank({ size: 4, dim: 2, seed: 0 });
    bank.dispose();
    bank.dispose();
    expect(() => bank.read()).toThrow(DisposedError);
    const target = new TargetNetwork({ encoder });
    target.dispose();
    target.dispose();
    expect(() => target.update(0.9)).toThrow(DisposedError);
    expect(() => target.update(0.9)).toThrow('TargetNetwork.update: this must not be disposed');
    const vit = tinyVit({ imageSize: 8, channels: 1, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
    vit.dispose();
    vit.dispose();
    expect(() => vit.apply(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(DisposedError);
    encoder.dispose();
  });
});
