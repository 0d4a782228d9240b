/**
 * Never broken (issue 16): a call that cannot fit is refused before any work
 * with a ResourceError naming the function, the argument and the numbers,
 * and the backend stays usable — on wasm, where one oversized output used to
 * be written over the heap and break the backend for the rest of the
 * process, and on cpu. A refusal takes microseconds, not minutes.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { expect, it } from 'vitest';
import {
  MoCoV2,
  ResourceError,
  SimCLR,
  assertMemoryFits,
  kMeans,
  memoryBudget,
  mlpEncoder,
  ntXentLoss,
  projectionMlp,
  randomPatchMask,
  randomResizedCrop,
  MemoryBank,
} from 'selfsup';
import { describeBackends } from '../helpers/backends.js';

/** Runs `refused`, expects a ResourceError naming `fn` and `arg`, no leak, and a usable backend after. */
function expectRefused(refused: () => unknown, fn: string, arg: string): ResourceError {
  const before = tf.memory().numTensors;
  const started = performance.now();
  let error: unknown;
  try {
    refused();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  expect(error, `${fn} should refuse`).toBeInstanceOf(ResourceError);
  const e = error as ResourceError;
  expect(e.functionName).toBe(fn);
  expect(e.argument).toBe(arg);
  expect(e.message.startsWith(`${fn}: ${arg} `)).toBe(true);
  expect(e.requiredBytes).toBeGreaterThan(e.availableBytes);
  // Refused before any work: well under a second (the unchecked calls ran for minutes).
  expect(ms).toBeLessThan(2000);
  expect(tf.memory().numTensors).toBe(before);
  // The backend is fine: a normal call succeeds.
  const x = tf.add(tf.ones([2]), 1);
  expect(Array.from(x.dataSync())).toEqual([2, 2]);
  x.dispose();
  return e;
}

describeBackends('memory limits', (backend) => {
  it('memoryBudget reports the capacity, what is in use and what is left', () => {
    const b = memoryBudget();
    expect(b.backend).toBe(backend);
    expect(b.inUseBytes).toBe(tf.memory().numBytes);
    expect(b.availableBytes).toBeGreaterThan(0);
    expect(b.maxTensorBytes).toBeGreaterThan(0);
    if (backend === 'wasm') {
      expect(b.capacityBytes).toBe(2 ** 32 - 2 ** 16);
      expect(b.availableBytes).toBeLessThan(2 ** 32);
      const held = tf.zeros([1024, 1024]);
      expect(memoryBudget().availableBytes).toBe(b.availableBytes - 4 * 1024 * 1024);
      held.dispose();
    }
    console.log(`[${backend}] memory budget: ${JSON.stringify(b)}`);
  });

  it('assertMemoryFits passes what fits and names the argument and the numbers otherwise', () => {
    expect(() => assertMemoryFits('f', 'options.size', [[64, 64], { shape: [8, 8], dtype: 'int32', count: 3 }])).not.toThrow();
    const e = expectRefused(() => assertMemoryFits('f', 'options.size', [[1e6, 1e6]]), 'f', 'options.size');
    expect(e.requiredBytes).toBe(4e12);
    expect(e.message).toMatch(/asks for 3\.64 TiB \(4\.000e\+12 bytes\) of outputs and temporaries, more than the (cpu|wasm) backend can hold: .* available/);
    expectRefused(() => assertMemoryFits('f', 'x', [[NaN]]), 'f', 'x');
  });

  // Issue 16, reproduction 1: on wasm the 1.7 GB output was written through a null pointer and every later call failed.
  it('randomResizedCrop with an output too large for the backend is refused, and the backend stays usable', () => {
    const images = tf.randomUniform([1, 28, 28, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const size = backend === 'wasm' ? 12000 : 200_000;
    const e = expectRefused(() => randomResizedCrop(images, { size, seed: 1 }), 'randomResizedCrop', 'options.size');
    expect(e.message).toContain(`${backend} backend`);
    // A normal crop after the refusal.
    const ok = randomResizedCrop(images, { size: 16, seed: 1 });
    expect(ok.shape).toEqual([1, 16, 16, 3]);
    tf.dispose([images, ok]);
  });

  // Issue 16, reproduction 4: 20,000 × 60,000 (4.8 GB per output) ran for minutes.
  it('randomPatchMask beyond the backend is refused at once', () => {
    const [b, l] = backend === 'wasm' ? [20_000, 60_000] : [2_000_000, 60_000];
    expectRefused(() => randomPatchMask(b, l, { seed: 1 }), 'randomPatchMask', 'batchSize');
    const ok = randomPatchMask(2, 16, { seed: 1 });
    tf.dispose([ok.mask, ok.idsKeep, ok.idsRestore]);
  });

  it('methods refuse heads and queues they cannot hold before building anything (no leak)', () => {
    const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [32], seed: 0 });
    try {
      // Issue 16, reproduction 4: SimCLR hiddenDim 2e8 ran for minutes growing to gigabytes.
      expectRefused(() => new SimCLR(encoder, { hiddenDim: 2e8, seed: 1 }), 'SimCLR', 'options.hiddenDim');
      // MoCoV2 queueSize 1e8 threw a raw "RangeError: Invalid typed array length" and leaked 6 tensors.
      const e = expectRefused(() => new MoCoV2(encoder, { queueSize: 1e8, seed: 1 }), 'MoCoV2', 'options.queueSize');
      expect(e).toBeInstanceOf(ResourceError);
      expectRefused(() => new MemoryBank({ size: 1e8, dim: 128, seed: 1 }), 'MemoryBank', 'options.size');
      expectRefused(() => projectionMlp({ inputDim: 1e6, hiddenDim: 1e6, seed: 1 }), 'projectionMlp', 'options.hiddenDim');
      // And a normal method works after the refusals.
      const ok = new SimCLR(encoder, { projectionDim: 8, seed: 1 });
      expect(Number.isFinite(ok.step(tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D))).toBe(true);
      ok.dispose();
    } finally {
      encoder.dispose();
    }
  });

  it('losses and k-means refuse quadratic temporaries they cannot hold', () => {
    // Zero-copy views: the inputs are small tensors broadcast by shape only in the budget check.
    const n = backend === 'wasm' ? 40_000 : 400_000;
    const z = tf.zeros([n, 1]) as tf.Tensor2D;
    expectRefused(() => ntXentLoss(z, z), 'ntXentLoss', 'z1');
    expectRefused(() => kMeans(z, { k: n, seed: 1 }), 'kMeans', 'options.k');
    z.dispose();
  });

  if (backend === 'wasm') {
    it('a failed allocation inside any wasm kernel throws instead of corrupting the heap', () => {
      const before = tf.memory().numTensors;
      // 4 GiB: more than wasm32 can address. tfjs's own kernel allocates it (no selfsup pre-check on this path).
      expect(() => tf.fill([2 ** 30 + 2 ** 20], 1)).toThrow(ResourceError);
      expect(tf.memory().numTensors).toBe(before);
      const x = tf.add(tf.ones([2]), 1);
      expect(Array.from(x.dataSync())).toEqual([2, 2]);
      x.dispose();
    });
  }
});
