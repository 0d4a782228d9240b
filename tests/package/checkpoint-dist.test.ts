/**
 * Checkpoints from the built package, as a user runs them: `selfsup/checkpoint`
 * imported from ESM and required from CommonJS in a consumer that has only
 * selfsup and its peers; one process trains two steps and saves, a second
 * process loads and continues with the losses the first one computed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const SETUP = `
  const make = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
  const step = (task, i) => tf.tidy(() => task.step(tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 100 + i)));
  const dir = process.argv[2];
`;

const SAVE = `
  import * as tf from '@tensorflow/tfjs-core';
  import { SimCLR, mlpEncoder, useBackend } from 'selfsup';
  import { saveCheckpoint } from 'selfsup/checkpoint';
  ${SETUP}
  await useBackend('wasm');
  const task = make();
  step(task, 0);
  step(task, 1);
  await saveCheckpoint(task, dir, { extra: { from: 'esm' } });
  console.log(JSON.stringify([2, 3].map((i) => step(task, i))));
`;

const LOAD = `
  const tf = require('@tensorflow/tfjs-core');
  const { SimCLR, mlpEncoder, useBackend } = require('selfsup');
  const { loadCheckpoint } = require('selfsup/checkpoint');
  ${SETUP}
  (async () => {
    await useBackend('wasm');
    const task = make();
    const { step: at, extra } = await loadCheckpoint(task, dir);
    console.log(JSON.stringify({ at, extra, losses: [2, 3].map((i) => step(task, i)) }));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

let consumer: string;
beforeAll(() => {
  if (!existsSync(join(root, 'dist/checkpoint/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  consumer = mkdtempSync(join(tmpdir(), 'selfsup-ckpt-consumer-'));
  const nm = join(consumer, 'node_modules');
  mkdirSync(join(nm, '@tensorflow'), { recursive: true });
  symlinkSync(root, join(nm, 'selfsup'), 'dir');
  for (const p of ['tfjs-core', 'tfjs-layers', 'tfjs-backend-wasm', 'tfjs-backend-cpu']) {
    symlinkSync(join(root, 'node_modules/@tensorflow', p), join(nm, '@tensorflow', p), 'dir');
  }
  for (const p of ['long', 'seedrandom']) symlinkSync(join(root, 'node_modules', p), join(nm, p), 'dir');
  writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","private":true}');
  writeFileSync(join(consumer, 'save.mjs'), SAVE);
  writeFileSync(join(consumer, 'load.cjs'), LOAD);
});
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

describe('checkpoints from the built package', () => {
  it('an ESM process saves, a CommonJS process resumes exactly', () => {
    const run = (file: string) => {
      const out = execFileSync(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', join(consumer, file), join(consumer, 'ckpt')], {
        cwd: consumer,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return JSON.parse(out.trim().split('\n').pop()!) as unknown;
    };
    const expected = run('save.mjs') as number[];
    const resumed = run('load.cjs') as { at: number; extra: unknown; losses: number[] };
    expect(resumed).toEqual({ at: 2, extra: { from: 'esm' }, losses: expected });
  });
});
