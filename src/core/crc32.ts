/**
 * CRC-32 (IEEE 802.3, zlib's and PNG's polynomial 0xEDB88320): the
 * checkpoints use it to tell a corrupted or truncated file from a good one.
 * Node's native `zlib.crc32` (Node ≥ 20.15) computes it where available, at
 * memory speed; browsers use the plain JavaScript below, which gives the same
 * values.
 *
 * @module
 */
import { nodeBuiltins } from './node-builtins.js';

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
let native: NativeCrc32 | null | undefined;

function nativeCrc32(): NativeCrc32 | null {
  if (native === undefined) {
    const zlib = nodeBuiltins()?.zlib as { crc32?: NativeCrc32 } | undefined;
    native = typeof zlib?.crc32 === 'function' ? zlib.crc32.bind(zlib) : null;
  }
  return native;
}

const TABLE = (() => {
  // Slice-by-4: four tables let the loop consume four bytes per iteration.
  const t = new Uint32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < 4; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before
 * them) so that a long stream can be checksummed in pieces. Matches zlib's
 * `crc32`: `crc32(utf8('123456789')) === 0xcbf43926`.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const fast = bytes.length >= 1024 ? nativeCrc32() : null;
  if (fast !== null) return fast(bytes, previous) >>> 0;
  return crc32Js(bytes, previous);
}

/** The plain JavaScript CRC-32 (what browsers run). */
export function crc32Js(bytes: Uint8Array, previous = 0): number {
  const t = TABLE;
  let c = ~previous >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
