/**
 * What the active backend can still hold, and the check every public
 * function runs on the bytes its outputs and temporaries need before it does
 * any work: a call that cannot fit is refused in microseconds with a
 * {@link ResourceError} naming the argument and the numbers, instead of
 * running for minutes or writing through a failed allocation.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ResourceError } from './errors.js';
import { describeValue, formatShape } from './validate.js';

/**
 * Bytes a wasm32 module can address: 4 GiB less the last 64 KiB page
 * (tfjs-backend-wasm's `getHeapMax()`).
 */
export const WASM32_HEAP_BYTES = 4294901760;

/**
 * Bytes of the wasm heap that are not tensors: static data, stacks,
 * selfsup's kernel scratch and allocator overhead (measured ≈ 20 MB; kept
 * generous so a refusal never depends on fragmentation of the last bytes).
 */
const WASM_RUNTIME_RESERVE = 64 * 1024 * 1024;

/** The largest typed array V8 (Node, Chromium) makes: 2³² elements. */
const MAX_TYPED_ARRAY_ELEMENTS = 2 ** 32;

/** What {@link memoryBudget} reports. */
export interface MemoryBudget {
  /** The backend the numbers are for, e.g. `'wasm'`. */
  backend: string;
  /** Bytes the backend can hold in all (wasm32: 4 GiB address space; cpu in Node: the machine's memory); `null` when unknown (GPUs). */
  capacityBytes: number | null;
  /** Bytes held by live tensors now (`tf.memory().numBytes`). */
  inUseBytes: number;
  /** Bytes a call may still allocate: capacity − in use − the runtime's reserve (`Infinity` when the capacity is unknown). */
  availableBytes: number;
  /** Bytes of the largest single tensor the backend can make (typed-array, texture or buffer limit). */
  maxTensorBytes: number;
  /** Where the capacity comes from, for messages. */
  source: string;
}

interface ProcessLike {
  getBuiltinModule?: (name: string) => unknown;
  memoryUsage?: { rss?: () => number };
}

function nodeMemory(): { total: number; rss: number } | null {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const os = proc?.getBuiltinModule?.('os') as { totalmem?: () => number } | undefined;
  if (typeof os?.totalmem !== 'function') return null;
  return { total: os.totalmem(), rss: proc?.memoryUsage?.rss?.() ?? 0 };
}

function gpuTensorLimit(backendName: string): { bytes: number; source: string } | null {
  const backend = tf.findBackend(backendName) as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } } | null;
  if (backendName === 'webgpu') {
    const limits = backend?.device?.limits;
    const bytes = Math.min(limits?.maxStorageBufferBindingSize ?? Infinity, limits?.maxBufferSize ?? Infinity);
    return Number.isFinite(bytes) ? { bytes, source: 'the WebGPU adapter’s largest storage buffer' } : null;
  }
  if (backendName === 'webgl') {
    let side: number;
    try {
      side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    } catch {
      return null;
    }
    // A packed texture holds 4 float32 channels per texel.
    return side > 0 ? { bytes: side * side * 4 * 4, source: `the WebGL texture limit (${side}×${side} RGBA float)` } : null;
  }
  return null;
}

/**
 * What the active backend can still hold: its capacity, the bytes live
 * tensors use, what is left for a new call, and the largest single tensor it
 * can make.
 *
 * - **wasm**: wasm32 addresses 4 GiB; the available bytes are 4 GiB less the
 *   tensors in use and a 64 MiB reserve for the runtime.
 * - **cpu**: in Node, the machine's physical memory less this process's
 *   resident set; one tensor holds at most 2³² elements (V8's typed-array
 *   limit). In a browser the capacity is unknown and only the per-tensor
 *   limit applies.
 * - **webgl / webgpu**: the capacity (GPU memory) is unknown; one tensor is
 *   bounded by the texture size or the adapter's buffer limit.
 *
 * @example
 * ```ts
 * import { memoryBudget } from 'selfsup';
 *
 * const budget = memoryBudget();
 * console.log(budget.backend, budget.availableBytes > 0, budget.maxTensorBytes > 0); // cpu true true
 * ```
 */
export function memoryBudget(): MemoryBudget {
  const backend = tf.getBackend();
  const inUseBytes = tf.memory().numBytes;
  const typedArrayLimit = MAX_TYPED_ARRAY_ELEMENTS * 4;
  if (backend === 'wasm') {
    const available = Math.max(0, WASM32_HEAP_BYTES - inUseBytes - WASM_RUNTIME_RESERVE);
    return {
      backend,
      capacityBytes: WASM32_HEAP_BYTES,
      inUseBytes,
      availableBytes: available,
      maxTensorBytes: available,
      source: 'the wasm32 address space (4 GiB)',
    };
  }
  const gpu = gpuTensorLimit(backend);
  if (gpu !== null) {
    return { backend, capacityBytes: null, inUseBytes, availableBytes: Infinity, maxTensorBytes: gpu.bytes, source: gpu.source };
  }
  const node = nodeMemory();
  if (node !== null) {
    const available = Math.max(0, node.total - Math.max(node.rss, inUseBytes));
    return {
      backend,
      capacityBytes: node.total,
      inUseBytes,
      availableBytes: available,
      maxTensorBytes: Math.min(typedArrayLimit, available),
      source: "the machine's physical memory",
    };
  }
  return { backend, capacityBytes: null, inUseBytes, availableBytes: Infinity, maxTensorBytes: typedArrayLimit, source: "the JavaScript engine's typed-array limit" };
}

/** Bytes of one element of `dtype`. */
export function bytesPerElement(dtype: tf.DataType = 'float32'): number {
  return dtype === 'bool' ? 1 : dtype === 'complex64' ? 8 : 4;
}

/** Bytes of a tensor of `shape` and `dtype` (a float: large products stay exact enough to compare). */
export function tensorBytes(shape: readonly number[], dtype: tf.DataType = 'float32'): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n * bytesPerElement(dtype);
}

/** `1234567890` → `"1.15 GiB"`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toPrecision(3)} ${units[u]}`;
}

/** One tensor a call will create: its shape (and dtype, float32 unless given). */
export type PlannedTensor = readonly number[] | { shape: readonly number[]; dtype?: tf.DataType; count?: number };

/**
 * Throws a {@link ResourceError} unless the tensors a call plans to create
 * (outputs and temporaries alive at the same time) fit in what the active
 * backend can still hold, and none exceeds its largest single tensor. The
 * message names `fn` and `arg` and gives the bytes asked for, the bytes
 * available, the capacity and the bytes in use. Runs in microseconds: call it
 * before any work or allocation.
 *
 * @param fn the public function, for the message.
 * @param arg the argument or option that sets the size, e.g. `'options.size'`.
 * @param tensors the shapes (with dtype and multiplicity) alive at the peak.
 *
 * @example
 * ```ts
 * import { assertMemoryFits, ResourceError } from 'selfsup';
 *
 * assertMemoryFits('myOp', 'options.size', [[64, 64]]); // fine
 * try {
 *   assertMemoryFits('myOp', 'options.size', [[1e6, 1e6]]); // 4 TB
 * } catch (e) {
 *   console.log(e instanceof ResourceError); // true
 * }
 * ```
 */
export function assertMemoryFits(fn: string, arg: string, tensors: readonly PlannedTensor[]): void {
  if (!Array.isArray(tensors)) throw new InvalidArgumentError('assertMemoryFits', 'tensors', 'be an array of shapes or { shape, dtype?, count? }', describeValue(tensors));
  for (const [i, t] of tensors.entries()) {
    const shape = Array.isArray(t) ? t : (t as { shape?: unknown } | null)?.shape;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
      throw new InvalidArgumentError('assertMemoryFits', `tensors[${i}]`, 'be a shape (an array of numbers) or { shape, dtype?, count? }', describeValue(t));
    }
  }
  let total = 0;
  let largest = 0;
  let largestShape: readonly number[] = [];
  for (const t of tensors) {
    const shape = Array.isArray(t) ? (t as readonly number[]) : (t as { shape: readonly number[] }).shape;
    const dtype = Array.isArray(t) ? 'float32' : (t as { dtype?: tf.DataType }).dtype;
    const count = Array.isArray(t) ? 1 : ((t as { count?: number }).count ?? 1);
    const bytes = tensorBytes(shape, dtype);
    total += bytes * count;
    if (bytes > largest || Number.isNaN(bytes)) {
      largest = bytes;
      largestShape = shape;
    }
  }
  if (total === 0) return;
  if (Number.isNaN(total)) total = Infinity;
  const budget = memoryBudget();
  if (total > budget.availableBytes) {
    const capacity =
      budget.capacityBytes === null
        ? ''
        : `: ${budget.source} less ${formatBytes(budget.inUseBytes)} in use by ${tf.memory().numTensors} tensors`;
    throw new ResourceError(
      fn,
      arg,
      total,
      budget.availableBytes,
      `asks for ${formatBytes(total)} (${total.toExponential(3)} bytes) of outputs and temporaries, more than the ${budget.backend} ` +
        `backend can hold: ${formatBytes(budget.availableBytes)} available${capacity}. Use a smaller size or batch`,
    );
  }
  if (largest > budget.maxTensorBytes) {
    throw new ResourceError(
      fn,
      arg,
      largest,
      budget.maxTensorBytes,
      `asks for a tensor of shape ${formatShape(largestShape as number[])} (${formatBytes(largest)}), larger than the ` +
        `${budget.backend} backend's largest tensor (${formatBytes(budget.maxTensorBytes)}, ${budget.source}). Use a smaller size or batch`,
    );
  }
}
