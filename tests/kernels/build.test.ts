/**
 * The committed WebAssembly module is what its C sources build to: the
 * source hash recorded in the generated module must match the sources (always
 * checked), and where Debian's clang 14 + lld are installed (CI installs them)
 * a rebuild must reproduce the committed file byte for byte.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findToolchain, generate, sourceHash } from '../../scripts/build-kernels.js';
import { KERNELS_SOURCE_SHA256, KERNELS_WASM_BASE64 } from '../../src/kernels/generated/kernels-wasm.js';

const generatedPath = fileURLToPath(new URL('../../src/kernels/generated/kernels-wasm.ts', import.meta.url));
const toolchain = findToolchain();
const why = 'clang and wasm-ld are not installed (apt-get install clang lld); the byte-for-byte rebuild check is skipped';

describe('kernel build', () => {
  it('the generated module was built from the current C sources', () => {
    expect(KERNELS_SOURCE_SHA256, 'src/kernels/c/ changed: run `npm run build:kernels` and commit the result').toBe(sourceHash());
  });

  it('the embedded module is valid WebAssembly with SIMD', () => {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it.skipIf(!toolchain)(`rebuilding from source reproduces the committed module${toolchain ? '' : ` (skipped: ${why})`}`, () => {
    expect(toolchain!.major, `the committed module comes from clang 14, found ${toolchain!.version}`).toBe('14');
    expect(generate(toolchain!) === readFileSync(generatedPath, 'utf8'), 'run `npm run build:kernels` and commit the result').toBe(true);
  });
});
