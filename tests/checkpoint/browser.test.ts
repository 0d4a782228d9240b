/**
 * Checkpoints in a browser: a page bundled with esbuild from selfsup's
 * sources trains SimCLR for two steps in Debian's Chromium, keeps
 * `encodeCheckpoint`'s result in IndexedDB as it is, and after a reload (a
 * fresh page, the same profile) a new task decodes it and continues with the
 * losses the first page computed. The bundle must build for the browser (no
 * `node:` import). Skipped, with the reason, where Chromium is not installed.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { servePageScript, type PageServer } from '../helpers/page-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { SimCLR, mlpEncoder, encodeCheckpoint, decodeCheckpoint, useBackend } from '${join(root, 'src/index.ts')}';

function inStore(mode, use) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('selfsup-checkpoints', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('runs');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('runs', mode);
      const request = use(tx.objectStore('runs'));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    };
  });
}
const make = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
const step = (task, i) => tf.tidy(() => task.step(tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 100 + i)));

window.save = async () => {
  try {
    await useBackend('cpu');
    const task = make();
    step(task, 0);
    step(task, 1);
    const data = await encodeCheckpoint(task, { extra: { page: 'first' } });
    await inStore('readwrite', (store) => store.put(data, 'run-1'));
    return { losses: [2, 3, 4].map((i) => step(task, i)) };
  } catch (e) {
    return { error: String((e && e.stack) || e) };
  }
};

window.resume = async () => {
  try {
    await useBackend('cpu');
    const data = await inStore('readonly', (store) => store.get('run-1'));
    const task = make();
    const { step: at, extra } = decodeCheckpoint(task, data);
    return { step: at, extra, weights: data.weights.constructor.name, losses: [2, 3, 4].map((i) => step(task, i)) };
  } catch (e) {
    return { error: String((e && e.stack) || e) };
  }
};
`;

let server: PageServer | undefined;
let base = '';

beforeAll(async () => {
  if (!chromiumAvailable) return;
  server = await servePageScript(PAGE_SCRIPT);
  base = server.base;
}, 120_000);

afterAll(() => {
  server?.close();
});

interface PageResult {
  error?: string;
  losses?: number[];
  step?: number;
  extra?: unknown;
  weights?: string;
}

describe('checkpoints in Chromium', () => {
  it.skipIf(!chromiumAvailable)('IndexedDB keeps encodeCheckpoint’s result; a reloaded page resumes exactly', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const call = async (name: 'save' | 'resume'): Promise<PageResult> => {
        await page.waitForFunction((n) => typeof (window as unknown as Record<string, unknown>)[n] === 'function', name, { timeout: 60_000 });
        return (await page.evaluate((n) => (window as unknown as Record<string, () => Promise<unknown>>)[n]!(), name)) as PageResult;
      };
      await page.goto(base);
      const first = await call('save');
      expect(first.error).toBeUndefined();
      await page.reload();
      const second = await call('resume');
      expect(second.error).toBeUndefined();
      expect(second).toMatchObject({ step: 2, extra: { page: 'first' }, weights: 'Uint8Array' });
      expect(second.losses).toEqual(first.losses);
    } finally {
      await browser.close();
    }
  });

  it.skipIf(chromiumAvailable)(`skipped: ${chromiumMissing}`, () => undefined);
});
