/**
 * Lists the runtime export names of the package root and of every subpath,
 * read from the sources. `--write` stores them in tests/package/export-names.json,
 * the snapshot that tests/package/exports.test.ts compares against: an
 * accidental rename or removal fails the tests until the snapshot is updated
 * on purpose (npm run exports:update) and the change is recorded in CHANGELOG.md.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ENTRY_POINTS = ['.', 'losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'io', 'checkpoint'];

export async function exportNames(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const entry of ENTRY_POINTS) {
    const file = entry === '.' ? '../src/index.ts' : `../src/${entry}/index.ts`;
    const mod = (await import(new URL(file, import.meta.url).href)) as Record<string, unknown>;
    out[entry] = Object.keys(mod).sort();
  }
  return out;
}

if (process.argv.includes('--write')) {
  const names = await exportNames();
  const path = fileURLToPath(new URL('../tests/package/export-names.json', import.meta.url));
  writeFileSync(path, `${JSON.stringify(names, null, 2)}\n`);
  console.log(`wrote ${path}: ${names['.']?.length} root exports`);
}
