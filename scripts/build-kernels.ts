/**
 * Builds selfsup's WebAssembly kernels from src/kernels/c/*.c with Debian's
 * clang 16 + lld 16 into binary files, src/kernels/generated/selfsup-kernels*.wasm,
 * and records their sizes and hashes in src/kernels/generated/kernels-wasm.ts.
 * The package needs no compiler: `npm run build` copies the .wasm files into
 * dist/, where Node reads them and a browser fetches them (they can be served
 * beside tfjs-backend-wasm's own .wasm files).
 *
 *   npx tsx scripts/build-kernels.ts           rebuild and write the generated files
 *   npx tsx scripts/build-kernels.ts --check   rebuild into memory; exit 1 if a
 *                                              committed file differs
 *
 * Four variants are built from the same sources: for tfjs's ordinary memory
 * and for the shared memory of its threaded build (a module that imports
 * shared memory must itself be built with --shared-memory), each with
 * WebAssembly SIMD128 and with relaxed SIMD (`-mrelaxed-simd`: the kernels'
 * multiply-adds become `f32x4.relaxed_madd`, a fused multiply-add where the
 * hardware has one; runtimes without relaxed SIMD get the SIMD128 build).
 * Clang 16 is the first Debian clang with the relaxed-SIMD builtins.
 *
 * The output is deterministic: fixed flags, sorted inputs, no debug info, and
 * custom sections (producers, names, target features) stripped. The module
 * must own no static data (it runs inside tfjs's heap), which is checked here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(root, 'src/kernels/c');
const outDir = join(root, 'src/kernels/generated');

/** The compiler and linker found on PATH. */
export interface Toolchain {
  clang: string;
  lld: string;
  /** First line of `clang --version`. */
  version: string;
  /** clang's major version, e.g. `'14'`. */
  major: string | undefined;
}

function which(names: string[]): string | null {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

/** The clang major version the committed modules are built with. */
export const CLANG_MAJOR = '16';

/** The compiler and linker, or null when the toolchain is not installed. */
export function findToolchain(): Toolchain | null {
  const clang = which([`clang-${CLANG_MAJOR}`, 'clang']);
  const lld = which([`wasm-ld-${CLANG_MAJOR}`, 'wasm-ld']);
  if (!clang || !lld) return null;
  const version = execFileSync(clang, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const major = /clang version (\d+)/.exec(version)?.[1];
  return { clang, lld, version, major };
}

const COMMON_FLAGS = [
  '--target=wasm32',
  '-std=c11',
  '-O3',
  '-msimd128',
  '-mbulk-memory',
  '-mmutable-globals',
  '-ffreestanding',
  '-nostdlib',
  '-fno-builtin-malloc',
  // No implicit contraction of a * b + c: results depend only on the variant's explicit multiply-adds.
  '-ffp-contract=off',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-c',
];

type Variant = 'plain' | 'shared' | 'relaxed' | 'relaxedShared';

const SHARED = { cflags: ['-matomics'], ldflags: ['--shared-memory', '--max-memory=4294967296'] };

/** Each variant's file name (the runtime names the same files) and flags. */
const VARIANTS: Record<Variant, { file: string; cflags: string[]; ldflags: string[] }> = {
  plain: { file: 'selfsup-kernels.wasm', cflags: [], ldflags: [] },
  shared: { file: 'selfsup-kernels-threaded.wasm', ...SHARED },
  relaxed: { file: 'selfsup-kernels-relaxed.wasm', cflags: ['-mrelaxed-simd'], ldflags: [] },
  relaxedShared: { file: 'selfsup-kernels-relaxed-threaded.wasm', cflags: ['-mrelaxed-simd', ...SHARED.cflags], ldflags: SHARED.ldflags },
};

function sources(): string[] {
  return readdirSync(srcDir)
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .sort();
}

/** sha256 over the kernel sources (names and contents), recorded in the generated module. */
export function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of sources()) {
    h.update(`${f}\n`);
    h.update(readFileSync(join(srcDir, f)));
    h.update('\n');
  }
  return h.digest('hex');
}

function readLeb(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

/** Drops custom sections and checks the module owns no static data and imports only memory. */
function sanitize(bytes: Buffer, variant: string): Buffer {
  const parts = [bytes.subarray(0, 8)];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++];
    const [size, body] = readLeb(bytes, pos);
    pos = body + size;
    if (id === 0) continue; // custom section: names, producers, target_features
    if (id === 11 || id === 12) {
      throw new Error(
        `build-kernels (${variant}): the module has a data section; kernels must not use static data ` +
          '(constant tables, string literals), because it would be written over tfjs\'s heap.',
      );
    }
    if (id === 8) throw new Error(`build-kernels (${variant}): the module has a start function`);
    if (id === 2) {
      const text = Buffer.from(bytes.subarray(body, pos)).toString('latin1');
      if (/\b(memset|memcpy|memmove|malloc)\b/.test(text)) {
        throw new Error(`build-kernels (${variant}): the module imports a libc function: ${text}`);
      }
    }
    parts.push(bytes.subarray(start, pos));
  }
  return Buffer.concat(parts);
}

function buildVariant(tc: Toolchain, variant: Variant, workDir: string): Buffer {
  const { cflags, ldflags } = VARIANTS[variant];
  const objects = [];
  for (const f of sources().filter((s) => s.endsWith('.c'))) {
    const obj = join(workDir, `${variant}-${f.replace(/\.c$/, '.o')}`);
    execFileSync(tc.clang, [...COMMON_FLAGS, ...cflags, '-o', obj, f], { cwd: srcDir, stdio: 'inherit' });
    objects.push(obj);
  }
  const wasm = join(workDir, `${variant}.wasm`);
  execFileSync(
    tc.lld,
    ['--no-entry', '--import-memory', '--export=__stack_pointer', '--strip-all', ...ldflags, '-o', wasm, ...objects],
    { stdio: 'inherit' },
  );
  return sanitize(readFileSync(wasm), variant);
}

/**
 * Builds every variant and returns the generated files by name: the .wasm
 * modules and kernels-wasm.ts, which records the source hash and each
 * module's size and sha256.
 */
export function generate(tc: Toolchain): Map<string, Buffer> {
  const workDir = mkdtempSync(join(tmpdir(), 'selfsup-kernels-'));
  try {
    const files = new Map<string, Buffer>();
    const entries: string[] = [];
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const bytes = buildVariant(tc, variant, workDir);
      const { file } = VARIANTS[variant];
      files.set(file, bytes);
      const sha = createHash('sha256').update(bytes).digest('hex');
      entries.push(`  ${variant}: { file: '${file}', bytes: ${bytes.length}, sha256: '${sha}' },`);
    }
    const text = [
      '// Generated by scripts/build-kernels.ts from src/kernels/c/ — do not edit.',
      `// Rebuild with \`npm run build:kernels\` (clang ${tc.major} + wasm-ld, -O3 -msimd128, relaxed variants -mrelaxed-simd).`,
      '',
      '/** sha256 of the C sources the modules were built from (checked by tests/kernels/build.test.ts). */',
      `export const KERNELS_SOURCE_SHA256 = '${sourceHash()}';`,
      '',
      '/**',
      " * The module files beside this one (copied into dist/ by the build): `plain` for tfjs's",
      " * ordinary wasm memory, `shared` for the shared memory of its threaded build, and the",
      " * same two with relaxed SIMD (`relaxed`, `relaxedShared`) for runtimes that support it.",
      ' */',
      'export const KERNEL_FILES = {',
      ...entries,
      '} as const;',
      '',
    ].join('\n');
    files.set('kernels-wasm.ts', Buffer.from(text));
    return files;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function main(): void {
  const check = process.argv.includes('--check');
  const tc = findToolchain();
  if (!tc) {
    console.error(`build-kernels: clang-${CLANG_MAJOR} and wasm-ld-${CLANG_MAJOR} (Debian packages clang-${CLANG_MAJOR} and lld-${CLANG_MAJOR}) are required`);
    process.exit(2);
  }
  if (tc.major !== CLANG_MAJOR) {
    console.warn(`build-kernels: built with ${tc.version}; the committed modules come from clang ${CLANG_MAJOR}`);
  }
  const files = generate(tc);
  if (check) {
    const stale = [...files].filter(([name, bytes]) => {
      const path = join(outDir, name);
      return !existsSync(path) || !readFileSync(path).equals(bytes);
    });
    if (stale.length > 0) {
      console.error(
        `build-kernels --check: ${stale.map(([name]) => `src/kernels/generated/${name}`).join(', ')} ` +
          'is not what src/kernels/c/ builds to; run `npm run build:kernels` and commit the result',
      );
      process.exit(1);
    }
    console.log('build-kernels --check: the committed modules match their sources');
    return;
  }
  for (const [name, bytes] of files) writeFileSync(join(outDir, name), bytes);
  console.log(`build-kernels: wrote ${[...files.keys()].join(', ')} into ${outDir}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
