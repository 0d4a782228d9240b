/**
 * Builds selfsup's WebAssembly kernels from src/kernels/c/*.c with Debian's
 * clang 14 + lld and embeds them, base64-encoded, in
 * src/kernels/generated/kernels-wasm.ts, so the package needs no compiler and
 * the module travels through any bundler (no .wasm file to serve).
 *
 *   npx tsx scripts/build-kernels.ts           rebuild and write the generated module
 *   npx tsx scripts/build-kernels.ts --check   rebuild into memory; exit 1 if the
 *                                              committed module differs
 *
 * Two variants are built from the same sources: one for tfjs's ordinary
 * memory, one for the shared memory of its threaded build (a module that
 * imports shared memory must itself be built with --shared-memory).
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
const outFile = join(root, 'src/kernels/generated/kernels-wasm.ts');

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

/** The compiler and linker, or null when the toolchain is not installed. */
export function findToolchain(): Toolchain | null {
  const clang = which(['clang-14', 'clang']);
  const lld = which(['wasm-ld-14', 'wasm-ld']);
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
  '-Wall',
  '-Wextra',
  '-Werror',
  '-c',
];

const VARIANTS: Record<'plain' | 'shared', { cflags: string[]; ldflags: string[] }> = {
  plain: { cflags: [], ldflags: [] },
  shared: { cflags: ['-matomics'], ldflags: ['--shared-memory', '--max-memory=4294967296'] },
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

function buildVariant(tc: Toolchain, variant: 'plain' | 'shared', workDir: string): Buffer {
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

function wrap(b64: string, width = 100): string {
  const lines = [];
  for (let i = 0; i < b64.length; i += width) lines.push(`  '${b64.slice(i, i + width)}'`);
  return lines.join(' +\n');
}

/** Builds both variants and returns the text of the generated TypeScript module. */
export function generate(tc: Toolchain): string {
  const workDir = mkdtempSync(join(tmpdir(), 'selfsup-kernels-'));
  try {
    const plain = buildVariant(tc, 'plain', workDir);
    const shared = buildVariant(tc, 'shared', workDir);
    return [
      '// Generated by scripts/build-kernels.ts from src/kernels/c/ — do not edit.',
      `// Rebuild with \`npm run build:kernels\` (clang ${tc.major} + wasm-ld, -O3 -msimd128).`,
      '',
      '/** sha256 of the C sources this module was built from (checked by tests/kernels/build.test.ts). */',
      `export const KERNELS_SOURCE_SHA256 = '${sourceHash()}';`,
      '',
      `/** The kernels for tfjs's non-shared wasm memory (${plain.length} bytes), base64. */`,
      `export const KERNELS_WASM_BASE64 =\n${wrap(plain.toString('base64'))};`,
      '',
      `/** The same kernels for the shared memory of tfjs's threaded build (${shared.length} bytes), base64. */`,
      `export const KERNELS_WASM_SHARED_BASE64 =\n${wrap(shared.toString('base64'))};`,
      '',
    ].join('\n');
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function main(): void {
  const check = process.argv.includes('--check');
  const tc = findToolchain();
  if (!tc) {
    console.error('build-kernels: clang and wasm-ld (Debian packages clang and lld) are required');
    process.exit(2);
  }
  if (tc.major !== '14') {
    console.warn(`build-kernels: built with ${tc.version}; the committed module comes from clang 14`);
  }
  const text = generate(tc);
  if (check) {
    const committed = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    if (committed !== text) {
      console.error(
        'build-kernels --check: src/kernels/generated/kernels-wasm.ts is not what src/kernels/c/ builds to; ' +
          'run `npm run build:kernels` and commit the result',
      );
      process.exit(1);
    }
    console.log('build-kernels --check: the committed module matches its sources');
    return;
  }
  writeFileSync(outFile, text);
  console.log(`build-kernels: wrote ${outFile}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
