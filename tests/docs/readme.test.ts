/** The README's code runs as printed (its first screen is what newcomers copy). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('README', () => {
  it('starts with the two commands', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    expect(firstScreen).toContain('npm ci && npm run demo');
    expect(firstScreen).toContain('npm ci && npm test');
  });

  it('has a short example that imports a loss into a tfjs model', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks[0]).toContain("from 'selfsup'");
    expect(blocks[0]!.trim().split('\n').length).toBeLessThanOrEqual(12);
  });

  blocks.forEach((code, i) => {
    it(`code block ${i + 1} runs`, async () => {
      const dir = `${root}test-output/readme/`;
      mkdirSync(dir, { recursive: true });
      const file = `${dir}block-${i + 1}.ts`;
      writeFileSync(file, `${code}\nexport {};\n`);
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        log.mockRestore();
      }
    });
  });
});
