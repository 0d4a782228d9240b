import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { describeValue, isTensor } from '../core/validate.js';

/** The typed arrays `.npy` files are written from and read into. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** An array read from a `.npy` file. */
export interface NpyData {
  /** The values, row-major (C order). */
  values: NpyArray;
  /** The array's shape. */
  shape: number[];
  /** NumPy's dtype descriptor: `'<f4'`, `'<f8'`, `'<i4'` or `'|u1'`. */
  descr: string;
}

const DESCR: [new (n: number) => NpyArray, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int32Array, '<i4'],
  [Uint8Array, '|u1'],
];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Encodes an array in NumPy's `.npy` format (version 1.0: the magic string,
 * a header dict `{'descr', 'fortran_order': False, 'shape'}` padded so the
 * data starts on a 64-byte boundary, then the little-endian values), the file
 * `numpy.load` reads. Works in browsers too (offer the bytes as a download).
 *
 * @param data a tensor (float32 → `<f4`, int32 → `<i4`) or a typed array with `shape`.
 * @param shape the array's shape; required for a typed array, taken from a tensor.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { decodeNpy, encodeNpy } from 'selfsup';
 *
 * const bytes = encodeNpy(tf.tensor2d([[1, 2, 3], [4, 5, 6]]));
 * console.log(bytes.length % 64 === 0, new TextDecoder().decode(bytes.subarray(10, 60)));
 * const { values, shape } = decodeNpy(bytes);
 * console.log(shape, Array.from(values)); // [2, 3] [1, 2, 3, 4, 5, 6]
 * ```
 */
export function encodeNpy(data: tf.Tensor | NpyArray, shape?: readonly number[]): Uint8Array {
  const fn = 'encodeNpy';
  let values: NpyArray;
  let dims: number[];
  if (isTensor(data)) {
    if (data.isDisposed) throw new InvalidArgumentError(fn, 'data', 'be a live tensor', 'a disposed tensor');
    if (data.dtype !== 'float32' && data.dtype !== 'int32') throw new InvalidArgumentError(fn, 'data', 'be a float32 or int32 tensor', data.dtype);
    values = data.dataSync() as Float32Array | Int32Array;
    dims = [...data.shape];
  } else {
    if (!DESCR.some(([type]) => data instanceof type)) {
      throw new InvalidArgumentError(fn, 'data', 'be a tensor or a Float32Array, Float64Array, Int32Array or Uint8Array', describeValue(data));
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new InvalidArgumentError(fn, 'shape', 'be an array of non-negative integers (required with a typed array)', describeValue(shape));
    }
    dims = [...shape];
    values = data;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) {
    throw new InvalidArgumentError(fn, 'shape', `have ${values.length} elements in all (the data's length)`, `[${dims.join(', ')}] (${count})`);
  }
  const descr = DESCR.find(([type]) => values instanceof type)![1];
  const shapeText = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, ' ')}\n`;
  const out = new Uint8Array(total + values.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays are little-endian on every platform JavaScript runs on that matters here; write explicitly anyway.
  const view = new DataView(out.buffer, total);
  const bytes = values.BYTES_PER_ELEMENT;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (values instanceof Float32Array) view.setFloat32(i * bytes, v, true);
    else if (values instanceof Float64Array) view.setFloat64(i * bytes, v, true);
    else if (values instanceof Int32Array) view.setInt32(i * bytes, v, true);
    else view.setUint8(i, v);
  }
  return out;
}

/**
 * Reads a `.npy` file's bytes (version 1.0 to 3.0, C order, little-endian
 * float32, float64, int32 or uint8): the inverse of {@link encodeNpy}.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from 'selfsup';
 *
 * const { values, shape, descr } = decodeNpy(encodeNpy(new Int32Array([7, 8]), [2]));
 * console.log(shape, descr, Array.from(values)); // [2] '<i4' [7, 8]
 * ```
 */
export function decodeNpy(bytes: Uint8Array): NpyData {
  const fn = 'decodeNpy';
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(fn, 'bytes', 'be a Uint8Array', describeValue(bytes));
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new SelfsupError(`${fn}: not a .npy file (no \\x93NUMPY magic string)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new SelfsupError(`${fn}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new SelfsupError(`${fn}: Fortran-order arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const entry = DESCR.find(([, d]) => d === descr || (d === '|u1' && descr === '<u1'));
  if (entry === undefined) throw new SelfsupError(`${fn}: dtype ${descr} is not supported (float32, float64, int32, uint8)`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const values = new entry[0](count);
  const size = values.BYTES_PER_ELEMENT;
  if (bytes.length - offset < count * size) throw new SelfsupError(`${fn}: the file is truncated (${bytes.length - offset} data bytes for ${count} values)`);
  for (let i = 0; i < count; i++) {
    const at = offset + i * size;
    if (values instanceof Float32Array) values[i] = view.getFloat32(at, true);
    else if (values instanceof Float64Array) values[i] = view.getFloat64(at, true);
    else if (values instanceof Int32Array) values[i] = view.getInt32(at, true);
    else values[i] = view.getUint8(at);
  }
  return { values, shape, descr: entry[1] };
}
