import { crc32 as zlibCrc32 } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../src/core/crc32.js';
import { SELFSUP_VERSION } from '../../src/core/version.js';

describe('crc32', () => {
  it('is zlib\'s CRC-32: the check value, empty input, every length mod 4, and pieces', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const bytes = Uint8Array.from({ length: 1031 }, (_, i) => (i * 131 + 7) & 0xff);
    for (const n of [1, 2, 3, 4, 5, 7, 64, 1031]) expect(crc32(bytes.subarray(0, n))).toBe(zlibCrc32(bytes.subarray(0, n)));
    expect(crc32(bytes.subarray(500), crc32(bytes.subarray(0, 500)))).toBe(zlibCrc32(bytes));
    // What browsers run: the same values.
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
    for (const n of [0, 1, 3, 1031, 100_003]) expect(crc32Js(big.subarray(0, n))).toBe(zlibCrc32(big.subarray(0, n)));
    expect(crc32Js(big.subarray(7), crc32Js(big.subarray(0, 7)))).toBe(crc32(big));
  });
});

describe('SELFSUP_VERSION', () => {
  it('is package.json\'s version (checkpoints record it)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SELFSUP_VERSION).toBe(pkg.version);
  });
});
