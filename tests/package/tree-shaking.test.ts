/**
 * Tree-shaking proven, not assumed: a consumer importing one function from the
 * built package is bundled with esbuild, and the bundle must not contain the
 * areas it did not ask for.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-bundle-'));
// A consumer project whose node_modules/selfsup is this package: esbuild then
// resolves `selfsup` and `selfsup/<area>` through package.json's exports map.
mkdirSync(join(dir, 'node_modules'));
symlinkSync(root, join(dir, 'node_modules', 'selfsup'), 'dir');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(source: string): Promise<string> {
  const entry = join(dir, `entry-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(entry, source);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    minify: false,
    treeShaking: true,
    external: ['@tensorflow/*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

// Markers: strings that exist only inside each area's code. They are checked
// to be present in the full bundle first, so the test cannot pass vacuously.
const MARKERS: Record<string, string> = {
  data: 'fetch the vendored data first',
  backend: 'registerGradients: could not import',
  losses: 'function kMeans',
  heads: 'SelfsupWeightNormDense',
  eval: 'give loss and uniformLoss together',
  train: 'a memory bank is updated exactly once per step',
  kernels: 'selfsup wasm kernels',
  pretextTasks: 'take 1-channel input (the L channel)',
  augment: 'be a number in [0, 0.5] or a [min, max] pair',
  masking: 'hold distinct indices in [0, ',
  tasks: "produce views of the encoder's input size",
  dataPipeline: 'selfsup.batch-stream',
  io: 'selfsup-model',
  checkpoint: 'selfsup-checkpoint',
};

describe('tree-shaking', () => {
  it('markers are present when everything is imported', async () => {
    const all = await bundle(`import * as s from 'selfsup'; console.log(s);`);
    for (const [area, marker] of Object.entries(MARKERS)) expect(all, area).toContain(marker);
  });

  it('importing l2Normalize alone leaves data and backend out', async () => {
    const out = await bundle(`import { l2Normalize } from 'selfsup'; console.log(l2Normalize);`);
    expect(out).toContain('function l2Normalize');
    for (const [area, marker] of Object.entries(MARKERS)) expect(out, `${area} leaked into the bundle`).not.toContain(marker);
    expect(out.length).toBeLessThan(20_000);
  });

  it('importing ntXentLoss alone leaves the other areas (and the other losses) out', async () => {
    const out = await bundle(`import { ntXentLoss } from 'selfsup'; console.log(ntXentLoss);`);
    expect(out).toContain('function ntXentLoss');
    for (const [area, marker] of Object.entries(MARKERS)) expect(out, `${area} leaked into the bundle`).not.toContain(marker);
    for (const other of ['function dinoLoss', 'ZHANG313_AB_BINS', 'function clipLoss']) expect(out).not.toContain(other);
    expect(out.length).toBeLessThan(20_000);
  });

  it('importing one loss from selfsup/losses keeps unrelated losses (kMeans, the colour bins) out', async () => {
    const out = await bundle(`import { barlowTwinsLoss } from 'selfsup/losses'; console.log(barlowTwinsLoss);`);
    expect(out).toContain('function barlowTwinsLoss');
    for (const other of [MARKERS.losses!, 'ZHANG313_AB_BINS', 'function ntXentLoss', MARKERS.data!]) expect(out).not.toContain(other);
    const all = await bundle(`import * as losses from 'selfsup/losses'; console.log(losses);`);
    expect(all).toContain('ZHANG313_AB_BINS');
  });

  it('a browser bundle of everything names no Node built-in and no Node-only package', async () => {
    const all = await bundle(`import * as s from 'selfsup'; console.log(s);`);
    expect(all).not.toMatch(/from ["']node:|require\(["']node:/);
    for (const name of ['sharp', 'jpeg-js', 'pngjs']) expect(all).not.toContain(`require("${name}")`);
  });

  it('importing imageFolder from selfsup/data leaves the vendored data, the models and io out', async () => {
    const out = await bundle(`import { imageFolder, tensorDataset } from 'selfsup/data'; console.log(imageFolder, tensorDataset);`);
    expect(out).toContain(MARKERS.dataPipeline);
    for (const area of ['data', 'heads', 'io', 'tasks', 'backend']) expect(out, `${area} leaked into the bundle`).not.toContain(MARKERS[area]);
  });

  it('importing saveModel leaves the data pipeline and the tasks out', async () => {
    const out = await bundle(`import { saveModel } from 'selfsup/io'; console.log(saveModel);`);
    expect(out).toContain(MARKERS.io);
    for (const area of ['data', 'dataPipeline', 'tasks', 'augment']) expect(out, `${area} leaked into the bundle`).not.toContain(MARKERS[area]);
  });

  it('importing from a subpath keeps only that area', async () => {
    const out = await bundle(`import { loadDigits } from 'selfsup/data'; console.log(loadDigits);`);
    expect(out).toContain('DIGITS_ASSET');
    expect(out).not.toContain('T-shirt/top'); // the Fashion-MNIST loaders
    expect(out).not.toContain(MARKERS.backend);
    // The datasets are files (data/*.bin.gz), not code: a loader bundles only its few lines and the assets' sizes.
    expect(out.length).toBeLessThan(30_000);
  });
});
