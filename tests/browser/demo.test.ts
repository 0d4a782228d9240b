/**
 * The browser demo (examples/browser/) in a real browser: the page is bundled
 * exactly as `npm run demo:browser` bundles it, served on 127.0.0.1 with the
 * COOP/COEP server of scripts/serve.mjs, and driven in Debian's Chromium
 * through playwright-core. Each method trains a fixed number of steps through
 * the page's `window.selfsupDemo.run` hook (the same code path as the Start
 * button); the test asserts the wasm backend with SIMD, a decreasing loss, a
 * flat tensor count, no console errors, and writes a screenshot to
 * test-output/browser-demo-<method>.png. Skipped (with the reason) where
 * Chromium is not installed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport as DemoRunReport } from '../../examples/browser/main.js';
import { buildBrowserDemo } from '../../scripts/build-browser-demo.js';
import { serve } from '../../scripts/serve.mjs';
import { chromiumAvailable, chromiumMissing, launchChromium } from '../helpers/chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = join(root, 'test-output');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-demo-'));
let server: { url: string; close(): Promise<void> } | undefined;

/** What the page's run hook reports, plus the timer ticks the test counts while it trains. */
interface RunReport extends DemoRunReport {
  /** Timer callbacks that ran while the page trained (responsiveness). */
  uiTicks: number;
}

beforeAll(async () => {
  if (!chromiumAvailable) return;
  await buildBrowserDemo(dir);
  server = await serve(dir);
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Opens the page, runs `steps` training steps of `method`, and screenshots the page. */
async function runDemo(method: string, steps: number, batchSize: number): Promise<{ report: RunReport; errors: string[] }> {
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1120, height: 900 });
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server!.url);
    await page.waitForFunction(() => 'selfsupDemo' in window, null, { timeout: 60_000 });
    const report = (await page.evaluate(async ([m, s, b]) => {
      // A timer that only fires when the page's event loop is free: training must yield to it between steps.
      let uiTicks = 0;
      const timer = setInterval(() => uiTicks++, 10);
      const demo = (window as unknown as { selfsupDemo: { run(m: string, s: number, b: number): Promise<object> } }).selfsupDemo;
      const result = await demo.run(m, s, b);
      clearInterval(timer);
      return { ...result, uiTicks };
    }, [method, steps, batchSize] as const)) as RunReport;
    mkdirSync(outputDir, { recursive: true });
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(join(outputDir, `browser-demo-${method}.png`), png);
    writeFileSync(join(outputDir, `browser-demo-${method}.json`), `${JSON.stringify(report, null, 2)}\n`);
    return { report, errors };
  } finally {
    await browser.close();
  }
}

const skipNote = chromiumAvailable ? '' : ` (skipped: ${chromiumMissing})`;

/** The page's status line and its class, once the page has had `ms` to start (or to fail). */
async function statusAfterLoad(url: string, ms = 1500): Promise<{ text: string; className: string }> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.waitForTimeout(ms);
    return await page.evaluate(() => {
      const el = document.getElementById('status')!;
      return { text: el.textContent ?? '', className: el.className };
    });
  } finally {
    await browser.close();
  }
}

describe('the browser demo in Chromium', () => {
  it.skipIf(!chromiumAvailable)(`opened from disk (file://), it says it must be served and how, instead of "Loading…"${skipNote}`, async () => {
    const { text, className } = await statusAfterLoad(pathToFileURL(join(dir, 'index.html')).href);
    expect(className).toBe('error');
    expect(text).toContain('cannot start from a file opened from disk');
    expect(text).toContain('npm run docs:serve');
  });

  it.skipIf(!chromiumAvailable)(`served without its script, it says the script could not be loaded${skipNote}`, async () => {
    const bare = mkdtempSync(join(tmpdir(), 'selfsup-demo-bare-'));
    copyFileSync(join(dir, 'index.html'), join(bare, 'index.html'));
    const bareServer = await serve(bare);
    try {
      const { text, className } = await statusAfterLoad(bareServer.url);
      expect(className).toBe('error');
      expect(text).toContain("The demo's script (app.js) could not be loaded.");
    } finally {
      await bareServer.close();
      rmSync(bare, { recursive: true, force: true });
    }
  });

  for (const [method, steps] of [
    ['simclr', 40],
    ['rotation', 40],
  ] as const) {
    it.skipIf(!chromiumAvailable)(`trains ${method} for ${steps} steps on wasm + SIMD, loss down, tensors flat${skipNote}`, async () => {
      const { report, errors } = await runDemo(method, steps, 64);
      expect(errors).toEqual([]);
      expect(report.backend).toBe('wasm');
      expect(report.simd).toBe(true);
      // scripts/serve.mjs sends COOP/COEP: every core (at most 8), for tfjs and selfsup's kernels, and the page says so.
      const cores = Math.min(8, report.cores);
      expect(report).toMatchObject({ threads: cores, kernelThreads: cores, threadsReason: null });
      expect(report.backendText).toBe(`wasm + SIMD, ${cores} thread${cores === 1 ? '' : 's'}`);
      expect(report.losses).toHaveLength(steps);
      expect(report.losses.every(Number.isFinite)).toBe(true);
      // Loss decreased: the mean of the last quarter is below the mean of the first quarter.
      const q = Math.floor(steps / 4);
      expect(mean(report.losses.slice(-q))).toBeLessThan(mean(report.losses.slice(0, q)));
      // Tensor count flat: after the first steps (optimizer slots, lazily built state) it never grows.
      const settled = report.tensorCounts.slice(5);
      expect(Math.max(...settled)).toBe(Math.min(...settled));
      expect(report.stepsPerSecond).toBeGreaterThan(0);
      // The page stayed responsive: the UI ran between training steps.
      expect(report.uiTicks).toBeGreaterThanOrEqual(steps / 2);
      expect(report.knnTrained).toBeGreaterThan(0.1);
      console.log(
        `browser demo ${method}: ${report.stepsPerSecond.toFixed(2)} steps/s (batch 64, ${report.threads} thread(s)), ` +
          `loss ${report.losses[0]!.toFixed(3)} → ${report.losses.at(-1)!.toFixed(3)}, ` +
          `kNN ${(100 * report.knnRandomInit).toFixed(1)}% → ${(100 * report.knnTrained).toFixed(1)}%`,
      );
    });
  }
});
