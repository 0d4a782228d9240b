/**
 * The browser side of the data pipeline in Debian's Chromium: a folder picked
 * with <input type=file webkitdirectory> (imageFiles, the same conventions
 * and bad-file handling as imageFolder), image URLs (imageUrls), images on
 * the page (imageElements), all decoded by the browser; and models saved to
 * IndexedDB and loaded back (saveModel / loadModel with tfjs's handlers).
 * The page bundles selfsup's sources and examples/browser/own-images.ts (the
 * guide's browser snippet). Skipped (with the reason) where Chromium is not
 * installed.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../scripts/serve.mjs';
import { chromiumAvailable, chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { loadFixture } from '../helpers/fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-data-page-'));
let server: { url: string; close(): Promise<void> } | undefined;
const expected = loadFixture<{ width: number; height: number; formats: Record<string, number[]> }>('images');

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { imageFiles, imageUrls, imageElements } from '${join(root, 'src/data/index.ts')}';
import { saveModel, loadModel } from '${join(root, 'src/io/index.ts')}';
import { tinyVit, VisionTransformer } from '${join(root, 'src/heads/index.ts')}';
import { pretrainOnFolder } from '${join(root, 'examples/browser/own-images.ts')}';

const warnings = [];
const onWarning = (w) => warnings.push({ kind: w.kind, files: w.files.map((f) => f.name) });
const drain = async (dataset, options) => {
  const out = [];
  for await (const b of dataset.batches(options)) {
    out.push({ shape: b.images.shape, indices: Array.from(b.indices), labels: b.labels ? Array.from(b.labels.dataSync()) : null });
    b.dispose();
  }
  return out;
};

window.runFolder = async () => {
  await tf.setBackend('cpu');
  const files = document.querySelector('#folder').files;
  const dataset = await imageFiles(files, { size: 8, onWarning });
  const batches = await drain(dataset, { batchSize: 4, seed: 3, epochs: 2 });
  const result = { length: dataset.length, names: dataset.names, classNames: dataset.classNames, labels: Array.from(dataset.labels), batches,
    skipped: dataset.skipped, warnings: warnings.splice(0), tensors: tf.memory().numTensors };
  dataset.dispose();
  return result;
};

window.runUrls = async (names) => {
  await tf.setBackend('cpu');
  const urls = [...names.map((n) => 'images/' + n), 'images/missing.png'];
  const dataset = await imageUrls(urls, { size: [${expected.height}, ${expected.width}], fit: 'fill', onWarning });
  const { images, indices } = await dataset.load();
  const gray = await imageUrls(['images/rgb.png'], { size: 4, channels: 1 });
  const g = await gray.load();
  const result = { shape: images.shape, indices: Array.from(indices), values: Array.from(images.dataSync()), grayShape: g.images.shape, warnings: warnings.splice(0) };
  tf.dispose([images, g.images]);
  return result;
};

window.runElements = async () => {
  await tf.setBackend('cpu');
  const canvas = document.createElement('canvas');
  canvas.width = 40; canvas.height = 20;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgb(255, 0, 0)'; ctx.fillRect(0, 0, 20, 20);
  ctx.fillStyle = 'rgb(0, 0, 255)'; ctx.fillRect(20, 0, 20, 20);
  const bitmap = await createImageBitmap(canvas);
  const data = ctx.getImageData(0, 0, 40, 20);
  const img = new Image(); img.src = 'images/rgb.png'; await img.decode();
  const dataset = await imageElements([canvas, bitmap, data, img], { size: 4, fit: 'fill', labels: [0, 0, 1, 1], classNames: ['drawn', 'loaded'] });
  const { images, labels } = await dataset.load();
  const result = { shape: images.shape, labels: Array.from(labels.dataSync()), first: Array.from(images.dataSync().slice(0, 3)), lastOfRow: Array.from(images.dataSync().slice(9, 12)) };
  tf.dispose([images, labels]);
  return result;
};

window.runModels = async () => {
  await tf.setBackend('cpu');
  const files = document.querySelector('#folder').files;
  const { classes, losses, model } = await pretrainOnFolder(files, 3);
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1);
  const features = model.predict(x).shape;
  const vit = tinyVit({ imageSize: 8, channels: 3, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 0 });
  await saveModel(vit, 'indexeddb://vit');
  const loaded = await loadModel('indexeddb://vit');
  const y = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 2);
  const diff = tf.max(tf.abs(tf.sub(vit.apply(y), loaded.apply(y)))).dataSync()[0];
  const stored = Object.keys(await tf.io.listModels());
  return { classes, losses, features, isVit: loaded instanceof VisionTransformer, diff, stored };
};
window.ready = true;
`;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  const result = await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    alias: { selfsup: join(root, 'src/index.ts') },
  });
  writeFileSync(join(dir, 'app.js'), result.outputFiles[0]!.text);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><input id="folder" type="file" webkitdirectory multiple><script type="module" src="app.js"></script>');
  cpSync(join(root, 'tests/fixtures/images/formats'), join(dir, 'images'), { recursive: true });
  cpSync(join(root, 'tests/fixtures/images/classes/triangle/corrupt.png'), join(dir, 'images', 'corrupt.png'));
  server = await serve(dir);
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withPage<T>(fn: (page: import('playwright-core').Page) => Promise<T>): Promise<{ value: T; errors: string[] }> {
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server!.url);
    await page.waitForFunction(() => 'ready' in window, null, { timeout: 60_000 });
    await page.setInputFiles('#folder', join(root, 'tests/fixtures/images/classes'));
    return { value: await fn(page), errors };
  } finally {
    await browser.close();
  }
}

const skipNote = chromiumAvailable ? '' : ` (skipped: ${chromiumMissing})`;

describe(`image datasets in Chromium${skipNote}`, () => {
  it.runIf(chromiumAvailable)('imageFiles reads a picked folder as imageFolder does: classes, order, bad files skipped and named', async () => {
    const { value, errors } = await withPage((page) => page.evaluate(() => (window as unknown as { runFolder(): Promise<Record<string, unknown>> }).runFolder()));
    expect(errors).toEqual([]);
    expect(value.classNames).toEqual(['circle', 'square', 'triangle']);
    expect(value.names).toEqual([
      'circle/circle-0.png',
      'circle/circle-1.jpg',
      'circle/circle-2.png',
      'circle/nested/deep.png',
      'square/animation.gif', // browsers decode GIF (imageFolder in Node skips it)
      'square/square-0.png',
      'square/square-1.jpg',
      'square/truncated.jpg',
      'triangle/corrupt.png',
      'triangle/triangle-0.png',
      'triangle/triangle-1.jpg',
    ]);
    expect(value.labels).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    const skipped = (value.skipped as { name: string }[]).map((s) => s.name);
    for (const bad of ['circle/zero-bytes.png', 'triangle/not-an-image.jpg']) expect(skipped).toContain(bad);
    const batches = value.batches as { shape: number[]; indices: number[] }[];
    expect(batches).toHaveLength(6);
    for (const b of batches.slice(0, 2)) expect(b.shape).toEqual([4, 8, 8, 3]);
    // The truncated JPEG and the broken PNG fail in the browser's decoder too: replaced, and reported once.
    const failed = (value.warnings as { kind: string; files: string[] }[]).filter((w) => w.kind === 'decode-failed').flatMap((w) => w.files);
    for (const i of batches.flatMap((b) => b.indices)) expect(failed).not.toContain((value.names as string[])[i]);
    expect(value.tensors).toBe(0);
  });

  it.runIf(chromiumAvailable)('imageUrls decodes PNG and JPEG like Pillow; a missing URL is skipped with a warning', async () => {
    const names = ['rgb.png', 'gray.png', 'palette.png', 'rgb16.png', 'rgb.jpg', 'progressive.jpg', 'rgb.webp'];
    const { value, errors } = await withPage((page) => page.evaluate((n) => (window as unknown as { runUrls(n: string[]): Promise<Record<string, unknown>> }).runUrls(n), names));
    expect(errors).toEqual([]);
    expect(value.shape).toEqual([names.length, expected.height, expected.width, 3]);
    expect(value.indices).toEqual(names.map((_, i) => i));
    const per = expected.width * expected.height * 3;
    const values = value.values as number[];
    names.forEach((name, row) => {
      let max = 0;
      for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(Math.round(values[row * per + i]! * 255) - expected.formats[name]![i]!));
      expect(max, name).toBeLessThanOrEqual(name.endsWith('.jpg') ? 4 : 1);
    });
    expect(value.grayShape).toEqual([1, 4, 4, 1]);
    expect(JSON.stringify(value.warnings)).toContain('images/missing.png');
  });

  it.runIf(chromiumAvailable)('imageElements draws canvases, bitmaps, ImageData and <img> at the output size, with labels', async () => {
    const { value, errors } = await withPage((page) => page.evaluate(() => (window as unknown as { runElements(): Promise<Record<string, unknown>> }).runElements()));
    expect(errors).toEqual([]);
    expect(value.shape).toEqual([4, 4, 4, 3]);
    expect(value.labels).toEqual([0, 0, 1, 1]);
    expect(value.first).toEqual([1, 0, 0]); // the left half is red
    expect(value.lastOfRow).toEqual([0, 0, 1]); // the right half blue
  });

  it.runIf(chromiumAvailable)('the guide snippet pretrains on the picked folder; models round-trip through IndexedDB', async () => {
    const { value, errors } = await withPage((page) => page.evaluate(() => (window as unknown as { runModels(): Promise<Record<string, unknown>> }).runModels()));
    expect(errors).toEqual([]);
    expect(value.classes).toEqual(['circle', 'square', 'triangle']);
    expect(value.losses).toHaveLength(3);
    for (const l of value.losses as number[]) expect(Number.isFinite(l)).toBe(true);
    expect(value.features).toEqual([2, 16]);
    expect(value.isVit).toBe(true);
    expect(value.diff).toBe(0);
    expect(value.stored).toEqual(expect.arrayContaining(['indexeddb://my-encoder', 'indexeddb://vit']));
  });
});
