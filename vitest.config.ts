import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));
const areas = ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'io', 'checkpoint'];

export default defineConfig({
  resolve: {
    // Tests and examples import `selfsup` exactly as users do; here it maps to the sources.
    alias: [
      ...areas.map((a) => ({ find: `selfsup/${a}`, replacement: src(`${a}/index.ts`) })),
      { find: /^selfsup$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/helpers/setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // One wasm thread unless a test asks for more (tests/backend/threads.test.ts, tests/kernels/threads.test.ts,
    // the browser tests): tfjs's thread pool synchronises its threads on every op, which makes the thousands of
    // tiny ops of unit tests several times slower when two test files share two cores.
    env: { SELFSUP_THREADS: '1' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
