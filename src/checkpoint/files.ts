/**
 * Checkpoints in a folder (Node): written under a temporary name, made
 * current by an atomic rename of a `latest` pointer, so that a process
 * killed at any moment of a save leaves the previous checkpoint loadable.
 *
 * Layout of `dir`:
 *
 * ```text
 * dir/
 *   latest                  the name of the current checkpoint, e.g. "step-00000120"
 *   step-00000120/
 *     manifest.json         CheckpointManifest (JSON)
 *     weights.bin           every tensor's bytes, little-endian, 8-byte aligned
 *   step-00000100/          an older one, while `keep` > 1
 *   .tmp-…                  a save in progress (or one a crash interrupted; removed by the next save)
 * ```
 *
 * @module
 */
import { CheckpointError, InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { nodeBuiltin, syncDirectory } from '../core/node.js';
import { assertInteger, assertKnownOptions, describeValue } from '../core/validate.js';
import type { StatefulTask } from '../tasks/task-state.js';
import {
  checkManifest,
  decodeWith,
  encodePieces,
  type CheckpointManifest,
  type EncodeCheckpointOptions,
  type RestoredCheckpoint,
} from './format.js';

/** The parts of Node's `fs` the checkpoint folders use. */
interface NodeFs {
  mkdirSync(path: string, options?: { recursive?: boolean }): unknown;
  readdirSync(path: string): string[];
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  renameSync(from: string, to: string): void;
  openSync(path: string, flags: string): number;
  writeSync(fd: number, data: Uint8Array, offset?: number, length?: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: 'utf8'): string;
  existsSync(path: string): boolean;
  statSync(path: string): { isDirectory(): boolean };
}

const MANIFEST = 'manifest.json';
const WEIGHTS = 'weights.bin';
const LATEST = 'latest';
const TEMP_PREFIX = '.tmp-';
/** Checkpoint folder names: `step-` + the zero-padded step, `.n` when a step was saved twice. */
const NAME = /^step-(\d{8,})(?:\.(\d+))?$/;
const CHUNK = 4 << 20;

/** What {@link SaveCheckpointOptions.onWrite} is told as a save proceeds. */
export interface CheckpointWriteProgress {
  /** The file being written. */
  file: 'weights.bin' | 'manifest.json' | 'latest';
  /** Bytes of it written so far. */
  written: number;
  /** Its size. */
  total: number;
}

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions extends EncodeCheckpointOptions {
  /**
   * Complete checkpoints to keep in the folder: the newest `keep`; older ones
   * are deleted once the new one is complete (never before).
   * @default 1
   */
  keep?: number;
  /**
   * Called after each piece of a file is written (up to 4 MiB; at least once
   * per file), and awaited: a progress display for large checkpoints. A save
   * interrupted here — the process killed — leaves the previous checkpoint
   * current.
   * @default undefined
   */
  onWrite?: (progress: CheckpointWriteProgress) => void | Promise<void>;
}

/** What {@link saveCheckpoint} returns. */
export interface SavedCheckpoint {
  /** The folder of the new checkpoint (`dir/step-…`). */
  path: string;
  /** Steps the task had taken. */
  step: number;
  /** Bytes written (manifest and weights). */
  bytes: number;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint extends RestoredCheckpoint {
  /** The folder of the checkpoint that was loaded. */
  path: string;
}

const BROWSER_HINT = 'in a browser use encodeCheckpoint / decodeCheckpoint and keep the result in IndexedDB';

/** The parts of Node's `path` the checkpoint folders use. */
interface NodePath {
  join(...parts: string[]): string;
}

function files(fn: string): { fs: NodeFs; path: NodePath } {
  return { fs: nodeBuiltin('node:fs', fn, BROWSER_HINT) as unknown as NodeFs, path: nodeBuiltin('node:path', fn, BROWSER_HINT) };
}

function assertDir(dir: unknown, fn: string): asserts dir is string {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError(fn, 'dir', 'be a folder path (a non-empty string)', describeValue(dir));
}

/** Runs a file-system step, turning a raw Node error into a SelfsupError naming the function and the path. */
function io<T>(fn: string, what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof SelfsupError) throw e;
    const err = new SelfsupError(`${fn}: cannot ${what}: ${(e as Error).message}`);
    (err as { cause?: unknown }).cause = e;
    throw err;
  }
}

/**
 * Writes `parts` one after the other to `file`, each at `offsets[i]` (the gaps
 * zero-filled), and flushes it to disk; `onWrite` is awaited after every
 * piece of at most 4 MiB.
 */
async function writeFileDurably(
  fs: NodeFs,
  file: string,
  parts: readonly Uint8Array[],
  offsets: readonly number[],
  total: number,
  name: CheckpointWriteProgress['file'],
  onWrite: SaveCheckpointOptions['onWrite'],
  fn: string,
): Promise<void> {
  const fd = io(fn, `create ${file}`, () => fs.openSync(file, 'w'));
  try {
    let written = 0;
    let reported = 0;
    const put = (bytes: Uint8Array) =>
      io(fn, `write ${file}`, () => {
        let done = 0;
        while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
        written += bytes.byteLength;
      });
    for (let i = 0; i <= parts.length; i++) {
      const gap = (i < parts.length ? offsets[i]! : total) - written;
      if (gap > 0) put(new Uint8Array(gap));
      if (i === parts.length) break;
      const bytes = parts[i]!;
      for (let start = 0; start < bytes.byteLength; start += CHUNK) {
        put(bytes.subarray(start, Math.min(bytes.byteLength, start + CHUNK)));
        if (onWrite && (written - reported >= CHUNK || written === total)) {
          reported = written;
          await onWrite({ file: name, written, total });
        }
      }
    }
    if (onWrite && reported !== written) await onWrite({ file: name, written, total });
    io(fn, `flush ${file}`, () => fs.fsyncSync(fd));
  } finally {
    fs.closeSync(fd);
  }
}

async function writeBytesDurably(
  fs: NodeFs,
  file: string,
  bytes: Uint8Array,
  name: CheckpointWriteProgress['file'],
  onWrite: SaveCheckpointOptions['onWrite'],
  fn: string,
): Promise<void> {
  await writeFileDurably(fs, file, [bytes], [0], bytes.byteLength, name, onWrite, fn);
}

/** Deletes `dir/name`, renaming it to a temporary name first so that a deletion cut short leaves only a temporary folder behind. */
function removeFolder(fs: NodeFs, path: NodePath, dir: string, name: string, fn: string): void {
  const doomed = path.join(dir, `${TEMP_PREFIX}delete-${uniqueSuffix()}`);
  io(fn, `remove ${path.join(dir, name)}`, () => {
    fs.renameSync(path.join(dir, name), doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  });
}

function uniqueSuffix(): string {
  const proc = (globalThis as { process?: { pid?: number } }).process;
  return `${proc?.pid ?? 0}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
}

function parseName(name: string): [number, number] | null {
  const m = NAME.exec(name);
  return m ? [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])] : null;
}

/** The name `latest` holds, checked, or null when there is none. */
function readLatest(fs: NodeFs, path: NodePath, dir: string, fn: string): string | null {
  const file = path.join(dir, LATEST);
  if (!fs.existsSync(file)) return null;
  const name = io(fn, `read ${file}`, () => fs.readFileSync(file, 'utf8')).trim();
  if (parseName(name) === null) throw new CheckpointError(fn, `${file} holds ${JSON.stringify(name.slice(0, 40))}, not a checkpoint name`);
  return name;
}

/**
 * The folder of the latest complete checkpoint in `dir`, or null when `dir`
 * holds none (or does not exist): how a command decides between starting
 * and resuming.
 *
 * @example
 * ```ts
 * import { findCheckpoint } from 'selfsup';
 *
 * console.log(findCheckpoint('/tmp/no-such-run')); // null
 * ```
 */
export function findCheckpoint(dir: string): string | null {
  const fn = 'findCheckpoint';
  assertDir(dir, fn);
  const { fs, path } = files(fn);
  const name = readLatest(fs, path, dir, fn);
  return name === null ? null : path.join(dir, name);
}

function readManifestAt(fs: NodeFs, checkpoint: string, fn: string, path: NodePath): CheckpointManifest {
  const file = path.join(checkpoint, MANIFEST);
  if (!fs.existsSync(file)) throw new CheckpointError(fn, `${checkpoint}: ${MANIFEST} is missing`);
  const text = io(fn, `read ${file}`, () => fs.readFileSync(file, 'utf8'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckpointError(fn, `${checkpoint}: ${MANIFEST} is not valid JSON (truncated or corrupted)`);
  }
  return checkManifest(parsed, fn, checkpoint);
}

function latestOrThrow(fs: NodeFs, path: NodePath, dir: string, fn: string): string {
  const name = readLatest(fs, path, dir, fn);
  if (name === null) throw new CheckpointError(fn, `${dir} holds no checkpoint (no '${LATEST}' file)`);
  const checkpoint = path.join(dir, name);
  if (!fs.existsSync(checkpoint)) throw new CheckpointError(fn, `${path.join(dir, LATEST)} names ${name}, which is missing`);
  return checkpoint;
}

/**
 * The manifest of the latest checkpoint in `dir` (checked: format, version,
 * checksum), without loading it: the method, its settings, the step, the
 * versions and backend that wrote it, and the extra JSON. Throws a
 * {@link CheckpointError} when there is none or it is damaged.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { SimCLR, mlpEncoder, saveCheckpoint, readCheckpointManifest } from 'selfsup';
 *
 * const task = new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
 * const dir = join(mkdtempSync(join(tmpdir(), 'run-')), 'checkpoint');
 * await saveCheckpoint(task, dir, { extra: { note: 'first' } });
 * const m = readCheckpointManifest(dir);
 * console.log(m.method, m.step, m.config.temperature, m.extra); // SimCLR 0 0.5 { note: 'first' }
 * task.dispose();
 * ```
 */
export function readCheckpointManifest(dir: string): CheckpointManifest {
  const fn = 'readCheckpointManifest';
  assertDir(dir, fn);
  const { fs, path } = files(fn);
  return readManifestAt(fs, latestOrThrow(fs, path, dir, fn), fn, path);
}

/**
 * Saves everything `task` needs to continue training — its complete state
 * (see `BasePretextTask.getState`) and your `extra` JSON — as a new
 * checkpoint in the folder `dir` (created if needed), crash-safely: the
 * files are written and flushed under a temporary name, renamed into place,
 * and only then made current by atomically replacing the `latest` pointer;
 * older checkpoints beyond `keep` are deleted last. A process killed at any
 * point of a save leaves the previous checkpoint current and loadable. One
 * writer per folder. Load it with {@link loadCheckpoint}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { SimCLR, mlpEncoder, saveCheckpoint, loadCheckpoint } from 'selfsup';
 *
 * const make = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 }), { projectionDim: 8, seed: 1 });
 * const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
 * const dir = join(mkdtempSync(join(tmpdir(), 'run-')), 'checkpoint');
 *
 * const task = make();
 * task.step(images);
 * const saved = await saveCheckpoint(task, dir, { extra: { batchesSeen: 1 } });
 * console.log(saved.step, saved.path.endsWith('step-00000001')); // 1 true
 *
 * // Later, in a fresh process: build the same task, then load.
 * const resumed = make();
 * const { step, extra } = await loadCheckpoint(resumed, dir);
 * console.log(step, extra); // 1 { batchesSeen: 1 }
 * console.log(task.step(images) === resumed.step(images)); // true: exact continuation
 * task.dispose();
 * resumed.dispose();
 * ```
 */
export async function saveCheckpoint(task: StatefulTask, dir: string, options: SaveCheckpointOptions = {}): Promise<SavedCheckpoint> {
  const fn = 'saveCheckpoint';
  assertDir(dir, fn);
  assertKnownOptions(options ?? {}, ['extra', 'keep', 'onWrite'], fn);
  const { keep = 1, onWrite, ...encodeOptions } = options ?? {};
  assertInteger(keep, fn, 'options.keep', { min: 1 });
  if (onWrite !== undefined && typeof onWrite !== 'function') {
    throw new InvalidArgumentError(fn, 'options.onWrite', 'be a function', describeValue(onWrite));
  }
  const { fs, path } = files(fn);
  const { manifest, parts } = await encodePieces(task, encodeOptions as EncodeCheckpointOptions, fn);
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`);

  io(fn, `create the folder ${dir}`, () => fs.mkdirSync(dir, { recursive: true }));
  if (!io(fn, `read ${dir}`, () => fs.statSync(dir).isDirectory())) throw new InvalidArgumentError(fn, 'dir', 'be a folder', `the file ${dir}`);
  // Left by a save that was interrupted: never current, never needed.
  for (const entry of io(fn, `list ${dir}`, () => fs.readdirSync(dir))) {
    if (entry.startsWith(TEMP_PREFIX)) io(fn, `remove ${entry}`, () => fs.rmSync(path.join(dir, entry), { recursive: true, force: true }));
  }

  const temp = path.join(dir, `${TEMP_PREFIX}step-${uniqueSuffix()}`);
  io(fn, `create ${temp}`, () => fs.mkdirSync(temp));
  const offsets = manifest.tensors.map((e) => e.offset);
  await writeFileDurably(fs, path.join(temp, WEIGHTS), parts, offsets, manifest.weightsByteLength, 'weights.bin', onWrite, fn);
  await writeBytesDurably(fs, path.join(temp, MANIFEST), manifestBytes, 'manifest.json', onWrite, fn);
  await syncDirectory(temp, fn);

  const base = `step-${String(manifest.step).padStart(8, '0')}`;
  const current = readLatest(fs, path, dir, fn);
  let name = base;
  for (let n = 1; name === current; n++) name = `${base}.${n}`;
  const final = path.join(dir, name);
  // A folder of that name that is not current was left by an interrupted save: replace it.
  if (fs.existsSync(final)) removeFolder(fs, path, dir, name, fn);
  io(fn, `rename ${temp} to ${final}`, () => fs.renameSync(temp, final));
  await syncDirectory(dir, fn);

  // The commit point: `latest` is replaced atomically by a rename.
  const pointer = path.join(dir, `${TEMP_PREFIX}latest-${uniqueSuffix()}`);
  await writeBytesDurably(fs, pointer, new TextEncoder().encode(`${name}\n`), 'latest', onWrite, fn);
  io(fn, `rename ${pointer} to ${LATEST}`, () => fs.renameSync(pointer, path.join(dir, LATEST)));
  await syncDirectory(dir, fn);

  const older = io(fn, `list ${dir}`, () => fs.readdirSync(dir))
    .filter((entry) => entry !== name && parseName(entry) !== null)
    .sort((a, b) => {
      const [sa, na] = parseName(a)!;
      const [sb, nb] = parseName(b)!;
      return sb - sa || nb - na;
    });
  for (const entry of older.slice(keep - 1)) removeFolder(fs, path, dir, entry, fn);
  return { path: final, step: manifest.step, bytes: manifest.weightsByteLength + manifestBytes.byteLength };
}

/**
 * Loads the latest checkpoint in `dir` into `task` — a task of the same
 * method, built with the same options and encoder architecture (a fresh
 * one, typically in a new process) — and returns the step to resume from
 * and the extra JSON saved with it. Training then continues exactly as it
 * would have without the interruption (bitwise on the same backend).
 *
 * All or nothing: the manifest and weights checksums, then the method, the
 * options and every tensor's dtype and shape are checked before anything is
 * assigned. A missing, truncated, corrupted or mismatched checkpoint is a
 * {@link CheckpointError} naming the checkpoint and what differs, and leaves
 * the task as it was.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { SimCLR, mlpEncoder, saveCheckpoint, loadCheckpoint, CheckpointError } from 'selfsup';
 *
 * const encoder = () => mlpEncoder({ inputShape: [8, 8, 1], units: [16], seed: 0 });
 * const dir = join(mkdtempSync(join(tmpdir(), 'run-')), 'checkpoint');
 * const original = new SimCLR(encoder(), { temperature: 0.5, projectionDim: 8, seed: 1 });
 * await saveCheckpoint(original, dir);
 * const other = new SimCLR(encoder(), { temperature: 0.2, projectionDim: 8, seed: 1 });
 * try {
 *   await loadCheckpoint(other, dir);
 * } catch (e) {
 *   console.log(e instanceof CheckpointError, (e as Error).message.includes('temperature is 0.5 in the checkpoint and 0.2 in this task')); // true true
 * }
 * original.dispose();
 * other.dispose();
 * ```
 */
export async function loadCheckpoint(task: StatefulTask, dir: string): Promise<LoadedCheckpoint> {
  const fn = 'loadCheckpoint';
  assertDir(dir, fn);
  if (typeof task !== 'object' || task === null || typeof (task as StatefulTask).setState !== 'function') {
    throw new InvalidArgumentError(fn, 'task', 'be a selfsup method or pretext task (with getState/setState)', describeValue(task));
  }
  const { fs, path } = files(fn);
  const checkpoint = latestOrThrow(fs, path, dir, fn);
  const manifest = readManifestAt(fs, checkpoint, fn, path);
  const weightsFile = path.join(checkpoint, WEIGHTS);
  if (!fs.existsSync(weightsFile)) throw new CheckpointError(fn, `${checkpoint}: ${WEIGHTS} is missing`);
  const raw = io(fn, `read ${weightsFile}`, () => fs.readFileSync(weightsFile));
  const weights = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  // The bytes were just read and are ours alone: the tensors may view them without a copy.
  const restored = decodeWith(task, { manifest, weights }, fn, checkpoint, false);
  return { ...restored, path: checkpoint };
}
