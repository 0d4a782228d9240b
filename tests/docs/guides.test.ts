/**
 * The guides' and the README's code is never written in the markdown by hand:
 * every TypeScript sample is a block that `npm run docs:code`
 * (scripts/guide-code.ts) copies from a region of a runnable file in examples/
 * (tests/examples runs those files), and this test fails when a block has
 * drifted from its source. So the markdown shows the code everywhere (GitHub,
 * npm, any viewer) and a sample cannot drift from the API.
 */
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeBlocks, markdownFiles, render } from '../../scripts/guide-code.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const files = markdownFiles();
const codeLines = (code: string) => code.split('\n').filter((l) => l.trim() !== '').length;

/** The code of the block of `guide` whose source includes `regionName`. */
function blockCode(guide: string, regionName: string): string {
  const found = codeBlocks(`${root}docs/${guide}`).find((b) => b.regions.includes(regionName));
  if (!found) throw new Error(`${guide} has no code block from a region named ${regionName}`);
  return found.code;
}

describe('guides and README', () => {
  it('are found, with their code blocks', () => {
    expect(files.map((f) => basename(f))).toEqual(expect.arrayContaining(['README.md', 'getting-started.md']));
    expect(files.flatMap((f) => codeBlocks(f)).length).toBeGreaterThan(30);
  });

  for (const file of files) {
    const name = relative(root, file);
    const text = readFileSync(file, 'utf8');

    it(`${name}: every TypeScript or JavaScript block is generated from examples/`, () => {
      const lines = text.split('\n');
      const unsourced = lines.flatMap((line, i) =>
        /^\s*```+\s*(ts|typescript|js|javascript|tsx|mjs)\s*$/i.test(line) && !/^\[\/\/\]: # \(code: /.test(lines[i - 1] ?? '')
          ? [`line ${i + 1}`]
          : [],
      );
      expect(unsourced, 'write the code in examples/ and add a `[//]: # (code: ../examples/…#region)` marker').toEqual([]);
      for (const block of codeBlocks(file)) {
        expect(relative(root, block.file).startsWith('examples/'), `${block.source} is outside examples/`).toBe(true);
        expect(codeLines(block.code), `${block.source} is empty`).toBeGreaterThan(0);
      }
    });

    it(`${name}: the code blocks match their examples (npm run docs:code)`, () => {
      expect(render(file) === text, `${name} has drifted from examples/: run npm run docs:code`).toBe(true);
    });
  }

  it('getting started sets up a backend', () => {
    expect(blockCode('getting-started.md', 'use-backend')).toContain("useBackend('wasm')");
  });

  it('getting started imports a loss into a tfjs model in at most 10 lines', () => {
    const code = blockCode('getting-started.md', 'import-a-loss');
    expect(code).toMatch(/@tensorflow\/tfjs/);
    expect(code).toMatch(/[a-zA-Z]+Loss\(/);
    expect(code).toContain('.minimize(');
    expect(codeLines(code)).toBeLessThanOrEqual(10);
  });

  it('getting started pretrains an encoder in at most 30 lines (imports aside), from examples/pretrain-simclr.ts', () => {
    const block = codeBlocks(`${root}docs/getting-started.md`).find((b) => relative(root, b.file) === 'examples/pretrain-simclr.ts');
    expect(block, 'getting-started.md shows regions of examples/pretrain-simclr.ts').toBeDefined();
    expect(block!.code).toContain('.step(');
    const body = block!.code.split('\n').filter((l) => !l.startsWith('import '));
    expect(codeLines(body.join('\n'))).toBeLessThanOrEqual(30);
  });

  it('the README shows a short example that trains with a loss from selfsup, from examples/guides/readme.ts', () => {
    const [first] = codeBlocks(`${root}README.md`);
    expect(relative(root, first!.file)).toBe('examples/guides/readme.ts');
    expect(first!.code).toContain("from 'selfsup'");
    expect(first!.code).toContain("useBackend('wasm')");
    expect(codeLines(first!.code)).toBeLessThanOrEqual(15);
  });
});
