/**
 * Every export has TSDoc; every value export (function, class, constant) has an
 * `@example`, and every example is executed here against the sources, with
 * `import ... from 'selfsup'` resolved as a user's would be.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { collectExportDocs } from '../../scripts/tsdoc-examples.js';

const outDir = fileURLToPath(new URL('../../test-output/tsdoc-examples/', import.meta.url));
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const docs = collectExportDocs();

describe('TSDoc', () => {
  it('finds the exports', () => {
    expect(docs.length).toBeGreaterThan(10);
  });

  it('documents every export', () => {
    const undocumented = docs.filter((d) => d.documentation.trim().length === 0).map((d) => `${d.name} (${d.file})`);
    expect(undocumented).toEqual([]);
  });

  it('gives every value export an @example with code', () => {
    const missing = docs.filter((d) => d.kind === 'value' && d.examples.length === 0).map((d) => `${d.name} (${d.file})`);
    expect(missing).toEqual([]);
  });
});

describe('TSDoc examples run', () => {
  beforeEach(async () => {
    await useBackend('cpu');
  });
  afterAll(() => vi.restoreAllMocks());

  const seen = new Set<string>();
  for (const d of docs) {
    d.examples.forEach((code, i) => {
      // Examples shared by several exports (a class and its alias) run once.
      const key = code.trim();
      if (seen.has(key)) return;
      seen.add(key);
      it(`${d.name} example ${i + 1} (${d.file})`, async () => {
        const file = `${outDir}${d.name}-${i + 1}.ts`;
        writeFileSync(file, `${code}\nexport {};\n`);
        const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
        try {
          await import(/* @vite-ignore */ file);
        } finally {
          log.mockRestore();
        }
      });
    });
  }
});
