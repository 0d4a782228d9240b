/**
 * Every runnable file in examples/ executes in quick mode (as a user would run
 * it, via tsx), the guides' code in examples/guides/ included.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scripts = (dir: string) => readdirSync(`${root}${dir}`).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);
const files = [...scripts('examples'), ...scripts('examples/guides')];
const tsx = `${root}node_modules/.bin/tsx`;

describe('examples run in quick mode', () => {
  it('there are examples', () => {
    expect(files).toContain('examples/demo.ts');
    expect(files).toContain('examples/guides/getting-started.ts');
  });
  for (const file of files) {
    it(file.replace(/^examples\//, ''), () => {
      const out = execFileSync(tsx, [file, '--quick'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'], // stderr (the examples' warnings) is kept for the error message, not echoed
        timeout: 170_000,
        env: { ...process.env, SELFSUP_QUICK: '1' },
      });
      expect(out.length).toBeGreaterThan(0);
    });
  }
});
