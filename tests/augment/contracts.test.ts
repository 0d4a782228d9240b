/**
 * Contracts every random transform keeps: sameOnBatch draws one set for the
 * batch, the one-call function leaves no tensors behind and replays exactly
 * from its params, and p is validated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import * as A from '../../src/augment/index.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

beforeAll(async () => {
  await useBackend('cpu');
});

type Sampler = (shape: A.ImageShape, rng: number, options: Record<string, unknown>) => Record<string, unknown>;
const SAMPLERS: [string, Sampler, Record<string, unknown>][] = [
  ['sampleResizedCrop', A.sampleResizedCrop as unknown as Sampler, {}],
  ['sampleFlip', A.sampleFlip as unknown as Sampler, {}],
  ['sampleColorJitter', A.sampleColorJitter as unknown as Sampler, { brightness: 0.4, hue: 0.1, p: 0.5 }],
  ['sampleGrayscale', A.sampleGrayscale as unknown as Sampler, { p: 0.5 }],
  ['sampleGaussianBlur', A.sampleGaussianBlur as unknown as Sampler, { p: 0.5 }],
  ['sampleSolarize', A.sampleSolarize as unknown as Sampler, {}],
  ['samplePosterize', A.samplePosterize as unknown as Sampler, {}],
  ['sampleGaussianNoise', A.sampleGaussianNoise as unknown as Sampler, { std: [0.1, 0.3], p: 0.5 }],
  ['sampleRandomErasing', A.sampleRandomErasing as unknown as Sampler, {}],
  ['sampleCutout', A.sampleCutout as unknown as Sampler, { count: 2, p: 0.5 }],
  ['sampleRotate90', A.sampleRotate90 as unknown as Sampler, {}],
];

it('sameOnBatch gives every sample the same parameters', () => {
  for (const [name, sample, options] of SAMPLERS) {
    const p = sample([6, 16, 16, 3], 3, { ...options, sameOnBatch: true });
    for (const [key, value] of Object.entries(p)) {
      if (!ArrayBuffer.isView(value) || key === 'value') continue; // the fill value is not per sample
      const arr = value as unknown as ArrayLike<number>;
      const per = arr.length / 6;
      for (let i = 1; i < 6; i++) {
        for (let k = 0; k < per; k++) expect(arr[i * per + k], `${name}.${key}[${i}]`).toBe(arr[k]);
      }
    }
  }
});

it('apply probabilities match p (flip, grayscale, blur, jitter, noise, randomApply)', () => {
  const n = 4000;
  const rate = (flags: Uint8Array) => flags.reduce((a, b) => a + b, 0) / flags.length;
  const tol = 5 * Math.sqrt(0.25 / n);
  expect(Math.abs(rate(A.sampleFlip([n, 4, 4, 3], 1, { p: 0.7 }).applied) - 0.7)).toBeLessThan(tol);
  expect(Math.abs(rate(A.sampleGrayscale([n, 4, 4, 3], 2, { p: 0.2 }).applied) - 0.2)).toBeLessThan(tol);
  expect(Math.abs(rate(A.sampleSolarize([n, 4, 4, 3], 3, { p: 0.2 }).applied) - 0.2)).toBeLessThan(tol);
  expect(Math.abs(rate(A.sampleGaussianNoise([n, 4, 4, 3], 4, { p: 0.4 }).applied) - 0.4)).toBeLessThan(tol);
  const wrapped = A.randomApply(new A.RandomGrayscale({ p: 1 }), 0.3).sample([n, 4, 4, 3], 5);
  expect(Math.abs(rate(wrapped.applied) - 0.3)).toBeLessThan(tol);
  expect(A.sampleFlip([10, 4, 4, 3], 1, { p: 0 }).applied.every((v) => v === 0)).toBe(true);
  expect(A.sampleFlip([10, 4, 4, 3], 1, { p: 1 }).applied.every((v) => v === 1)).toBe(true);
  expect(() => A.sampleGaussianBlur([2, 4, 4, 3], 1, { p: -0.5 })).toThrow('sampleGaussianBlur: options.p must be a number in [0, 1], got -0.5');
  expect(() => A.sampleFlip([2, 4, 3] as never, 1)).toThrow('sampleFlip: shape must be the image batch shape [B, H, W, C] (e.g. images.shape), got [2, 4, 3]');
});

it('a bad seed is refused under the name of the sampler that was called, and the argument rng', () => {
  for (const [name, sample, options] of SAMPLERS) {
    for (const bad of [-1, 1.5, 2 ** 32]) {
      expect(() => sample([2, 8, 8, 3], bad, options), name).toThrow(`${name}: rng must be an integer in [0, 2^32) or an Rng, got ${bad}`);
    }
  }
  const pipelines: [string, A.Transform<unknown>][] = [
    ['compose.sample', A.compose([new A.RandomHorizontalFlip()])],
    ['randomApply.sample', A.randomApply(new A.RandomGrayscale(), 0.5)],
    ['randomOrder.sample', A.randomOrder([new A.RandomHorizontalFlip()])],
    ['ColorJitter.sample', new A.ColorJitter({ brightness: 0.4 })],
  ];
  for (const [name, t] of pipelines) {
    expect(() => t.sample([2, 8, 8, 3], -1), name).toThrow(`${name}: rng must be an integer in [0, 2^32) or an Rng, got -1`);
  }
  expect(() => A.simclrAugment().sample([2, 8, 8, 3], 0.5)).toThrow(/\.sample: rng must be an integer in \[0, 2\^32\) or an Rng, got 0\.5$/);
});

type Call = (images: tf.Tensor, options: Record<string, unknown>) => { images: tf.Tensor4D; params: unknown };
const CALLS: [string, Call, (t: tf.Tensor4D, p: never) => tf.Tensor4D, Record<string, unknown>][] = [
  ['randomResizedCrop', A.randomResizedCrop as unknown as Call, A.applyResizedCrop, { size: 12 }],
  ['randomHorizontalFlip', A.randomHorizontalFlip as unknown as Call, A.applyHorizontalFlip, {}],
  ['randomVerticalFlip', A.randomVerticalFlip as unknown as Call, A.applyVerticalFlip, {}],
  ['colorJitter', A.colorJitter as unknown as Call, A.applyColorJitter, { brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.2 }],
  ['randomGrayscale', A.randomGrayscale as unknown as Call, A.applyGrayscale, { p: 0.5 }],
  ['gaussianBlur', A.gaussianBlur as unknown as Call, A.applyGaussianBlur, { p: 0.5 }],
  ['randomSolarize', A.randomSolarize as unknown as Call, A.applySolarize, {}],
  ['randomPosterize', A.randomPosterize as unknown as Call, A.applyPosterize, {}],
  ['gaussianNoise', A.gaussianNoise as unknown as Call, A.applyGaussianNoise, {}],
  ['randomErasing', A.randomErasing as unknown as Call, A.applyErasing, { p: 1 }],
  ['cutout', A.cutout as unknown as Call, A.applyErasing, { size: 5 }],
  ['randomRotate90', A.randomRotate90 as unknown as Call, A.applyRotate90, {}],
];

describeBackends('one-call functions', () => {
  it('leave no tensors behind and replay exactly with their apply function', () => {
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    for (const [name, call, apply, options] of CALLS) {
      const { images, params } = expectNoLeak(() => call(x, { ...options, seed: 11, returnParams: true }));
      const again = expectNoLeak(() => apply(x, params as never));
      expectClose(again, images, { atol: 0, rtol: 0, label: name });
      const plain = call(x, { ...options, seed: 11 }) as unknown as tf.Tensor4D;
      expectClose(plain, images, { atol: 0, rtol: 0, label: `${name} seeded` });
      expect(images.dtype, name).toBe('float32');
      tf.dispose([images, again, plain]);
    }
    x.dispose();
  });

  it('rejects rank ≠ 4, unknown options, and int32 input without inputRange', () => {
    for (const [name, call] of CALLS) {
      expect(() => call(tf.ones([16, 16, 3]), {}), name).toThrow(`${name}: images must be a rank-4 tensor [B, H, W, C] (NHWC), got rank 3 with shape [16, 16, 3]`);
      expect(() => call(tf.ones([1, 16, 16, 3]), { sed: 1 }), name).toThrow(`options.sed must be one of the known options`);
      expect(() => call(tf.ones([1, 16, 16, 3], 'int32'), {}), name).toThrow(`${name}: images must have dtype float32`);
    }
  });
});

describeBackends('errors name the function the user called', () => {
  // An NCHW batch (channels on axis 1), an int32 batch, a rank-3 image: each refusal must name the
  // one-call function, never an inner apply… or sample… the user did not call.
  const BAD: [string, () => tf.Tensor][] = [
    ['an NCHW batch', () => tf.randomUniform([2, 3, 16, 20], 0, 1, 'float32', 1)],
    ['int32 pixels', () => tf.zeros([2, 16, 16, 3], 'int32')],
    ['a rank-3 image', () => tf.zeros([16, 16, 3])],
  ];

  it('the one-call functions, Transform.run and the view makers', () => {
    const calls: [string, (x: tf.Tensor) => unknown][] = [
      ...CALLS.map(([name, call, , options]): [string, (x: tf.Tensor) => unknown] => [name, (x) => call(x, options)]),
      ['ColorJitter.run', (x) => new A.ColorJitter({ brightness: 0.4 }).run(x)],
      ['RandomGrayscale.run', (x) => new A.RandomGrayscale().run(x)],
      ['compose.run', (x) => A.compose([new A.RandomHorizontalFlip(), new A.ColorJitter({ hue: 0.1 })]).run(x)],
      ['twoViews', (x) => A.twoViews(x, A.simclrAugment({ size: 16 }))],
      ['multiCrop', (x) => A.multiCrop(x, { global: { count: 2, size: 16, scale: [0.5, 1] } })],
    ];
    for (const [what, make] of BAD) {
      const x = make();
      for (const [name, call] of calls) {
        const before = tf.memory().numTensors;
        let message = '';
        try {
          tf.dispose(call(x) as tf.TensorContainer); // accepted (any channel count): the result is not the point
        } catch (e) {
          message = (e as Error).message;
        }
        expect(tf.memory().numTensors, `${name} on ${what} leaked`).toBe(before);
        if (message) expect(message, `${name} on ${what}`).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
      }
      x.dispose();
    }
  });

  it('an NCHW batch is recognised as such', () => {
    const x = tf.zeros([2, 3, 8, 8]);
    expect(() => A.colorJitter(x, { brightness: 0.4 })).toThrow(
      'colorJitter: images must have 1 or 3 channels (last axis of NHWC), got 8 in shape [2, 3, 8, 8] (an NCHW batch? selfsup takes NHWC: tf.transpose(images, [0, 2, 3, 1]))',
    );
    x.dispose();
  });

  it("a pipeline step's refusal names the view maker and the step", () => {
    const x = tf.zeros([2, 8, 8, 3]);
    expect(() => A.twoViews(x, A.compose([new A.RandomHorizontalFlip(), new A.Cutout({ size: 9 })]))).toThrow(
      'twoViews: Cutout options.size must be at most the image side (8 for images [2, 8, 8, 3]), got 9',
    );
    x.dispose();
  });
});
