/**
 * Bundles the browser demo (examples/browser/) with esbuild into
 * examples/browser/dist/: the page, one ES module with selfsup and tfjs, and
 * tfjs-backend-wasm's .wasm binaries and selfsup's kernel modules beside it
 * (the page passes `wasmPaths: './'`), and the vendored Fashion-MNIST subset
 * (data/fashion-mnist-subset.bin.gz, fetched with `fetchVendoredData`). Serve it with `node scripts/serve.mjs` (COOP/COEP on,
 * so browsers that allow it can run tfjs's threaded wasm build).
 *
 *   tsx scripts/build-browser-demo.ts [--out=examples/browser/dist]
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = process.argv.find((a) => a.startsWith('--out='))?.split('=')[1] ?? `${root}examples/browser/dist`;

/** Builds the demo into `outDir`; returns the bundle size in bytes. */
export async function buildBrowserDemo(outDir = out): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const areas = ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'checkpoint'];
  const result = await build({
    entryPoints: [`${root}examples/browser/main.ts`],
    outfile: `${outDir}/app.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    // The demo imports `selfsup` as users do; here it resolves to the sources.
    alias: {
      selfsup: `${root}src/index.ts`,
      ...Object.fromEntries(areas.map((a) => [`selfsup/${a}`, `${root}src/${a}/index.ts`])),
    },
    logLevel: 'warning',
  });
  copyFileSync(`${root}examples/browser/index.html`, `${outDir}/index.html`);
  const wasmDir = `${root}node_modules/@tensorflow/tfjs-backend-wasm/dist/`;
  const kernelDir = `${root}src/kernels/generated/`;
  for (const dir of [wasmDir, kernelDir]) {
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.wasm'))) copyFileSync(`${dir}${f}`, `${outDir}/${f}`);
  }
  copyFileSync(`${root}data/fashion-mnist-subset.bin.gz`, `${outDir}/fashion-mnist-subset.bin.gz`);
  return Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await buildBrowserDemo();
  console.log(`browser demo built into ${out} (${(bytes / 1e6).toFixed(2)} MB incl. source map)`);
}
