/**
 * The kernels travel with the package and work in a browser: a page bundled
 * with esbuild (selfsup's sources + tfjs) runs in Debian's Chromium, trains a
 * conv gradient and an NT-Xent loss (fused kernels) on wasm with selfsup's
 * kernels and compares them with the cpu backend in the same page. Twice: on
 * a normal page (tfjs's single-threaded SIMD build, plain memory) and on a
 * cross-origin-isolated page, where tfjs loads its threaded build on a
 * shared WebAssembly.Memory and selfsup must use its shared-memory module
 * variant. Skipped (with the reason) where Chromium
 * is not installed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { servePageScript, type PageServer } from '../helpers/page-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/');
const kernelDir = join(root, 'src/kernels/generated/');
const available = chromiumAvailable;

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { backendInfo, useBackend } from '${join(root, 'src/backend/use-backend.ts')}';
import { backendMemory, kernelThreadInfo, setKernelSplitForTesting } from '${join(root, 'src/kernels/wasm-runtime.ts')}';
import { ntXentLoss } from '${join(root, 'src/losses/nt-xent.ts')}';
import { convEncoder } from '${join(root, 'src/heads/conv-encoder.ts')}';
import { SimCLR } from '${join(root, 'src/tasks/simclr.ts')}';

async function grads(backend) {
  await useBackend(backend, backend === 'wasm' ? { wasmPaths: '/wasm/' } : {});
  return tf.tidy(() => {
    const x = tf.randomUniform([2, 9, 11, 5], -1, 1, 'float32', 1);
    const w = tf.randomUniform([3, 3, 5, 8], -1, 1, 'float32', 2);
    const d = tf.randomUniform([3, 3, 8, 2], -1, 1, 'float32', 3);
    const f = (xx, ww, dd) => tf.sum(tf.square(tf.depthwiseConv2d(tf.relu(tf.conv2d(xx, ww, 2, 'same')), dd, 1, 'same', 'NHWC', 2)));
    return tf.grads(f)([x, w, d]).map((g) => Array.from(g.dataSync()));
  });
}

// NT-Xent forward + backward: selfsup's fused kernel on wasm, the tfjs composition on cpu.
async function lossGrads(backend) {
  await useBackend(backend, backend === 'wasm' ? { wasmPaths: '/wasm/' } : {});
  return tf.tidy(() => {
    const a = tf.randomUniform([7, 5], -1, 1, 'float32', 4);
    const b = tf.randomUniform([7, 5], -1, 1, 'float32', 5);
    const f = (x, y) => ntXentLoss(x, y, { temperature: 0.2 });
    return [[f(a, b).dataSync()[0]], ...tf.grads(f)([a, b]).map((g) => Array.from(g.dataSync()))];
  });
}

// Threads: the default count, then selfsup's kernels at 1 thread vs all (bits), then a SimCLR step at all threads vs 1.
function bitsOf(tensors) {
  return tensors.map((t) => Array.from(new Uint32Array(t.dataSync().slice().buffer)));
}
function sameBits(a, b) {
  return a.length === b.length && a.every((x, i) => x.length === b[i].length && x.every((v, j) => v === b[i][j]));
}
function kernelOutputs() {
  return tf.tidy(() => {
    const x = tf.randomUniform([4, 16, 16, 8], -1, 1, 'float32', 1);
    const w = tf.randomUniform([3, 3, 8, 16], -1, 1, 'float32', 2);
    const f = (xx, ww) => tf.sum(tf.square(tf.relu(tf.conv2d(xx, ww, 1, 'same'))));
    const a = tf.randomUniform([64, 24], -1, 1, 'float32', 3);
    const b = tf.randomUniform([64, 24], -1, 1, 'float32', 4);
    const g = (p, q) => ntXentLoss(p, q, { temperature: 0.1 });
    // A weight gradient's product: k = 600 in blocks of 256, a transposed and read in place.
    const prod = tf.matMul(tf.randomUniform([600, 40], -1, 1, 'float32', 5), tf.randomUniform([600, 24], -1, 1, 'float32', 6), true, false);
    return bitsOf([...tf.grads(f)([x, w]), g(a, b), ...tf.grads(g)([a, b]), prod]);
  });
}
async function simclrStep(threads) {
  await useBackend('wasm', { wasmPaths: '/wasm/', ...(threads ? { threads } : {}) });
  const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], batchNorm: true, seed: 3 });
  const task = new SimCLR(encoder, { projectionDim: 8, seed: 1 });
  const images = tf.randomUniform([16, 16, 16, 1], 0, 1, 'float32', 5);
  const losses = [task.step(images), task.step(images)];
  const weights = bitsOf(encoder.getWeights());
  images.dispose();
  task.dispose();
  encoder.dispose();
  return { losses, weights };
}

window.threads = async () => {
  try {
    const info = await useBackend('wasm', { wasmPaths: '/wasm/' });
    const backend = tf.findBackend('wasm');
    const report = {
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated: self.crossOriginIsolated === true,
      threads: info.threads,
      kernelThreads: info.kernelThreads,
      threadsReason: info.threadsReason,
      kernelsSimd: info.kernelsSimd,
      sharedMemory: typeof SharedArrayBuffer !== 'undefined' && backendMemory(backend).buffer instanceof SharedArrayBuffer,
    };
    if (info.threads > 1) {
      setKernelSplitForTesting({ minWork: 0, maxThreads: 1 });
      const one = kernelOutputs();
      setKernelSplitForTesting({ minWork: 0 });
      const before = kernelThreadInfo(backend).pooledCalls;
      const all = kernelOutputs();
      report.pooledCalls = kernelThreadInfo(backend).pooledCalls - before;
      setKernelSplitForTesting(undefined);
      report.sameKernelBits = sameBits(one, all);
      const many = await simclrStep();
      const single = await simclrStep(1);
      report.singleThreads = backendInfo().threads;
      report.sameStepLosses = many.losses.every((l, i) => Object.is(l, single.losses[i])) && many.losses.every(Number.isFinite);
      report.sameStepWeights = sameBits(many.weights, single.weights);
    }
    return report;
  } catch (e) {
    return { error: String(e && e.stack || e) };
  }
};

window.run = async () => {
  try {
    const wasmLoss = await lossGrads('wasm');
    const cpuLoss = await lossGrads('cpu');
    let lossErr = 0;
    wasmLoss.forEach((g, i) => g.forEach((v, j) => { lossErr = Math.max(lossErr, Math.abs(v - cpuLoss[i][j]) / (1 + Math.abs(cpuLoss[i][j]))); }));
    const wasm = await grads('wasm');
    const info = { kernels: (await import('${join(root, 'src/kernels/register.ts')}')).registeredTrainingKernels('wasm'), kernelsSimd: backendInfo().kernelsSimd };
    const backend = tf.findBackend('wasm');
    info.sharedMemory = typeof SharedArrayBuffer !== 'undefined' && backendMemory(backend).buffer instanceof SharedArrayBuffer;
    info.threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
    const cpu = await grads('cpu');
    let maxErr = 0;
    wasm.forEach((g, i) => g.forEach((v, j) => { maxErr = Math.max(maxErr, Math.abs(v - cpu[i][j]) / (1 + Math.abs(cpu[i][j]))); }));
    return { ...info, maxErr, lossErr, sizes: wasm.map((g) => g.length) };
  } catch (e) {
    return { error: String(e && e.stack || e) };
  }
};
`;

let server: PageServer | undefined;
let base = '';

beforeAll(async () => {
  if (!available) return;
  server = await servePageScript(PAGE_SCRIPT, (url, req, res) => {
    if (url.searchParams.get('coi') === '1' || req.headers.referer?.includes('coi=1')) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (!(url.pathname.startsWith('/wasm/') && url.pathname.endsWith('.wasm'))) return false;
    // tfjs's .wasm files and selfsup's kernel modules served side by side, as users are told to.
    const file = url.pathname.slice('/wasm/'.length).replace(/[^\w.-]/g, '');
    res.setHeader('Content-Type', 'application/wasm');
    res.end(readFileSync(join(file.startsWith('selfsup-') ? kernelDir : wasmDir, file)));
    return true;
  });
  base = server.base;
}, 60_000);

afterAll(() => {
  server?.close();
});

interface PageResult {
  error?: string;
  kernels?: string[];
  kernelsSimd?: string | null;
  sharedMemory?: boolean;
  threads?: number;
  maxErr?: number;
  lossErr?: number;
  sizes?: number[];
}

interface ThreadsResult {
  error?: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  threads: number;
  kernelThreads: number;
  threadsReason: string | null;
  kernelsSimd: string | null;
  sharedMemory: boolean;
  pooledCalls?: number;
  sameKernelBits?: boolean;
  singleThreads?: number;
  sameStepLosses?: boolean;
  sameStepWeights?: boolean;
}

async function runPage<T = PageResult>(query: string, hook: 'run' | 'threads' = 'run'): Promise<T> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${base}${query}`);
    await page.waitForFunction(() => typeof (window as unknown as { run?: unknown }).run === 'function', null, { timeout: 60_000 });
    return (await page.evaluate((name) => (window as unknown as Record<string, () => Promise<unknown>>)[name]!(), hook)) as T;
  } finally {
    await browser.close();
  }
}

const why = chromiumMissing;

describe('selfsup kernels in Chromium', () => {
  it.skipIf(!available)(`train a conv gradient and a fused NT-Xent loss on a normal page (plain memory)${available ? '' : ` (skipped: ${why})`}`, async () => {
    const r = await runPage('');
    expect(r.error).toBeUndefined();
    expect(r.kernels).toContain('Conv2DBackpropFilter');
    expect(r.kernels).toContain('SelfsupNtXent');
    // Chromium ≥ 114 has relaxed SIMD: the relaxed build runs (Debian's Chromium is newer).
    expect(r.kernelsSimd).toBe('relaxed');
    expect(r.sharedMemory).toBe(false);
    expect(r.maxErr).toBeLessThan(1e-4);
    expect(r.lossErr).toBeLessThan(1e-5);
    expect(r.sizes).toEqual([2 * 9 * 11 * 5, 3 * 3 * 5 * 8, 3 * 3 * 8 * 2]);
  });

  it.skipIf(!available)(`train a conv gradient and a fused NT-Xent loss on a cross-origin-isolated page (tfjs threads, shared memory)${available ? '' : ` (skipped: ${why})`}`, async () => {
    const r = await runPage('?coi=1');
    expect(r.error).toBeUndefined();
    expect(r.kernels).toContain('Conv2DBackpropFilter');
    // tfjs loaded its threaded build, with all cores (not tfjs's own cap of half of them).
    expect(r.sharedMemory).toBe(true);
    expect(r.kernelsSimd).toBe('relaxed');
    expect(r.threads).toBeGreaterThanOrEqual(1);
    expect(r.maxErr).toBeLessThan(1e-4);
    expect(r.lossErr).toBeLessThan(1e-5);
  });

  it.skipIf(!available)(`run on one thread, saying why, on a page that is not cross-origin isolated${available ? '' : ` (skipped: ${why})`}`, async () => {
    const r = await runPage<ThreadsResult>('', 'threads');
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ crossOriginIsolated: false, threads: 1, kernelThreads: 1, sharedMemory: false });
    if (r.hardwareConcurrency > 1) expect(r.threadsReason).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy/);
  });

  it.skipIf(!available)(
    `use every core on a cross-origin-isolated page, with the same bits as on one thread${available ? '' : ` (skipped: ${why})`}`,
    async () => {
      const r = await runPage<ThreadsResult>('?coi=1', 'threads');
      expect(r.error).toBeUndefined();
      const cores = Math.min(8, r.hardwareConcurrency);
      // The relaxed-SIMD build on shared memory, in selfsup's pool too.
      expect(r).toMatchObject({ crossOriginIsolated: true, threads: cores, kernelThreads: cores, sharedMemory: true, threadsReason: null, kernelsSimd: 'relaxed' });
      if (cores > 1) {
        expect(r.pooledCalls).toBeGreaterThan(0);
        expect(r.sameKernelBits).toBe(true);
        expect(r.singleThreads).toBe(1);
        expect(r.sameStepLosses).toBe(true);
        expect(r.sameStepWeights).toBe(true);
      }
    },
  );
});
