import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportNames } from '../../scripts/export-names.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

describe('public API', () => {
  it('export names match the committed snapshot (npm run exports:update after an intended change)', async () => {
    const snapshot = JSON.parse(readFileSync(`${root}tests/package/export-names.json`, 'utf8'));
    expect(await exportNames()).toEqual(snapshot);
  });

  it('every subpath export is in the root export', async () => {
    const names = await exportNames();
    const rootNames = new Set(names['.']);
    for (const [entry, list] of Object.entries(names)) {
      for (const n of list) expect(rootNames.has(n), `${entry} exports ${n}, the root does not`).toBe(true);
    }
  });

  it('package.json declares the library shape the issue asks for', () => {
    expect(pkg.name).toBe('selfsup');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining(['.', './losses', './augment', './masking', './heads', './tasks', './eval', './backend', './data', './io', './checkpoint']),
    );
    for (const peer of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm']) {
      expect(pkg.peerDependencies[peer]).toMatch(/^\^4\./);
    }
    expect(pkg.peerDependenciesMeta['@tensorflow/tfjs-backend-wasm'].optional).toBe(true);
    for (const [name, version] of Object.entries(pkg.devDependencies as Record<string, string>)) {
      expect(version, `devDependency ${name} is pinned`).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('every file named by the exports map exists after the build', () => {
    const missing: string[] = [];
    for (const [sub, conditions] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (typeof conditions === 'string') continue;
      for (const c of Object.values(conditions as Record<string, Record<string, string>>)) {
        for (const f of Object.values(c)) if (!existsSync(`${root}${f}`)) missing.push(`${sub}: ${f}`);
      }
    }
    expect(missing, 'run `npm run build` before the tests (npm test does)').toEqual([]);
  });
});
