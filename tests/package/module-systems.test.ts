/**
 * The built package works as its users install it: imported from ESM and
 * required from CommonJS, with only tfjs-core + tfjs-layers + tfjs-backend-wasm
 * installed, and beside the @tensorflow/tfjs union package. Gradients must be
 * registered in every case (tfjs-core's Node bundle registers none), and the
 * wasm backend must run on every core (selfsup starts tfjs's threaded build in
 * Node) with the script exiting by itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Trains one step of a tiny tfjs-layers model and takes a gradient: prints JSON.
const BODY = `
  const info = await useBackend('wasm');
  const g = tf.grad((x) => tf.sum(tf.exp(x)))(tf.tensor1d([0, 1])).dataSync();
  const model = layers.sequential({ layers: [layers.layers.dense({ units: 1, inputShape: [2] })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const h = await model.fit(tf.ones([4, 2]), tf.ones([4, 1]), { epochs: 1, verbose: 0 });
  console.log(JSON.stringify({
    backend: info.backend, simd: info.simd, gradients: info.gradients, threads: info.threads, kernelThreads: info.kernelThreads,
    threadsReason: info.threadsReason, g1: g[1], loss: h.history.loss[0],
  }));
`;

const ESM = `
  import * as tf from '@tensorflow/tfjs-core';
  import * as layers from '@tensorflow/tfjs-layers';
  import { useBackend } from 'selfsup';
  ${BODY}
`;

const CJS = `
  const tf = require('@tensorflow/tfjs-core');
  const layers = require('@tensorflow/tfjs-layers');
  const { useBackend } = require('selfsup');
  (async () => { ${BODY} })().catch((e) => { console.error(e); process.exit(1); });
`;

// With the union package, the user's tf namespace is @tensorflow/tfjs.
const UNION = `
  import * as tf from '@tensorflow/tfjs';
  const layers = tf;
  import { useBackend } from 'selfsup/backend';
  ${BODY}
`;

function run(cwd: string, file: string, source: string, preserveSymlinks: boolean): Record<string, unknown> {
  const path = join(cwd, file);
  writeFileSync(path, source);
  const args = preserveSymlinks ? ['--preserve-symlinks', '--preserve-symlinks-main', path] : [path];
  // The default thread count, not the one vitest.config.ts sets for the unit tests.
  const env = { ...process.env };
  delete env['SELFSUP_THREADS'];
  const out = execFileSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 90_000, env });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

function expectTrained(r: Record<string, unknown>): void {
  expect(r).toMatchObject({ backend: 'wasm', simd: true, gradients: true });
  // Every core (tfjs's threaded build started by selfsup's shim from the built code), and the script exited by itself.
  const cores = Math.min(8, availableParallelism());
  expect(r).toMatchObject({ threads: cores, kernelThreads: cores, threadsReason: null });
  expect(r.g1 as number).toBeCloseTo(Math.E, 4);
  expect(Number.isFinite(r.loss as number)).toBe(true);
}

describe('module systems (built dist)', () => {
  let minimal: string;
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    // A consumer whose node_modules holds only selfsup and the three peers (+ their own dependencies).
    minimal = mkdtempSync(join(tmpdir(), 'selfsup-consumer-'));
    const nm = join(minimal, 'node_modules');
    mkdirSync(join(nm, '@tensorflow'), { recursive: true });
    symlinkSync(root, join(nm, 'selfsup'), 'dir');
    for (const p of ['tfjs-core', 'tfjs-layers', 'tfjs-backend-wasm', 'tfjs-backend-cpu']) {
      symlinkSync(join(root, 'node_modules/@tensorflow', p), join(nm, '@tensorflow', p), 'dir');
    }
    for (const p of ['long', 'seedrandom']) symlinkSync(join(root, 'node_modules', p), join(nm, p), 'dir');
    writeFileSync(join(minimal, 'package.json'), '{"name":"consumer","private":true}');
  });
  afterAll(() => rmSync(minimal, { recursive: true, force: true }));

  it('ESM import with only tfjs-core + layers + wasm installed', () => {
    expectTrained(run(minimal, 'esm.mjs', ESM, true));
  });

  it('CommonJS require with only tfjs-core + layers + wasm installed', () => {
    expectTrained(run(minimal, 'cjs.cjs', CJS, true));
  });

  it('ESM beside the @tensorflow/tfjs union package', () => {
    expectTrained(run(root, 'test-output-union.mjs', UNION, false));
    rmSync(join(root, 'test-output-union.mjs'), { force: true });
  });
});
