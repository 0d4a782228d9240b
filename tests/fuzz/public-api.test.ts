/**
 * Property-based fuzzing of the public API (issue 16, item 7), with
 * fast-check: random ranks, shapes and dtypes of tensor arguments, random
 * non-tensor values in their place, random option objects (every known
 * option, plus unknown ones) whose values include special floats (NaN, ±∞,
 * −0, huge, tiny, fractional, negative) and wrong types. Every call must
 * either return finite results or throw a SelfsupError — never a raw JS or
 * tfjs error — leak no tensor, and leave the backend usable. Seeded and
 * bounded in time (about a minute in all on cpu and wasm); the number of
 * cases tried is printed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as S from 'selfsup';
import { useBackend } from 'selfsup';

/** Seconds per backend (cpu, wasm) at most: about a minute in all. */
const SECONDS = Number(process.env['SELFSUP_FUZZ_SECONDS'] ?? 28);
/**
 * Cases per backend at most: with the fixed seed, every machine tries the
 * same sequence (a slower one a prefix of it), so CI never meets a case that
 * was not tried here. Raise it (and the seconds) to explore further.
 */
const RUNS = Number(process.env['SELFSUP_FUZZ_RUNS'] ?? 40_000);
const SEED = 16;
/** A file each case is appended to before it runs (to find a hang). */
const TRACE = process.env['SELFSUP_FUZZ_TRACE'];

type Kind = 'tensor' | 'images' | 'embeddings' | 'labels' | 'int' | 'number' | 'options' | 'size2';
interface Target {
  name: string;
  args: Kind[];
  call: (...args: unknown[]) => unknown;
}

const T = (name: string, args: Kind[], call: (...a: unknown[]) => unknown): Target => ({ name, args, call });
const any = (f: unknown) => f as (...a: unknown[]) => unknown;

/** The public functions fuzzed: losses, augmentations, masking, evaluation, core. */
const TARGETS: Target[] = [
  T('ntXentLoss', ['embeddings', 'embeddings', 'options'], any(S.ntXentLoss)),
  T('infoNCELoss', ['embeddings', 'embeddings', 'tensor', 'options'], any(S.infoNCELoss)),
  T('clipLoss', ['embeddings', 'embeddings', 'options'], any(S.clipLoss)),
  T('barlowTwinsLoss', ['embeddings', 'embeddings', 'options'], any(S.barlowTwinsLoss)),
  T('vicregLoss', ['embeddings', 'embeddings', 'options'], any(S.vicregLoss)),
  T('vicregTerms', ['embeddings', 'embeddings', 'options'], any(S.vicregTerms)),
  T('byolLoss', ['embeddings', 'embeddings', 'embeddings', 'embeddings'], any(S.byolLoss)),
  T('simSiamLoss', ['embeddings', 'embeddings', 'embeddings', 'embeddings'], any(S.simSiamLoss)),
  T('negativeCosineSimilarity', ['embeddings', 'embeddings', 'options'], any(S.negativeCosineSimilarity)),
  T('dinoLoss', ['embeddings', 'embeddings', 'embeddings', 'options'], any(S.dinoLoss)),
  T('updateDinoCenter', ['embeddings', 'embeddings', 'options'], any(S.updateDinoCenter)),
  T('sinkhornKnopp', ['embeddings', 'options'], any(S.sinkhornKnopp)),
  T('swavLoss', ['embeddings', 'embeddings', 'embeddings', 'embeddings', 'options'], any(S.swavLoss)),
  T('rotationLoss', ['embeddings', 'labels'], any(S.rotationLoss)),
  T('pseudoLabelLoss', ['embeddings', 'labels', 'options'], any(S.pseudoLabelLoss)),
  T('maeLoss', ['tensor', 'images', 'embeddings', 'options'], any(S.maeLoss)),
  T('reconstructionLoss', ['images', 'images', 'options'], any(S.reconstructionLoss)),
  T('sparsityPenalty', ['embeddings', 'options'], any(S.sparsityPenalty)),
  T('kMeans', ['embeddings', 'options'], any(S.kMeans)),
  T('l2Normalize', ['tensor', 'options'], any(S.l2Normalize)),
  T('randomResizedCrop', ['images', 'options'], any(S.randomResizedCrop)),
  T('colorJitter', ['images', 'options'], any(S.colorJitter)),
  T('gaussianBlur', ['images', 'options'], any(S.gaussianBlur)),
  T('gaussianNoise', ['images', 'options'], any(S.gaussianNoise)),
  T('randomGrayscale', ['images', 'options'], any(S.randomGrayscale)),
  T('randomErasing', ['images', 'options'], any(S.randomErasing)),
  T('cutout', ['images', 'options'], any(S.cutout)),
  T('randomHorizontalFlip', ['images', 'options'], any(S.randomHorizontalFlip)),
  T('randomRotate90', ['images', 'options'], any(S.randomRotate90)),
  T('randomSolarize', ['images', 'options'], any(S.randomSolarize)),
  T('randomPosterize', ['images', 'options'], any(S.randomPosterize)),
  T('adjustBrightness', ['images', 'number', 'options'], any(S.adjustBrightness)),
  T('adjustContrast', ['images', 'number', 'options'], any(S.adjustContrast)),
  T('adjustSaturation', ['images', 'number', 'options'], any(S.adjustSaturation)),
  T('adjustHue', ['images', 'number', 'options'], any(S.adjustHue)),
  T('rgbToHsv', ['images'], any(S.rgbToHsv)),
  T('rgbToLab', ['images'], any(S.rgbToLab)),
  T('rgbToGrayscale', ['images'], any(S.rgbToGrayscale)),
  T('normalize', ['images', 'options'], any(S.normalize)),
  T('twoViews', ['images', 'options'], (x, o) => S.twoViews(x as tf.Tensor, S.simclrAugment({ strength: 0.5 }), o as never)),
  T('multiCrop', ['images', 'options'], any(S.multiCrop)),
  T('randomPatchMask', ['int', 'int', 'options'], any(S.randomPatchMask)),
  T('blockMask', ['int', 'size2', 'options'], any(S.blockMask)),
  T('centerMask', ['int', 'size2', 'options'], any(S.centerMask)),
  T('randomRectangleMask', ['int', 'size2', 'options'], any(S.randomRectangleMask)),
  T('irregularMask', ['int', 'size2', 'options'], any(S.irregularMask)),
  T('pixelDropout', ['images', 'options'], any(S.pixelDropout)),
  T('saltAndPepper', ['images', 'options'], any(S.saltAndPepper)),
  T('patchify', ['images', 'int'], any(S.patchify)),
  T('unpatchify', ['tensor', 'int', 'size2'], any(S.unpatchify)),
  T('rotationBatch', ['images'], any(S.rotationBatch)),
  T('jigsawBatch', ['images', 'options'], (x, o) => S.jigsawBatch(x as tf.Tensor4D, S.jigsawPermutations(4, { tiles: 4, seed: 0 }), { grid: 2, ...(o as object) })),
  T('relativePositionPairs', ['images', 'options'], any(S.relativePositionPairs)),
  T('jigsawPermutations', ['int', 'options'], any(S.jigsawPermutations)),
  T('embeddingStd', ['embeddings'], any(S.embeddingStd)),
  T('uniformity', ['embeddings', 'options'], any(S.uniformity)),
  T('alignment', ['embeddings', 'embeddings', 'options'], any(S.alignment)),
  T('rankMe', ['embeddings', 'options'], any(S.rankMe)),
  T('createRng', ['number'], (s) => S.createRng(s as number).next()),
  T('memoryBudget / assertMemoryFits', ['size2'], (shape) => S.assertMemoryFits('fuzz', 'shape', [shape as number[]])),
];

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e38, -1e38, 1e-45, 0.5, 1.5, -1, 2, 3, 7, 64, 1e9, 2 ** 32];
const JUNK: unknown[] = [null, undefined, 'x', true, [], {}, [1, 2], () => 1, Symbol('s')];

/** Known option names of a target, read from its own unknown-option error (none if it takes no options). */
function knownOptions(t: Target, sample: (k: Kind) => unknown): string[] {
  const idx = t.args.indexOf('options');
  if (idx < 0) return [];
  const args = t.args.map((k) => (k === 'options' ? { notAnOption: 1 } : sample(k)));
  try {
    const found = { tensors: [] as tf.Tensor[], numbers: [] as number[] };
    leaves(t.call(...args), found);
    tf.dispose(found.tensors.filter((x) => !args.includes(x)));
  } catch (e) {
    const m = /known options \(([^)]*)\)/.exec((e as Error).message);
    if (m) return m[1]!.split(', ');
  } finally {
    tf.dispose(args.filter((a) => a instanceof tf.Tensor) as tf.Tensor[]);
  }
  return [];
}

/** Every tensor (and number) inside a result. */
function leaves(x: unknown, out: { tensors: tf.Tensor[]; numbers: number[] }, depth = 0): void {
  if (depth > 4 || x === null || x === undefined) return;
  if (x instanceof tf.Tensor) out.tensors.push(x);
  else if (typeof x === 'number') out.numbers.push(x);
  else if (Array.isArray(x)) for (const v of x) leaves(v, out, depth + 1);
  else if (typeof x === 'object' && !ArrayBuffer.isView(x)) for (const v of Object.values(x)) leaves(v, out, depth + 1);
}

const dimArb = fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.constant(0) });
const valueArb = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-30, 1e6, -1e6) },
);

/** A tensor (or something else where a tensor goes), as a recipe built inside the property. */
const tensorRecipe = (kind: Kind) =>
  fc.record({
    junk: fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: JUNK.length - 1 }) }),
    rank: kind === 'images' ? fc.oneof({ weight: 8, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }) }) : kind === 'embeddings' ? fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }) : kind === 'labels' ? fc.constantFrom(1, 1, 1, 2) : fc.integer({ min: 0, max: 5 }),
    dims: fc.array(dimArb, { minLength: 6, maxLength: 6 }),
    channels: fc.constantFrom(1, 3, 3, 2),
    dtype: fc.oneof({ weight: 8, arbitrary: fc.constant(kind === 'labels' ? 'int32' : 'float32') }, { weight: 1, arbitrary: fc.constantFrom('float32', 'int32', 'bool') }),
    values: fc.array(valueArb, { minLength: 1, maxLength: 8 }),
    special: fc.oneof({ weight: 10, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }),
  });

type Recipe = { junk: number; rank: number; dims: number[]; channels: number; dtype: string; values: number[]; special: number };

function makeTensor(kind: Kind, r: Recipe): unknown {
  if (r.junk >= 0) return JUNK[r.junk];
  const shape = r.dims.slice(0, r.rank);
  if (kind === 'images' && r.rank === 4) shape[3] = r.channels;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = r.values[i % r.values.length]!;
    data[i] = kind === 'images' ? Math.abs(v) / 2 : kind === 'labels' ? Math.abs(Math.round(v * 2)) : v;
  }
  // Special floats inside tensor values: for the arguments whose values are checked (images).
  if (r.special >= 0 && size > 0 && kind === 'images') data[0] = [NaN, Infinity, 1.5][r.special]!;
  return tf.tensor(data, shape, r.dtype as tf.DataType);
}

const numberArb = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -2, max: 24 }) }, { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 1, arbitrary: fc.constantFrom(...JUNK) });
const optionValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 16 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(...JUNK) },
  { weight: 1, arbitrary: fc.constantFrom('throw', 'skip', 'mean', 'sum', 'random', 'zeros', 'split', 'keep', 'torch') },
  { weight: 1, arbitrary: fc.tuple(fc.double({ min: -1, max: 2, noNaN: true }), fc.double({ min: -1, max: 2, noNaN: true })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 })) },
  { weight: 1, arbitrary: fc.boolean() },
);

interface Stats {
  cases: number;
  returned: number;
  refused: number;
  byTarget: Map<string, number>;
  /** One failure per function and kind of problem (the run goes on to find the others). */
  failures: Map<string, string>;
}

function fuzz(backend: string, stats: Stats): void {
  const known = new Map<string, string[]>();
  const simple = (k: Kind): unknown =>
    k === 'images' ? tf.zeros([2, 8, 8, 3]) : k === 'embeddings' ? tf.zeros([4, 3]) : k === 'labels' ? tf.zeros([4], 'int32') : k === 'size2' ? [4, 4] : k === 'tensor' ? tf.zeros([2, 4, 16]) : 2;
  for (const t of TARGETS) known.set(t.name, knownOptions(t, simple));

  const caseArb = fc
    .integer({ min: 0, max: TARGETS.length - 1 })
    .chain((ti) =>
      fc.tuple(
        fc.constant(ti),
        fc.tuple(
          ...TARGETS[ti]!.args.map((k) => {
            if (k === 'int' || k === 'number') return numberArb;
            if (k === 'size2') return fc.oneof({ weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })) }, { weight: 1, arbitrary: fc.constantFrom<unknown>([0, 4], [4], [1e9, 1e9], [NaN, 2], 'x', null, [2.5, 3]) });
            if (k === 'options') {
              const keys = known.get(TARGETS[ti]!.name)!;
              return fc.oneof(
                { weight: 8, arbitrary: keys.length === 0 ? fc.constant({}) : fc.dictionary(fc.constantFrom(...keys), optionValueArb, { maxKeys: 3 }) },
                { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 5, 'x', { unknownOption: 1 }) },
              );
            }
            return tensorRecipe(k);
          }),
        ),
      ),
    );

  fc.assert(
    fc.property(caseArb, ([ti, raw]) => {
      try {
        check(ti, raw as unknown[]);
      } catch (e) {
        const message = (e as Error).message;
        const kind = /threw a raw (\w+)/.exec(message)?.[0] ?? (/leaked|left/.test(message) ? 'leak' : /non-finite|returned (NaN|-?Infinity)/.test(message) ? 'non-finite' : /took/.test(message) ? 'slow' : 'other');
        const key = `${TARGETS[ti]!.name}: ${kind}`;
        if (!stats.failures.has(key)) stats.failures.set(key, message);
      }
      return true;
    }),
    { seed: SEED + (backend === 'wasm' ? 1 : 0), numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
  );

  function check(ti: number, raw: unknown[]): void {
      const target = TARGETS[ti]!;
      const before = tf.memory().numTensors;
      const inputs: tf.Tensor[] = [];
      // NaN or ∞ planted in an image: its function must refuse it, or may pass it through (the output is then not finite either).
      let planted = false;
      const args = target.args.map((k, i) => {
        const r = raw[i];
        if (k === 'int' || k === 'number' || k === 'options' || k === 'size2') return r;
        if (k === 'images' && (r as Recipe).junk < 0 && (r as Recipe).special >= 0 && (r as Recipe).special < 2) planted = true;
        const t = makeTensor(k, r as Recipe);
        if (t instanceof tf.Tensor) inputs.push(t);
        return t;
      });
      const tensorsWithInputs = tf.memory().numTensors;
      stats.cases++;
      stats.byTarget.set(target.name, (stats.byTarget.get(target.name) ?? 0) + 1);
      const describe = () => `${target.name}(${args.map((a) => (a instanceof tf.Tensor ? `${a.dtype}${JSON.stringify(a.shape)}` : (() => { try { return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)); } catch { return String(a); } })())).join(', ')}) on ${backend}`;
      if (TRACE) appendFileSync(TRACE, `${describe()}\n`);
      const started = performance.now();
      let result: unknown;
      try {
        result = target.call(...args);
        if (result instanceof Promise) throw new Error('async target');
      } catch (e) {
        tf.dispose(inputs);
        if (!(e instanceof S.SelfsupError)) throw new Error(`${describe()} threw a raw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
        stats.refused++;
        if (tf.memory().numTensors !== before) throw new Error(`${describe()} threw ${(e as Error).message} and leaked ${tf.memory().numTensors - before} tensors`, { cause: e });
        return;
      }
      stats.returned++;
      const ms = performance.now() - started;
      // A size the function could refuse must not take seconds (generous: the machine may be loaded).
      if (ms > 5000) throw new Error(`${describe()} took ${(ms / 1000).toFixed(1)} s`);
      const found = { tensors: [] as tf.Tensor[], numbers: [] as number[] };
      leaves(result, found);
      const own = found.tensors.filter((x) => !inputs.includes(x));
      for (const x of own) {
        if (!planted && x.dtype === 'float32' && !(x.dataSync() as Float32Array).every(Number.isFinite)) throw new Error(`${describe()} returned a non-finite tensor`);
      }
      if (!planted) for (const n of found.numbers) if (!Number.isFinite(n)) throw new Error(`${describe()} returned ${n}`);
      const extra = tf.memory().numTensors - tensorsWithInputs;
      const distinct = new Set(own.map((x) => x.id)).size;
      tf.dispose(own);
      tf.dispose(inputs);
      if (extra !== distinct) throw new Error(`${describe()} left ${extra - distinct} tensors beyond its result`);
      if (tf.memory().numTensors !== before) throw new Error(`${describe()} leaked ${tf.memory().numTensors - before} tensors`);
  }
  // The backend is usable after everything.
  const probe = tf.add(tf.ones([2]), 1);
  expect(Array.from(probe.dataSync())).toEqual([2, 2]);
  probe.dispose();
}

describe('fuzzing the public API (fast-check)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`every call returns finite results or throws a SelfsupError, leaks nothing, and leaves ${backend} usable`, async () => {
      await useBackend(backend);
      const stats: Stats = { cases: 0, returned: 0, refused: 0, byTarget: new Map(), failures: new Map() };
      try {
        fuzz(backend, stats);
      } finally {
        console.log(
          `[fuzz ${backend}] ${stats.cases} cases (of at most ${RUNS}) over ${stats.byTarget.size} functions in ≤ ${SECONDS} s ` +
            `(${stats.returned} returned finite results, ${stats.refused} refused with a SelfsupError); seed ${SEED}`,
        );
      }
      expect([...stats.failures.values()]).toEqual([]);
      expect(stats.cases).toBeGreaterThan(100);
    }, (SECONDS + 90) * 1000);
  }
});
