import type { ImageFormat } from './image-kernel.js';

/** What the first bytes of an image file say about it. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** Colour components of a JPEG frame (4: CMYK or YCCK); 0 for other formats. */
  components: number;
}

/** The header could not be read from the bytes given; `needMore` when the bytes ran out first. */
export interface HeaderProblem {
  problem: string;
  needMore: boolean;
}

const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const le16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const le24 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);

/**
 * Reads the size (and a JPEG's component count) from the start of a PNG,
 * JPEG or WebP file, without decoding: the cheap check `imageFolder` runs on
 * every file when it scans a folder. `format` is what the magic bytes said.
 */
export function readImageHeader(bytes: Uint8Array, format: ImageFormat): ImageHeader | HeaderProblem {
  if (format === 'png') {
    if (bytes.length < 33) return { problem: 'truncated PNG header', needMore: true };
    if (u32(bytes, 12) !== 0x49484452) return { problem: 'PNG without an IHDR chunk first', needMore: false };
    return valid(format, u32(bytes, 16), u32(bytes, 20), 0);
  }
  if (format === 'jpeg') return jpegHeader(bytes);
  if (format === 'webp') {
    if (bytes.length < 30) return { problem: 'truncated WebP header', needMore: true };
    const chunk = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
    if (chunk === 'VP8X') return valid(format, le24(bytes, 24) + 1, le24(bytes, 27) + 1, 0);
    if (chunk === 'VP8L') {
      const bits = (bytes[21]! | (bytes[22]! << 8) | (bytes[23]! << 16) | (bytes[24]! << 24)) >>> 0;
      return valid(format, (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, 0);
    }
    if (chunk === 'VP8 ') return valid(format, le16(bytes, 26) & 0x3fff, le16(bytes, 28) & 0x3fff, 0);
    return { problem: `WebP with an unknown first chunk '${chunk}'`, needMore: false };
  }
  return { problem: `${format.toUpperCase()} files are not supported`, needMore: false };
}

function valid(format: ImageFormat, width: number, height: number, components: number): ImageHeader | HeaderProblem {
  if (!(width >= 1 && height >= 1)) return { problem: `invalid image size ${width}×${height}`, needMore: false };
  return { format, width, height, components };
}

/** Walks a JPEG's marker segments up to its frame header (SOFn). */
function jpegHeader(b: Uint8Array): ImageHeader | HeaderProblem {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { problem: `corrupt JPEG (no marker at byte ${i})`, needMore: false };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return { problem: 'corrupt JPEG (image data before a frame header)', needMore: false };
    const length = u16(b, i + 2);
    if (length < 2) return { problem: 'corrupt JPEG (bad segment length)', needMore: false };
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (i + 10 > b.length) break;
      return valid('jpeg', u16(b, i + 7), u16(b, i + 5), b[i + 9]!);
    }
    i += 2 + length;
  }
  return { problem: 'truncated JPEG (no frame header)', needMore: true };
}
