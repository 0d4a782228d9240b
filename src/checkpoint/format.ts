import * as tf from '@tensorflow/tfjs-core';
import { crc32 } from '../core/crc32.js';
import { CheckpointError, InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { SELFSUP_VERSION } from '../core/version.js';
import { disposeTaskState, type JsonValue, type StatefulTask, type TaskState } from '../tasks/task-state.js';

/**
 * The `format` field of every selfsup checkpoint manifest.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from 'selfsup';
 *
 * console.log(CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION); // selfsup-checkpoint 1
 * ```
 */
export const CHECKPOINT_FORMAT = 'selfsup-checkpoint';
/**
 * The version of the checkpoint layout this selfsup writes, and the newest it
 * reads (a newer one is refused with a `CheckpointError`).
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FORMAT_VERSION } from 'selfsup';
 *
 * console.log(CHECKPOINT_FORMAT_VERSION); // 1
 * ```
 */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Where one tensor of a checkpoint lies in its weights file. */
export interface CheckpointTensorEntry {
  /** The tensor's name in the task's state (`encoder/0`, `optimizer/accumulatedFirstMoment/3`, …). */
  name: string;
  /** `float32`, `int32` or `bool` (one byte per value). */
  dtype: 'float32' | 'int32' | 'bool';
  /** The tensor's shape. */
  shape: number[];
  /** Byte offset in the weights file (a multiple of 8). */
  offset: number;
  /** Byte length (size × 4, or size for `bool`). */
  byteLength: number;
  /** CRC-32 of its bytes. */
  crc32: number;
}

/**
 * A checkpoint's `manifest.json`: what wrote it, the method and its settings,
 * the JSON part of the state, the caller's extra JSON, and where each tensor
 * lies in the weights file (little-endian, each tensor at an 8-byte-aligned
 * offset) with its checksum.
 */
export interface CheckpointManifest {
  /** Always `'selfsup-checkpoint'`. */
  format: typeof CHECKPOINT_FORMAT;
  /** The layout version ({@link CHECKPOINT_FORMAT_VERSION}). */
  formatVersion: number;
  /** The selfsup version that wrote it. */
  selfsupVersion: string;
  /** The tfjs-core version that wrote it. */
  tfjsVersion: string;
  /** The tfjs backend the task ran on (continuation is bitwise on the same backend). */
  backend: string;
  /** When it was written (ISO 8601). */
  createdAt: string;
  /** The method's name (`task.name`). */
  method: string;
  /** Steps taken when it was written. */
  step: number;
  /** The method's settings (see {@link TaskState.config}). */
  config: { [key: string]: JsonValue };
  /** The JSON part of the state (see {@link TaskState.pieces}). */
  pieces: Record<string, JsonValue>;
  /** The caller's JSON (a dataset position, a run id, …), or null. */
  extra: JsonValue;
  /** Every tensor, in file order. */
  tensors: CheckpointTensorEntry[];
  /** Size of the weights file in bytes. */
  weightsByteLength: number;
  /** CRC-32 of this manifest's JSON without this field. */
  checksum: number;
}

/**
 * A checkpoint in memory: the manifest (JSON) and the weights (bytes). Both
 * are structured-cloneable, so a browser can keep them in IndexedDB or post
 * them to a worker as they are.
 */
export interface CheckpointData {
  /** The manifest. */
  manifest: CheckpointManifest;
  /** The tensors' bytes, laid out as the manifest says. */
  weights: Uint8Array;
}

/** Options of {@link encodeCheckpoint} (and `saveCheckpoint`). */
export interface EncodeCheckpointOptions {
  /**
   * JSON data stored with the state and returned on load — the position of
   * your data pipeline (a batch stream's `state()`), a run id, the command line.
   * Checked: plain objects, arrays, finite numbers, strings, booleans, null.
   * @default null
   */
  extra?: unknown;
}

/** What loading a checkpoint gives back besides the restored task. */
export interface RestoredCheckpoint {
  /** Steps the task had taken: the `startStep` of the resumed loop. */
  step: number;
  /** The `extra` JSON saved with it (null if none): cast it to what you saved. */
  extra: unknown;
  /** The whole manifest. */
  manifest: CheckpointManifest;
}

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1 } as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** CRC-32 of the manifest's JSON without its checksum field. */
function manifestChecksum(manifest: Omit<CheckpointManifest, 'checksum'> & { checksum?: number }): number {
  const { checksum: _ignored, ...rest } = manifest;
  void _ignored;
  return crc32(utf8(JSON.stringify(rest)));
}

/** Throws unless `value` is JSON data (plain objects, arrays, finite numbers, strings, booleans, null). */
function assertJson(value: unknown, fn: string, path: string): asserts value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertJson(v, fn, `${path}[${i}]`));
    return;
  } else if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) {
      for (const [k, v] of Object.entries(value as object)) assertJson(v, fn, `${path}.${k}`);
      return;
    }
  }
  throw new InvalidArgumentError(fn, path, 'be JSON data (plain objects, arrays, finite numbers, strings, booleans, null)', describeValue(value));
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Writes a task's complete state — see `BasePretextTask.getState` — into a
 * checkpoint in memory: a manifest and one byte array. It reads the tensors
 * asynchronously (no synchronous read on GPU backends) and leaves no tensor
 * behind. {@link decodeCheckpoint} restores it; `saveCheckpoint` writes it to
 * a folder in Node; in a browser, store the object in IndexedDB as it is.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SimCLR, mlpEncoder, encodeCheckpoint, decodeCheckpoint } from 'selfsup';
 *
 * const make = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
 * const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * const task = make();
 * task.step(images);
 * const saved = await encodeCheckpoint(task, { extra: { epoch: 0 } });
 * console.log(saved.manifest.method, saved.manifest.step, saved.weights.byteLength > 0); // SimCLR 1 true
 *
 * const resumed = make();
 * const { step, extra } = decodeCheckpoint(resumed, saved);
 * console.log(step, extra, task.step(images) === resumed.step(images)); // 1 { epoch: 0 } true
 * task.dispose();
 * resumed.dispose();
 * ```
 */
export async function encodeCheckpoint(task: StatefulTask, options: EncodeCheckpointOptions = {}): Promise<CheckpointData> {
  return encodeWith(task, options, 'encodeCheckpoint');
}

/** A checkpoint in pieces: the manifest and each tensor's bytes (in manifest order, padding not included). */
export interface CheckpointPieces {
  manifest: CheckpointManifest;
  parts: Uint8Array[];
}

/** The weights file of `pieces` as one array (tensors at their aligned offsets). */
export function joinParts({ manifest, parts }: CheckpointPieces): Uint8Array {
  const weights = new Uint8Array(manifest.weightsByteLength);
  parts.forEach((bytes, i) => weights.set(bytes, manifest.tensors[i]!.offset));
  return weights;
}

/** {@link encodeCheckpoint} with the caller's name in its errors. */
export async function encodeWith(task: StatefulTask, options: EncodeCheckpointOptions, fn: string): Promise<CheckpointData> {
  const pieces = await encodePieces(task, options, fn);
  return { manifest: pieces.manifest, weights: joinParts(pieces) };
}

/**
 * The checkpoint of `task` as a manifest and one byte array per tensor, so
 * that a file writer can stream them without assembling one large buffer.
 */
export async function encodePieces(task: StatefulTask, options: EncodeCheckpointOptions, fn: string): Promise<CheckpointPieces> {
  if (typeof task !== 'object' || task === null || typeof (task as StatefulTask).getState !== 'function') {
    throw new InvalidArgumentError(fn, 'task', 'be a selfsup method or pretext task (with getState/setState)', describeValue(task));
  }
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(fn, 'options', 'be an object', describeValue(options));
  for (const key of Object.keys(options)) {
    if (key !== 'extra') throw new InvalidArgumentError(fn, `options.${key}`, 'be a known option (extra)', 'an unknown option');
  }
  const extra = options.extra ?? null;
  assertJson(extra, fn, 'options.extra');
  if (!LITTLE_ENDIAN) throw new SelfsupError(`${fn}: checkpoints are little-endian and this platform is not`);
  const state = task.getState();
  try {
    const tensors: CheckpointTensorEntry[] = [];
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const [name, t] of Object.entries(state.tensors)) {
      if (!(t.dtype in DTYPE_BYTES)) throw new SelfsupError(`${fn}: the state tensor ${name} has dtype ${t.dtype}, which checkpoints do not store`);
      const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      tensors.push({ name, dtype: t.dtype as CheckpointTensorEntry['dtype'], shape: [...t.shape], offset, byteLength: bytes.byteLength, crc32: crc32(bytes) });
      parts.push(bytes);
      offset = align8(offset + bytes.byteLength);
    }
    const body: Omit<CheckpointManifest, 'checksum'> = {
      format: CHECKPOINT_FORMAT,
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      selfsupVersion: SELFSUP_VERSION,
      tfjsVersion: tf.version_core,
      backend: tf.getBackend(),
      createdAt: new Date().toISOString(),
      method: state.method,
      step: state.steps,
      config: state.config,
      pieces: state.pieces,
      extra: extra as JsonValue,
      tensors,
      weightsByteLength: offset,
    };
    return { manifest: { ...body, checksum: manifestChecksum(body) }, parts };
  } finally {
    disposeTaskState(state);
  }
}

/**
 * Checks a parsed manifest (format, version, checksum, tensor table) and
 * returns it typed. `where` names the checkpoint in the messages.
 */
export function checkManifest(manifest: unknown, fn: string, where: string): CheckpointManifest {
  const fail = (reason: string): never => {
    throw new CheckpointError(fn, `${where}: ${reason}`);
  };
  const m = manifest as CheckpointManifest;
  if (typeof m !== 'object' || m === null || m.format !== CHECKPOINT_FORMAT) return fail('this is not a selfsup checkpoint manifest');
  if (typeof m.formatVersion !== 'number' || m.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    return fail(`format version ${String(m.formatVersion)} was written by a newer selfsup (${String(m.selfsupVersion)}); this one reads version ${CHECKPOINT_FORMAT_VERSION}`);
  }
  if (typeof m.checksum !== 'number' || manifestChecksum(m) !== m.checksum) {
    return fail('the manifest checksum does not match its content (the manifest is corrupted or was edited)');
  }
  if (typeof m.method !== 'string' || typeof m.step !== 'number' || !Array.isArray(m.tensors) || typeof m.weightsByteLength !== 'number') {
    return fail('the manifest is missing fields');
  }
  for (const e of m.tensors) {
    const size = Array.isArray(e?.shape) ? e.shape.reduce((a, b) => a * b, 1) : NaN;
    const ok =
      typeof e.name === 'string' &&
      e.dtype in DTYPE_BYTES &&
      e.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      e.byteLength === size * DTYPE_BYTES[e.dtype] &&
      Number.isInteger(e.offset) &&
      e.offset >= 0 &&
      e.offset % 8 === 0 &&
      e.offset + e.byteLength <= m.weightsByteLength;
    if (!ok) fail(`the manifest's entry for tensor ${String(e?.name)} is malformed`);
  }
  return m;
}

/**
 * Restores a checkpoint made by {@link encodeCheckpoint} into `task` — a
 * task of the same method, built with the same options and encoder
 * architecture (a fresh one, typically) — and returns the step and the extra
 * JSON saved with it. All or nothing: the checksums, then the method, the
 * options and every tensor's dtype and shape are checked before anything is
 * assigned; a {@link CheckpointError} names the first difference and leaves
 * the task as it was.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { BYOL, SimCLR, mlpEncoder, encodeCheckpoint, decodeCheckpoint, CheckpointError } from 'selfsup';
 *
 * const encoder = () => mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
 * const simclr = new SimCLR(encoder(), { projectionDim: 8, seed: 1 });
 * const saved = await encodeCheckpoint(simclr);
 * const byol = new BYOL(encoder(), { projectionDim: 8, seed: 1 });
 * try {
 *   decodeCheckpoint(byol, saved);
 * } catch (e) {
 *   console.log(e instanceof CheckpointError, (e as Error).message); // true decodeCheckpoint: checkpoint: the state is SimCLR's, this task is BYOL
 * }
 * simclr.dispose();
 * byol.dispose();
 * ```
 */
export function decodeCheckpoint(task: StatefulTask, data: CheckpointData): RestoredCheckpoint {
  return decodeWith(task, data, 'decodeCheckpoint', 'checkpoint');
}

/** {@link decodeCheckpoint} with the caller's name and a description of the checkpoint (its path) in the errors. */
export function decodeWith(task: StatefulTask, data: CheckpointData, fn: string, where: string, copy = true): RestoredCheckpoint {
  if (typeof task !== 'object' || task === null || typeof (task as StatefulTask).setState !== 'function') {
    throw new InvalidArgumentError(fn, 'task', 'be a selfsup method or pretext task (with getState/setState)', describeValue(task));
  }
  if (typeof data !== 'object' || data === null || !(data.weights instanceof Uint8Array)) {
    throw new InvalidArgumentError(fn, 'data', 'be { manifest, weights: Uint8Array } from encodeCheckpoint', describeValue(data));
  }
  const fail = (reason: string): never => {
    throw new CheckpointError(fn, `${where}: ${reason}`);
  };
  const manifest = checkManifest(data.manifest, fn, where);
  const { weights } = data;
  if (weights.byteLength !== manifest.weightsByteLength) {
    fail(`the weights are ${weights.byteLength} bytes, the manifest expects ${manifest.weightsByteLength} (truncated or from another checkpoint)`);
  }
  for (const e of manifest.tensors) {
    if (crc32(weights.subarray(e.offset, e.offset + e.byteLength)) !== e.crc32) {
      fail(`the checksum of tensor ${e.name} does not match (the weights are corrupted or from another checkpoint)`);
    }
  }
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const e of manifest.tensors) {
      // A copy, unless the bytes are private (a file just read) and the backend copies them into its own
      // memory anyway (wasm): a tensor must not alias the caller's bytes, nor keep a whole file alive
      // (the cpu backend keeps the array it is given); typed views also need aligned offsets.
      const view = !copy && tf.getBackend() === 'wasm' && (weights.byteOffset + e.offset) % 4 === 0;
      const bytes = view ? weights.subarray(e.offset, e.offset + e.byteLength) : weights.slice(e.offset, e.offset + e.byteLength);
      const length = e.byteLength / DTYPE_BYTES[e.dtype];
      const values =
        e.dtype === 'float32'
          ? new Float32Array(bytes.buffer, bytes.byteOffset, length)
          : e.dtype === 'int32'
            ? new Int32Array(bytes.buffer, bytes.byteOffset, length)
            : bytes;
      tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
    }
    const state: TaskState = { method: manifest.method, steps: manifest.step, config: manifest.config, tensors, pieces: manifest.pieces };
    try {
      task.setState(state);
    } catch (e) {
      if (e instanceof CheckpointError) fail(e.reason);
      throw e;
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { step: manifest.step, extra: manifest.extra ?? null, manifest };
}
