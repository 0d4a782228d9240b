import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import {
  applyMultiCrop,
  byolAugment,
  ColorJitter,
  compose,
  dinoMultiCrop,
  GaussianBlur,
  mocoV2Augment,
  multiCrop,
  RandomGrayscale,
  RandomHorizontalFlip,
  RandomResizedCrop,
  RandomSolarize,
  RandomPosterize,
  RandomVerticalFlip,
  Normalize,
  randomApply,
  randomOrder,
  simclrAugment,
  twoViews,
  type ComposeParams,
  type RandomApplyParams,
  type Transform,
} from '../../src/augment/index.js';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { disposeAll, expectClose, expectNoLeak } from '../helpers/numerics.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const photo = () => tf.tidy(() => tf.clipByValue(tf.add(tf.mul(tf.randomUniform([4, 24, 24, 3], 0, 1, 'float32', 5), 0.6), 0.2), 0, 1)) as tf.Tensor4D;

function names(t: Transform): string[] {
  return ((t as unknown as { transforms: Transform[] }).transforms ?? []).map((s) => s.name);
}

describeBackends('pipelines', () => {
  it('compose samples in order, replays exactly and frees intermediates', () => {
    const x = photo();
    const pipeline = compose([new RandomResizedCrop({ size: 16 }), new RandomHorizontalFlip(), new ColorJitter({ brightness: 0.4, hue: 0.1 })]);
    const { images, params } = expectNoLeak(() => pipeline.run(x, { seed: 3 }));
    expect(images.shape).toEqual([4, 16, 16, 3]);
    expect(params.steps).toHaveLength(3);
    const again = expectNoLeak(() => pipeline.apply(x, params));
    expectClose(again, images, { atol: 0, rtol: 0 });
    const seeded = pipeline.run(x, { seed: 3 }).images;
    expectClose(seeded, images, { atol: 0, rtol: 0 });
    tf.dispose([x, images, again, seeded]);
  });

  it("compose's planar fast path (fused crop + flips) equals applying the steps one by one", () => {
    const x = photo();
    const steps: Transform[] = [
      new RandomHorizontalFlip(),
      new RandomResizedCrop({ size: [20, 16] }),
      new RandomHorizontalFlip(),
      new RandomVerticalFlip(),
      new ColorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 }),
      new RandomGrayscale({ p: 0.5 }),
      new GaussianBlur({ kernelSize: 5, p: 0.5 }),
      new RandomSolarize({ p: 0.5 }),
      new RandomPosterize({ p: 0.5 }),
      new RandomResizedCrop({ size: 12 }),
      new Normalize(),
    ];
    const pipeline = compose(steps);
    const { images, params } = expectNoLeak(() => pipeline.run(x, { seed: 21 }));
    let y: tf.Tensor4D = x;
    steps.forEach((t, i) => {
      const next = t.apply(y, params.steps[i]);
      if (y !== x) y.dispose();
      y = next;
    });
    expectClose(images, y, { atol: 2e-5, rtol: 0 });
    tf.dispose([x, images, y]);
  });

  it('randomApply computes only the selected sub-batch and replays', () => {
    const x = photo();
    const t = randomApply(new RandomGrayscale({ p: 1 }), 0.5);
    const { images, params } = t.run(x, { seed: 1 });
    const p = params as RandomApplyParams<{ applied: Uint8Array }>;
    const count = p.applied.reduce((a, b) => a + b, 0);
    expect(p.inner === null ? 0 : p.inner.applied.length).toBe(count);
    const data = images.arraySync();
    const input = x.arraySync();
    p.applied.forEach((a, i) => {
      const px = data[i]![3]![5]!;
      if (a) expect(px[0]).toBeCloseTo(px[2]!, 6);
      else expect(px).toEqual(input[i]![3]![5]);
    });
    expectClose(t.apply(x, params), images, { atol: 0, rtol: 0 });
    expect(() => randomApply(new RandomResizedCrop({ size: 8 }), 0.5).run(x, { seed: 0 })).toThrow(
      'randomApply(RandomResizedCrop).run: transform must keep the image shape (RandomResizedCrop maps [4, 24, 24, 3] to [4, 8, 8, 3])',
    );
    expect(() => randomApply(new RandomGrayscale(), 1.2)).toThrow('randomApply: p must be a number in [0, 1], got 1.2');
    tf.dispose([x, images]);
  });

  it('randomOrder applies each transform once per sample in a per-sample order', () => {
    const x = photo();
    const t = randomOrder([new RandomSolarize({ p: 1 }), new ColorJitter({ brightness: [1.5, 1.5] })]);
    const { images, params } = expectNoLeak(() => t.run(x, { seed: 2 }));
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) orders.add(`${params.order[2 * i]}${params.order[2 * i + 1]}`);
    // Per sample: solarize then brighten, or brighten then solarize.
    for (let i = 0; i < 4; i++) {
      const xi = tf.slice(x, [i], [1]);
      const first = params.order[2 * i];
      const sol = (a: tf.Tensor) => tf.tidy(() => { const m = tf.greaterEqual(a, 0.5); return tf.where(m, tf.sub(1, a), a); });
      const bri = (a: tf.Tensor) => tf.clipByValue(tf.mul(a, 1.5), 0, 1);
      const ref = first === 0 ? bri(sol(xi)) : sol(bri(xi));
      expectClose(tf.slice(images, [i], [1]), ref, { atol: 1e-6, rtol: 0, label: `sample ${i}` });
    }
    expectClose(t.apply(x, params), images, { atol: 0, rtol: 0 });
    tf.dispose([x, images]);
  });

  it('twoViews: symmetric and asymmetric, exact replay, [0, 255] input', () => {
    const x = photo();
    const simclr = simclrAugment({ size: 16 });
    const res = expectNoLeak(() => twoViews(x, simclr, { seed: 7, returnParams: true }));
    expect(res.views[0].shape).toEqual([4, 16, 16, 3]);
    expectClose(simclr.apply(x, res.params[1]), res.views[1], { atol: 0, rtol: 0 });
    const [a, b] = byolAugment({ size: 16 });
    const asym = twoViews(x, a, b, { seed: 7, returnParams: true });
    expectClose(b.apply(x, asym.params[1]), asym.views[1], { atol: 0, rtol: 0 });
    const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(x, 255)), 'int32'));
    const [v] = twoViews(bytes, simclr, { seed: 1, inputRange: 255 });
    expect(v.dtype).toBe('float32');
    expect(tf.max(v).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(() => twoViews(bytes, simclr, { seed: 1 })).toThrow('twoViews: images must have dtype float32 with values in [0, 1] (pass inputRange: 255 for [0, 255] integer images), got int32');
    disposeAll([x, res.views, asym.views, bytes, v]);
  });

  it('multiCrop and dinoMultiCrop: shapes, per-crop pipelines, replay', () => {
    const x = photo();
    const spec = dinoMultiCrop({ globalSize: 16, localSize: 8, localCount: 3 });
    const { views, params } = expectNoLeak(() => multiCrop(x, { ...spec, seed: 4, returnParams: true }));
    expect(views.global.map((v) => v.shape)).toEqual([[4, 16, 16, 3], [4, 16, 16, 3]]);
    expect(views.local.map((v) => v.shape)).toEqual([[4, 8, 8, 3], [4, 8, 8, 3], [4, 8, 8, 3]]);
    const again = applyMultiCrop(x, spec, params);
    [...again.global, ...again.local].forEach((v, i) => expectClose(v, [...views.global, ...views.local][i]!, { atol: 0, rtol: 0 }));
    // Global crop 1 blurs every image (p 1.0); global crop 2 may solarize.
    const blur1 = (params.global[0] as ComposeParams).steps[1] as ComposeParams;
    expect((blur1.steps[3] as { applied: Uint8Array }).applied.every((a) => a === 1)).toBe(true);
    disposeAll([x, views, again]);
  });
});

it('presets carry the papers parameters', () => {
  const simclr = simclrAugment();
  expect(names(simclr)).toEqual(['RandomResizedCrop', 'RandomHorizontalFlip', 'ColorJitter', 'RandomGrayscale', 'GaussianBlur']);
  expect(names(mocoV2Augment())).toEqual(['RandomResizedCrop', 'ColorJitter', 'RandomGrayscale', 'GaussianBlur', 'RandomHorizontalFlip']);
  expect(names(simclrAugment({ blur: false, normalize: true }))).toEqual(['RandomResizedCrop', 'RandomHorizontalFlip', 'ColorJitter', 'RandomGrayscale', 'Normalize']);
  // Sampled factor ranges: SimCLR s = 1 → brightness [0.2, 1.8], hue [-0.2, 0.2], p 0.8.
  const params = simclr.sample([4000, 64, 64, 3], 1) as ComposeParams;
  const jitter = params.steps[2] as { applied: Uint8Array; brightness: Float32Array; hue: Float32Array };
  const on = jitter.applied.reduce((a, b) => a + b, 0);
  expect(Math.abs(on - 3200)).toBeLessThan(130);
  expect(Math.min(...jitter.brightness)).toBeGreaterThanOrEqual(0.2 - 1e-6);
  expect(Math.max(...jitter.brightness)).toBeLessThanOrEqual(1.8 + 1e-6);
  expect(Math.max(...jitter.hue.map(Math.abs))).toBeLessThanOrEqual(0.2 + 1e-6);
  expect(Math.max(...jitter.hue.map(Math.abs))).toBeGreaterThan(0.19);
  const gray = params.steps[3] as { applied: Uint8Array };
  expect(Math.abs(gray.applied.reduce((a, b) => a + b, 0) - 800)).toBeLessThan(130);
  const blur = params.steps[4] as { applied: Uint8Array; sigma: Float32Array };
  expect(Math.abs(blur.applied.reduce((a, b) => a + b, 0) - 2000)).toBeLessThan(160);
  // 'auto': no blur on 32-pixel crops (SimCLR's CIFAR-10 setting).
  expect((simclr.sample([8, 32, 32, 3], 1) as ComposeParams).steps[4]).toBeNull();
  // BYOL: blur p 1.0 / 0.1, solarize p 0 / 0.2.
  const [v1, v2] = byolAugment();
  const p1 = v1.sample([4000, 64, 64, 3], 2) as ComposeParams;
  const p2 = v2.sample([4000, 64, 64, 3], 2) as ComposeParams;
  const count = (p: ComposeParams, k: number) => (p.steps[k] as { applied: Uint8Array }).applied.reduce((a, b) => a + b, 0);
  expect(count(p1, 4)).toBe(4000);
  expect(Math.abs(count(p2, 4) - 400)).toBeLessThan(100);
  expect(count(p1, 5)).toBe(0);
  expect(Math.abs(count(p2, 5) - 800)).toBeLessThan(130);
  expect(() => simclrAugment({ strenght: 1 } as never)).toThrow('simclrAugment: options.strenght must be one of the known options');
  expect(new GaussianBlur().name).toBe('GaussianBlur');
});

it('a whole SimCLR view is identical on cpu and wasm for the same seed', async () => {
  const out = await onEachBackend(() =>
    tf.tidy(() => {
      const x = photo();
      const [a, b] = twoViews(x, simclrAugment({ size: 16, blur: true }), { seed: 11 });
      return [Array.from(a.dataSync()), Array.from(b.dataSync())];
    }),
  );
  expectClose(out.wasm[0]!, out.cpu[0]!, { atol: 1e-5, rtol: 0 });
  expectClose(out.wasm[1]!, out.cpu[1]!, { atol: 1e-5, rtol: 0 });
});
