/**
 * Every runnable file in examples/ executes in quick mode (as a user would run
 * it, via tsx), the guides' code in examples/guides/ included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
  it('npm run demo says in plain words what it shows and that it trains nothing; no kernel list, banner or repeated line', () => {
    // On the cpu backend, whose first use in Node prints tfjs's "install tfjs-node" banner unless silenced.
    const { stdout, stderr, status } = spawnSync(tsx, ['examples/demo.ts', '--quick', '--backend=cpu'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(status, stderr).toBe(0);
    expect(stdout).toContain('It trains nothing');
    expect(stdout).toMatch(/1\. Augmentation: .*\n.*differ by/);
    expect(stdout).toContain('3. Loss: NT-Xent');
    expect(stdout + stderr).not.toContain('Conv2DBackpropFilter');
    expect(stdout + stderr).not.toContain('running TensorFlow.js in Node.js');
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines.filter((l, i) => i > 0 && l.replace(/\d+\.\ds/, '') === lines[i - 1]!.replace(/\d+\.\ds/, ''))).toEqual([]);
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
