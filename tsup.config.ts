import { defineConfig } from 'tsup';

const areas = ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'checkpoint'];

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    ...Object.fromEntries(areas.map((a) => [`${a}/index`, `src/${a}/index.ts`])),
  },
  format: ['esm', 'cjs'],
  dts: true,
  // Shared chunks let a consumer's bundler drop whole areas it does not import.
  splitting: true,
  treeshake: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^@tensorflow\//],
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
});
