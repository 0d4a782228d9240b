/**
 * The package as a user meets it. `npm pack` makes the tarball; each install
 * set the docs recommend is installed from it, with the tfjs packages from the
 * npm registry, into a fresh project outside the repository; there the
 * README's and the getting-started guide's code runs as an ES module and as
 * CommonJS and type-checks with the TypeScript settings the guide documents.
 * The tarball itself must be lean (no source maps, each data asset and kernel
 * module once, ≤ 4 MB unpacked), and a browser app that imports one loss and
 * calls `useBackend('wasm')` must bundle (esbuild, minified) to ≤ 700 KB
 * without tfjs-layers or the cpu backend.
 *
 * Needs dist/ (npm test builds it first) and the npm registry (or npm's cache:
 * installs run with --prefer-offline).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { writePhotoFolder } from '../../examples/lib/photo-folder.js';
import { codeBlocks } from '../../scripts/guide-code.js';
import { serve } from '../../scripts/serve.mjs';
import { chromiumAvailable, chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { cjsSource, esmSource, programFromBlocks, transpile } from '../helpers/programs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string; devDependencies: Record<string, string> };
const tfjs = pkg.devDependencies['@tensorflow/tfjs-core']!;
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const guide = readFileSync(`${root}docs/getting-started.md`, 'utf8');
const readme = readFileSync(`${root}README.md`, 'utf8');

/** The install sets the docs recommend: the command a reader types, and what it installs here. */
const INSTALL_SETS = {
  core: {
    command: 'npm install selfsup @tensorflow/tfjs-core @tensorflow/tfjs-layers @tensorflow/tfjs-backend-wasm',
    packages: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm'],
  },
  union: {
    // "If you already use the @tensorflow/tfjs union package, keep it and add the wasm backend".
    command: 'npm install selfsup @tensorflow/tfjs-backend-wasm',
    packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  },
} as const;
type SetName = keyof typeof INSTALL_SETS;

/** The TypeScript settings getting-started.md documents (its json block), parsed from the guide itself. */
const documentedTsconfig = JSON.parse(/```json\n([\s\S]*?)```/.exec(guide)![1]!) as { compilerOptions: Record<string, unknown> };

// The README's program, and getting started's (its pretraining shrunk to a few steps on a few images).
const readmeProgram = programFromBlocks(codeBlocks(`${root}README.md`).map((b) => b.code));
const readmeUnionProgram = programFromBlocks(
  codeBlocks(`${root}README.md`).map((b) => b.code.replace(/from '@tensorflow\/tfjs-core'/g, "from '@tensorflow/tfjs'")),
);
const SIZES = /(\[steps, batchSize, trainSize, testSize\] = )\[[^\]]+\]/;
const guideBlocks = codeBlocks(`${root}docs/getting-started.md`).map((b) => (SIZES.test(b.code) ? b.code.replace(SIZES, '$1[3, 32, 200, 100]') : b.code));
/**
 * Getting started's program in a project: the page leaves `folder` (a folder of your images, one
 * subfolder per class) and `out` (where the files go) to the reader; here they are a folder of
 * photo crops written into the project and an output folder beside it.
 */
function guideProgram(dir: string): { imports: string; body: string } {
  const prelude = `import { join } from 'node:path';\nconst folder: string = ${JSON.stringify(join(dir, 'photos'))};\nconst out: string = ${JSON.stringify(join(dir, 'out'))};`;
  return programFromBlocks(guideBlocks, prelude);
}

const work = mkdtempSync(join(tmpdir(), 'selfsup-pack-'));
let tarball = '';
let packed: { size: number; unpackedSize: number; files: { path: string; size: number }[] };
const projects: Partial<Record<SetName, string>> = {};

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** A fresh project outside the repository with the tarball and `set`'s tfjs packages installed. */
function project(set: SetName): string {
  const existing = projects[set];
  if (existing) return existing;
  const dir = join(work, set);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${set}`, private: true }));
  // The tfjs packages at the version the repository tests, and Node's types for the TypeScript check (the guide's code uses node:path).
  const specs = [...INSTALL_SETS[set].packages.map((p) => `${p}@${tfjs}`), `@types/node@${pkg.devDependencies['@types/node']}`];
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...specs], dir);
  writePhotoFolder(join(dir, 'photos'), { perClass: 4, size: 40 }); // "your images", for getting started's last section
  projects[set] = dir;
  return dir;
}

/** Runs `source` (TypeScript) in `dir` as an ES module or CommonJS; returns stdout. */
function run(dir: string, name: string, source: string, format: 'esm' | 'cjs'): string {
  const file = join(dir, `${name}.${format === 'esm' ? 'mjs' : 'cjs'}`);
  writeFileSync(file, transpile(source, format));
  try {
    return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${name}.${format} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`, { cause: e });
  }
}

/** Type-checks the programs in `dir` with `compilerOptions`; returns tsc's error lines (empty: clean). */
function typecheck(dir: string, compilerOptions: Record<string, unknown>, files: Record<string, string>): string[] {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const config = join(dir, `tsconfig-${Object.keys(files).length}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(config, JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, files: Object.keys(files) }));
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    return [];
  } catch (e) {
    return ((e as { stdout?: string }).stdout ?? '').split('\n').filter((l) => /error TS\d+/.test(l));
  }
}

beforeAll(async () => {
  await useBackend('cpu'); // writePhotoFolder crops the vendored photos with tfjs
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
  packed = (JSON.parse(out) as (typeof packed & { filename: string })[])[0]!;
  tarball = join(work, (JSON.parse(out) as { filename: string }[])[0]!.filename);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('is lean: no source maps, each data asset and kernel module once, ≤ 4 MB unpacked', () => {
    const paths = packed.files.map((f) => f.path);
    console.log(`npm pack: ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${paths.length} files`);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => p.includes('.bin')).sort()).toEqual(['data/digits.bin.gz', 'data/fashion-mnist-subset.bin.gz', 'data/photos.bin.gz']);
    expect(paths.filter((p) => p.endsWith('.wasm')).sort()).toEqual([
      'dist/selfsup-kernels-relaxed-threaded.wasm',
      'dist/selfsup-kernels-relaxed.wasm',
      'dist/selfsup-kernels-threaded.wasm',
      'dist/selfsup-kernels.wasm',
    ]);
    // No asset travels as text inside the code any more (base64 runs of a few KB would betray one).
    for (const p of paths.filter((f) => /\.(c?js|d\.c?ts)$/.test(f))) {
      expect(/[A-Za-z0-9+/]{4000}/.test(readFileSync(join(root, p), 'utf8')), `${p} embeds a base64 blob`).toBe(false);
    }
    expect(packed.unpackedSize).toBeLessThanOrEqual(4_000_000);
  });

  it('the docs name the install sets this test installs', () => {
    for (const { command } of Object.values(INSTALL_SETS)) expect(guide).toContain(command);
    expect(readme).toContain(INSTALL_SETS.core.command);
    expect(readme).toContain(INSTALL_SETS.union.command);
  });
});

for (const set of Object.keys(INSTALL_SETS) as SetName[]) {
  describe(`installed with ${set === 'core' ? 'tfjs-core + tfjs-layers + tfjs-backend-wasm' : 'the @tensorflow/tfjs union package + tfjs-backend-wasm'}`, () => {
    beforeAll(() => {
      project(set);
    }, 300_000);

    for (const format of ['esm', 'cjs'] as const) {
      it(`the README's code runs as ${format === 'esm' ? 'an ES module' : 'CommonJS'} and prints a falling loss`, () => {
        const out = run(project(set), `readme-${set}`, format === 'esm' ? esmSource(readmeProgram) : cjsSource(readmeProgram), format);
        expect(out).toContain('backend: wasm, SIMD: true');
        const losses = [...out.matchAll(/NT-Xent loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
        expect(losses).toHaveLength(5);
        expect(losses.at(-1)!).toBeLessThan(losses[0]!);
      });

      it(`getting started's code runs as ${format === 'esm' ? 'an ES module' : 'CommonJS'}`, () => {
        const dir = project(set);
        const program = guideProgram(dir);
        const out = run(dir, `guide-${set}`, format === 'esm' ? esmSource(program) : cjsSource(program), format);
        expect(out).toContain("backend: 'wasm'");
        expect(out).toMatch(/NT-Xent loss after one step: \d/);
        expect(out).toMatch(/random encoder: kNN accuracy \d/);
        expect(out).toMatch(/after SimCLR: kNN accuracy \d/);
        expect(out).toMatch(/16 images, classes astronaut, chelsea, coffee, rocket/);
        expect(existsSync(join(dir, 'out/encoder/model.json'))).toBe(true);
        expect(existsSync(join(dir, 'out/embeddings.npy'))).toBe(true);
      });
    }

    if (set === 'core') {
      it('a loader or model builder called before useBackend says to call it (not tfjs\'s "No backend found in registry")', () => {
        const out = run(
          project(set),
          'no-backend',
          `import * as tf from '@tensorflow/tfjs-core';
           import { loadDigits, mlpEncoder, useBackend } from 'selfsup';
           const tryIt = (call) => { try { call(); } catch (e) { console.log(e.name + ': ' + e.message); } };
           tryIt(() => loadDigits({ limit: 2 })); // tfjs-core alone: no backend registered
           tryIt(() => mlpEncoder({ inputShape: [4] }));
           await import('@tensorflow/tfjs-backend-wasm'); // registers 'wasm'
           const pending = tf.setBackend('wasm'); // not awaited yet
           tryIt(() => loadDigits({ limit: 2 }));
           await pending;
           await useBackend('wasm');
           console.log('after await: ' + loadDigits({ limit: 2 }).images.shape.join('x'));`,
          'esm',
        );
        expect(out).toContain("BackendError: loadDigits: no TensorFlow.js backend is ready; first call useBackend('wasm')");
        expect(out).toContain("BackendError: mlpEncoder: no TensorFlow.js backend is ready; first call useBackend('wasm')");
        expect(out).toContain('BackendError: loadDigits: the TensorFlow.js backend is still initialising; await useBackend(…) (or tf.setBackend)');
        expect(out).toContain('after await: 2x8x8x1');
      });
    }

    if (set === 'union') {
      it("the README's code with tf imported from '@tensorflow/tfjs', as its comment offers", () => {
        const out = run(project(set), 'readme-union-import', esmSource(readmeUnionProgram), 'esm');
        expect(out).toContain('backend: wasm, SIMD: true');
      });
    }

    it('the code type-checks with the documented TypeScript settings (ESM and CommonJS types)', () => {
      const files: Record<string, string> = {
        'readme.mts': esmSource(readmeProgram),
        'readme.cts': cjsSource(readmeProgram),
        'guide.mts': esmSource(guideProgram(project(set))),
        'guide.cts': cjsSource(guideProgram(project(set))),
        // Every area through its subpath, tasks and heads included (they pull in tfjs-layers' types).
        'areas.mts': ['losses', 'augment', 'masking', 'heads', 'tasks', 'eval', 'backend', 'data', 'io', 'checkpoint']
          .map((a) => `export * as ${a} from 'selfsup/${a}';`)
          .join('\n'),
      };
      if (set === 'union') files['readme-union.mts'] = esmSource(readmeUnionProgram);
      expect(typecheck(project(set), documentedTsconfig.compilerOptions, files)).toEqual([]);
    });

    if (set === 'core') {
      it('with bundler resolution too, and without skipLibCheck only tfjs-layers\' own type files fail (why the guide asks for it)', () => {
        const dir = project(set);
        const files = { 'readme-bundler.mts': esmSource(readmeProgram), 'tasks.mts': "export * from 'selfsup/tasks';\n" };
        expect(typecheck(dir, { ...documentedTsconfig.compilerOptions, module: 'esnext', moduleResolution: 'bundler' }, files)).toEqual([]);
        const errors = typecheck(dir, { ...documentedTsconfig.compilerOptions, skipLibCheck: false }, files);
        expect(errors.length).toBeGreaterThan(0);
        expect(errors.filter((l) => !l.startsWith('node_modules/@tensorflow/tfjs-layers/'))).toEqual([]);
        console.log(`without skipLibCheck: ${errors.length} errors, all in @tensorflow/tfjs-layers' .d.ts files`);
      });

      it('a browser app importing one loss and calling useBackend(wasm) bundles to ≤ 700 KB, without tfjs-layers or the cpu backend', async () => {
        const dir = project(set);
        const entry = join(dir, 'app.js');
        writeFileSync(
          entry,
          "import * as tf from '@tensorflow/tfjs-core';\nimport { ntXentLoss, useBackend } from 'selfsup';\n" +
            "await useBackend('wasm', { wasmPaths: '/wasm/' });\nconst z = tf.randomNormal([8, 4]);\nconsole.log(ntXentLoss(z, z).dataSync());\n",
        );
        const result = await build({
          entryPoints: [entry],
          absWorkingDir: dir,
          bundle: true,
          minify: true,
          format: 'esm',
          platform: 'browser',
          target: 'es2022',
          write: false,
          metafile: true,
          logLevel: 'silent',
        });
        expect(result.warnings.map((w) => w.text)).toEqual([]);
        const bytes = result.outputFiles.reduce((s, f) => s + f.contents.length, 0);
        // The files that put code into the bundle (the metafile also lists files tree-shaking emptied).
        const inputs = Object.values(result.metafile.outputs).flatMap((o) =>
          Object.entries(o.inputs)
            .filter(([, v]) => v.bytesInOutput > 0)
            .map(([path]) => path),
        );
        console.log(`bundle (one loss + useBackend('wasm')): ${(bytes / 1e3).toFixed(0)} KB minified in ${result.outputFiles.length} file(s)`);
        expect(inputs.filter((p) => p.includes('@tensorflow/tfjs-layers/'))).toEqual([]);
        // tfjs-backend-wasm shares a few kernel implementations with the cpu backend; the backend itself must stay out.
        expect(inputs.filter((p) => /tfjs-backend-cpu\/dist\/(index|base|backend_cpu|register_all_kernels)\.js$/.test(p))).toEqual([]);
        expect(inputs.some((p) => p.endsWith('tfjs-core/dist/register_all_gradients.js')), "tfjs-core's gradients are bundled").toBe(true);
        expect(bytes).toBeLessThanOrEqual(700_000);
      });

      it.skipIf(!chromiumAvailable)(
        `in Chromium, the bundled package trains on wasm with its kernels and data served beside tfjs's .wasm files${chromiumAvailable ? '' : ` (skipped: ${chromiumMissing})`}`,
        async () => {
          const dir = project(set);
          const site = join(dir, 'site');
          mkdirSync(join(site, 'wasm'), { recursive: true });
          mkdirSync(join(site, 'data'), { recursive: true });
          // What getting-started.md tells browser users to serve: both packages' .wasm files in one folder, and selfsup's data.
          for (const from of [join(dir, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), join(dir, 'node_modules/selfsup/dist')]) {
            for (const f of readdirSync(from).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(from, f), join(site, 'wasm', f));
          }
          for (const f of readdirSync(join(dir, 'node_modules/selfsup/data')).filter((n) => n.endsWith('.bin.gz'))) {
            copyFileSync(join(dir, 'node_modules/selfsup/data', f), join(site, 'data', f));
          }
          writeFileSync(
            join(dir, 'browser-app.js'),
            `import * as tf from '@tensorflow/tfjs-core';
             import { fetchVendoredData, loadDigits, ntXentLoss, useBackend } from 'selfsup';
             window.result = (async () => {
               const info = await useBackend('wasm', { wasmPaths: '/wasm/' });
               await fetchVendoredData({ url: '/data/', names: ['digits'] });
               const { images } = loadDigits({ limit: 32 });
               const x = tf.reshape(images, [32, 64]);
               const w = tf.variable(tf.randomNormal([64, 16], 0, 0.1, 'float32', 1));
               const optimizer = tf.train.sgd(0.5);
               const losses = [];
               for (let i = 0; i < 5; i++) {
                 const loss = optimizer.minimize(() => ntXentLoss(tf.matMul(x, w), tf.matMul(tf.add(x, 0.05), w)), true);
                 losses.push(loss.dataSync()[0]);
               }
               return { backend: info.backend, simd: info.simd, kernels: info.kernels, losses };
             })().catch((e) => ({ error: String((e && e.stack) || e) }));`,
          );
          await build({
            entryPoints: [join(dir, 'browser-app.js')],
            absWorkingDir: dir,
            outfile: join(site, 'app.js'),
            bundle: true,
            format: 'esm',
            platform: 'browser',
            target: 'es2022',
            logLevel: 'silent',
          });
          writeFileSync(join(site, 'index.html'), '<!doctype html><script type="module" src="./app.js"></script>');
          const server = await serve(site);
          const browser = await launchChromium();
          try {
            const page = await browser.context.newPage();
            await page.goto(server.url);
            await page.waitForFunction(() => 'result' in window, null, { timeout: 60_000 });
            const r = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as {
              error?: string;
              backend: string;
              simd: boolean;
              kernels: string[];
              losses: number[];
            };
            expect(r.error).toBeUndefined();
            expect(r).toMatchObject({ backend: 'wasm', simd: true });
            expect(r.kernels).toContain('SelfsupNtXent');
            expect(r.losses.every(Number.isFinite)).toBe(true);
            expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]!);
          } finally {
            await browser.close();
            await server.close();
          }
        },
      );
    }
  });
}
