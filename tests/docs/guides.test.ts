/**
 * The guides' code is never written in the guides: every TypeScript sample in
 * docs/*.md is a `{@includeCode}` of a region of a runnable file in examples/
 * (tests/examples runs those files), so a sample cannot drift from the API.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const docs = `${root}docs`;
const guides = readdirSync(docs)
  .filter((f) => f.endsWith('.md'))
  .map((name) => ({ name, text: readFileSync(`${docs}/${name}`, 'utf8') }));

interface Include {
  guide: string;
  file: string;
  regions: string[];
}
const includes: Include[] = guides.flatMap(({ name, text }) =>
  [...text.matchAll(/\{@includeCode\s+([^}#\s]+)(?:#([^}\s]+))?\s*\}/g)].map((m) => ({
    guide: name,
    file: resolve(docs, m[1]!),
    regions: m[2] ? m[2].split(',').map((r) => r.trim()) : [],
  })),
);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The text of a region as typedoc cuts it: between `// #region name` and `// #endregion name`. */
function region(file: string, name: string): { opens: number; closes: number; body: string } {
  const text = readFileSync(file, 'utf8');
  const open = new RegExp(`// *#region +${escape(name)} *\\n`, 'g');
  const close = new RegExp(`// *#endregion +${escape(name)} *\\n`, 'g');
  const opens = [...text.matchAll(open)];
  const closes = [...text.matchAll(close)];
  const start = opens[0] ? opens[0].index + opens[0][0].length : 0;
  const end = closes[0]?.index ?? 0;
  return { opens: opens.length, closes: closes.length, body: text.slice(start, end) };
}
const codeLines = (body: string) => body.split('\n').filter((l) => l.trim() !== '').length;
/** The code of the `{@includeCode}` in `guide` that names `regionName`, all its regions joined. */
function includedCode(guide: string, regionName: string): string {
  const found = includes.find((i) => i.guide === guide && i.regions.includes(regionName));
  if (!found) throw new Error(`${guide} has no {@includeCode …#${regionName}}`);
  return found.regions.map((r) => region(found.file, r).body).join('\n');
}

describe('guides', () => {
  it('are found', () => {
    expect(guides.map((g) => g.name)).toContain('getting-started.md');
    expect(includes.length).toBeGreaterThan(20);
  });

  for (const { name, text } of guides) {
    it(`${name} has no inline TypeScript or JavaScript code block`, () => {
      const fences = [...text.matchAll(/^\s*```+\s*([\w-]*)/gm)].map((m) => m[1]!.toLowerCase());
      expect(fences.filter((lang) => ['ts', 'typescript', 'js', 'javascript', 'tsx', 'mjs'].includes(lang))).toEqual([]);
    });
  }

  for (const { guide, file, regions } of includes) {
    it(`${guide}: ${relative(root, file)}${regions.length > 0 ? `#${regions.join(',')}` : ''} exists`, () => {
      expect(relative(root, file).startsWith('examples/'), `${file} is outside examples/`).toBe(true);
      expect(existsSync(file), `${file} does not exist`).toBe(true);
      for (const name of regions) {
        const { opens, closes, body } = region(file, name);
        expect([opens, closes], `// #region ${name} and // #endregion ${name}, once each`).toEqual([1, 1]);
        expect(codeLines(body), `region ${name} is empty`).toBeGreaterThan(0);
      }
    });
  }

  it('getting started sets up a backend', () => {
    expect(includedCode('getting-started.md', 'use-backend')).toContain("useBackend('wasm')");
  });

  it('getting started imports a loss into a tfjs model in at most 10 lines', () => {
    const code = includedCode('getting-started.md', 'import-a-loss');
    expect(code).toMatch(/@tensorflow\/tfjs/);
    expect(code).toMatch(/[a-zA-Z]+Loss\(/);
    expect(code).toContain('.minimize(');
    expect(codeLines(code)).toBeLessThanOrEqual(10);
  });

  it('getting started pretrains an encoder in at most 30 lines, from examples/pretrain-simclr.ts', () => {
    const found = includes.find((i) => i.guide === 'getting-started.md' && relative(root, i.file) === 'examples/pretrain-simclr.ts');
    expect(found, 'getting-started.md includes a region of examples/pretrain-simclr.ts').toBeDefined();
    const code = includedCode('getting-started.md', found!.regions[0]!);
    expect(code).toContain('.step(');
    expect(codeLines(code)).toBeLessThanOrEqual(30);
  });
});
