/** Every runnable file in examples/ executes in quick mode (as a user would run it, via tsx). */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const files = readdirSync(`${root}examples`).filter((f) => f.endsWith('.ts'));
const tsx = `${root}node_modules/.bin/tsx`;

describe('examples run in quick mode', () => {
  it('there are examples', () => expect(files).toContain('demo.ts'));
  for (const file of files) {
    it(file, () => {
      const out = execFileSync(tsx, [`examples/${file}`, '--quick'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 170_000,
        env: { ...process.env, SELFSUP_QUICK: '1' },
      });
      expect(out.length).toBeGreaterThan(0);
    });
  }
});
