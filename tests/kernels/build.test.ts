/**
 * The committed WebAssembly modules are what their C sources build to: the
 * source hash recorded beside them must match the sources (always checked),
 * and where Debian's clang 16 + lld 16 are installed (CI installs them) a
 * rebuild must reproduce every committed file byte for byte, the SIMD128 and
 * the relaxed-SIMD variants alike.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLANG_MAJOR, findToolchain, generate, sourceHash } from '../../scripts/build-kernels.js';
import { relaxedSimdSupported } from '../../src/kernels/wasm-runtime.js';
import { KERNEL_FILES, KERNELS_SOURCE_SHA256 } from '../../src/kernels/generated/kernels-wasm.js';

const generatedDir = fileURLToPath(new URL('../../src/kernels/generated/', import.meta.url));
const toolchain = findToolchain();
const why = `clang-${CLANG_MAJOR} and wasm-ld-${CLANG_MAJOR} are not installed (apt-get install clang-${CLANG_MAJOR} lld-${CLANG_MAJOR}); the byte-for-byte rebuild check is skipped`;

describe('kernel build', () => {
  it('the generated modules were built from the current C sources', () => {
    expect(KERNELS_SOURCE_SHA256, 'src/kernels/c/ changed: run `npm run build:kernels` and commit the result').toBe(sourceHash());
  });

  for (const [variant, { file, bytes, sha256 }] of Object.entries(KERNEL_FILES)) {
    const relaxed = variant.startsWith('relaxed');
    it(`${file} (${variant}) is the recorded file and valid WebAssembly ${relaxed ? 'wherever relaxed SIMD is' : 'with SIMD'}`, () => {
      const data = readFileSync(`${generatedDir}${file}`);
      expect(data.length).toBe(bytes);
      expect(createHash('sha256').update(data).digest('hex')).toBe(sha256);
      // A relaxed-SIMD module validates exactly where the runtime has relaxed SIMD (the runtime's own probe says so).
      expect(WebAssembly.validate(data)).toBe(relaxed ? relaxedSimdSupported() : true);
    });
  }

  it.skipIf(!toolchain)(`rebuilding from source reproduces the committed files${toolchain ? '' : ` (skipped: ${why})`}`, () => {
    expect(toolchain!.major, `the committed modules come from clang ${CLANG_MAJOR}, found ${toolchain!.version}`).toBe(CLANG_MAJOR);
    for (const [name, content] of generate(toolchain!)) {
      expect(content.equals(readFileSync(`${generatedDir}${name}`)), `${name}: run \`npm run build:kernels\` and commit the result`).toBe(true);
    }
  });
});
