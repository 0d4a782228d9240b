import { copyFileSync, readdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

const areas = ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'io', 'checkpoint'];

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    ...Object.fromEntries(areas.map((a) => [`${a}/index`, `src/${a}/index.ts`])),
    // The `selfsup` command (package.json "bin"), Node only.
    cli: 'src/cli/bin.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // Shared chunks let a consumer's bundler drop whole areas it does not import.
  splitting: true,
  treeshake: true,
  // No source maps in the package (maps without their sources point at files that are not shipped), and
  // only whitespace minified: names stay, so stack traces name selfsup's functions; it keeps the package
  // under 4 MB unpacked (tests/package/pack-install.test.ts) with ESM and CommonJS builds.
  sourcemap: false,
  minifyWhitespace: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^@tensorflow\//, /^node:/],
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
  // `import.meta.url` in the CommonJS build (the kernels are located relative to the code).
  shims: true,
  // The kernel modules ship once, as files beside the code that loads them (src/kernels/wasm-runtime.ts).
  async onSuccess() {
    const dir = 'src/kernels/generated/';
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.wasm'))) copyFileSync(`${dir}${f}`, `dist/${f}`);
  },
});
