/**
 * Threads of the wasm backend in Node: tfjs's threaded SIMD build through
 * selfsup's shim, the thread count asked for (default: the cores
 * available), one thread on request, the backend re-created for another
 * count, the fail-soft paths (a bundle the shim does not recognise, a worker
 * that cannot load: one thread and the reason), a script that exits by
 * itself, and a SimCLR training step with the same results at 2 threads and
 * at 1.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { convEncoder, SimCLR } from 'selfsup';
import { BackendError } from '../../src/core/errors.js';
import { backendInfo, overrideNodeBundleFactsForTesting, useBackend } from '../../src/backend/use-backend.js';
import { inspectNodeRuntime, type BundleFacts } from '../../src/backend/node-wasm-threads.js';
import { defaultThreadCount, THREADS_ENV } from '../../src/backend/wasm-threads.js';
import { backendMemory, isSharedMemory, kernelThreadInfo, type WasmBackendLike } from '../../src/kernels/wasm-runtime.js';
import { classicWorkerExecArgv } from '../../src/kernels/thread-pool.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = () => isSharedMemory(backendMemory(tf.findBackend('wasm') as unknown as WasmBackendLike));

afterAll(async () => {
  overrideNodeBundleFactsForTesting(undefined);
  await useBackend('cpu');
});

/** Three SimCLR steps of a conv encoder with batch norm at batch 32: the losses and every weight afterwards. */
function simclrSteps(): { losses: number[]; weights: Float32Array[] } {
  const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [16, 32], batchNorm: true, seed: 3 });
  const task = new SimCLR(encoder, { projectionDim: 16, seed: 1 });
  const images = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const losses = [0, 1, 2].map(() => task.step(images));
  const weights = encoder.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  images.dispose();
  task.dispose();
  encoder.dispose();
  return { losses, weights };
}

describe('wasm threads in Node', () => {
  it('default to the cores available, on a shared memory, for tfjs and selfsup alike', async () => {
    // vitest.config.ts sets SELFSUP_THREADS=1 for the other tests; without it the default is every core.
    const saved = process.env[THREADS_ENV];
    delete process.env[THREADS_ENV];
    try {
      const info = await useBackend('wasm');
      const expected = Math.min(availableParallelism(), 8);
      expect(info).toMatchObject({ backend: 'wasm', simd: true, threads: expected, kernelThreads: expected });
      expect(info.threadsReason).toBe(availableParallelism() > 8 ? expect.stringContaining('at most 8 threads') : null);
      expect(shared()).toBe(expected > 1);
    } finally {
      if (saved === undefined) delete process.env[THREADS_ENV];
      else process.env[THREADS_ENV] = saved;
    }
  });

  it('take their default from SELFSUP_THREADS where it is set, and explain a bad value', async () => {
    const saved = process.env[THREADS_ENV];
    try {
      process.env[THREADS_ENV] = '1';
      expect(defaultThreadCount()).toBe(1);
      process.env[THREADS_ENV] = '3';
      expect(defaultThreadCount()).toBe(3);
      for (const bad of ['0', '-2', '1.5', 'all']) {
        process.env[THREADS_ENV] = bad;
        expect(defaultThreadCount()).toBe(`the environment variable SELFSUP_THREADS must be an integer ≥ 1, got '${bad}'`);
      }
    } finally {
      if (saved === undefined) delete process.env[THREADS_ENV];
      else process.env[THREADS_ENV] = saved;
    }
  });

  it('take the single-threaded build for threads: 1 and the threaded one again for 2 (re-created when nothing lives on it)', async () => {
    expect((await useBackend('wasm', { threads: 1 })).threads).toBe(1);
    expect(shared()).toBe(false);
    expect(backendInfo()).toMatchObject({ threads: 1, kernelThreads: 1, threadsReason: null });
    const info = await useBackend('wasm', { threads: 2 });
    expect(info).toMatchObject({ threads: 2, kernelThreads: 2, threadsReason: null });
    expect(shared()).toBe(true);
    // The same count again, or none: the backend stays.
    const backend = tf.findBackend('wasm');
    await useBackend('wasm');
    await useBackend('wasm', { threads: 2 });
    expect(tf.findBackend('wasm')).toBe(backend);
  });

  it('refuse another thread count while tensors live on the backend', async () => {
    await useBackend('wasm', { threads: 2 });
    const x = tf.ones([2]);
    await expect(useBackend('wasm', { threads: 1 })).rejects.toThrow(BackendError);
    await expect(useBackend('wasm', { threads: 1 })).rejects.toThrow(/runs 2 thread\(s\).*1 tensor\(s\)/);
    expect(backendInfo().threads).toBe(2);
    expect(tf.tidy(() => Array.from(tf.add(x, x).dataSync()))).toEqual([2, 2]);
    x.dispose();
  });

  it('give a SimCLR training step the same results at 2 threads and at 1', async () => {
    await useBackend('wasm', { threads: 2 });
    const two = simclrSteps();
    // selfsup's kernels did split work over its pool (tfjs's XNNPACK ops over tfjs's).
    expect(kernelThreadInfo(tf.findBackend('wasm') as unknown as WasmBackendLike).pooledCalls).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(0);
    await useBackend('wasm', { threads: 1 });
    const one = simclrSteps();
    expect(two.losses.every(Number.isFinite)).toBe(true);
    expect(two.losses).toEqual(one.losses);
    two.weights.forEach((w, i) => expect(Array.from(w), `weight ${i}`).toEqual(Array.from(one.weights[i]!)));
  });

  it('fall back to one thread, with the reason, when the bundle has names the shim cannot resolve', async () => {
    const facts = inspectNodeRuntime() as BundleFacts;
    expect(typeof facts).toBe('object');
    await useBackend('wasm', { threads: 1 });
    overrideNodeBundleFactsForTesting({ path: facts.path, requires: new Map() });
    try {
      const info = await useBackend('wasm', { threads: 2 });
      expect(info.threads).toBe(1);
      expect(info.kernelThreads).toBe(1);
      expect(info.threadsReason).toMatch(/^threads are off: .*require\$\$\d+.*not supported/);
      expect(shared()).toBe(false);
      expect(tf.tidy(() => Array.from(tf.add(tf.ones([2]), 1).dataSync()))).toEqual([2, 2]);
    } finally {
      overrideNodeBundleFactsForTesting(undefined);
    }
  });

  it('fall back to one thread, with the reason, when a tfjs worker cannot load', async () => {
    const facts = inspectNodeRuntime() as BundleFacts;
    const requires = new Map([...facts.requires].map(([name]) => [name, 'selfsup-no-such-module']));
    await useBackend('wasm', { threads: 1 });
    overrideNodeBundleFactsForTesting({ path: facts.path, requires });
    try {
      const info = await useBackend('wasm', { threads: 2 });
      expect(info.threads).toBe(1);
      expect(info.threadsReason).toMatch(/^threads are off: a tfjs pthread worker could not load: .*selfsup-no-such-module/);
      expect(tf.tidy(() => Array.from(tf.add(tf.ones([3]), 1).dataSync()))).toEqual([2, 2, 2]);
    } finally {
      overrideNodeBundleFactsForTesting(undefined);
    }
  });

  it('let a script that trains on 2 threads exit by itself', () => {
    // The count comes from SELFSUP_THREADS here, through the default.
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { useBackend, ntXentLoss } from '${root}src/index.ts';
      const info = await useBackend('wasm');
      const a = tf.randomNormal([256, 64], 0, 1, 'float32', 1);
      const b = tf.randomNormal([256, 64], 0, 1, 'float32', 2);
      const g = tf.grads((x, y) => ntXentLoss(x, y))([a, b]);
      console.log(JSON.stringify({ threads: info.threads, kernelThreads: info.kernelThreads, finite: Number.isFinite(g[0].dataSync()[0]) }));
    `;
    const started = Date.now();
    // A V8 option beside --input-type=module: workers get Node's options without either (a worker refuses V8 options).
    const r = spawnSync(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, [THREADS_ENV]: '2' },
    });
    expect(r.error, 'the script did not exit within 60 s').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ threads: 2, kernelThreads: 2, finite: true });
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("start their workers with the parent's options, less module-type and V8 options", () => {
    const saved = process.execArgv;
    try {
      process.execArgv = ['--experimental-wasm-relaxed-simd', '--import', 'tsx'];
      expect(classicWorkerExecArgv()).toBeUndefined(); // inherited as they are
      process.execArgv = ['--max-old-space-size=4096', '--import', 'tsx', '--input-type', 'module', '--experimental-wasm-relaxed-simd', '-e', 'code'];
      expect(classicWorkerExecArgv()).toEqual(['--import', 'tsx']);
    } finally {
      process.execArgv = saved;
    }
  });

  it('refuse a SELFSUP_THREADS that is not a positive integer, naming it', () => {
    const script = `
      import { useBackend } from '${root}src/index.ts';
      await useBackend('wasm');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, [THREADS_ENV]: 'all' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("useBackend: the environment variable SELFSUP_THREADS must be an integer ≥ 1, got 'all'");
  });
});
