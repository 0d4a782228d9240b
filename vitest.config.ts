import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));
const areas = ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'io'];

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
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
