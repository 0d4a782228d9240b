import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, MissingDataError } from '../core/errors.js';
import { assertInteger, describeValue } from '../core/validate.js';
import { pixelsToTensor, SourceBatchStream, type BatchSource } from './batch-stream.js';
import type { BatchOptions, BatchStream, Dataset, LoadedImages } from './dataset.js';

/** A file (or image) a dataset left out, and why. */
export interface SkippedImage {
  /** Its name: the path relative to the folder, the file name or the URL. */
  name: string;
  /** Why it was left out, e.g. `'empty file'`, `'GIF files are not supported'`, or the decoder's error. */
  reason: string;
}

/**
 * A warning from a dataset: files it skipped (bad, unsupported), images that
 * failed to decode while streaming, class folders without images.
 */
export interface DataWarning {
  /** The function that built the dataset, e.g. `'imageFolder'`. */
  source: string;
  /** What happened. */
  kind: 'skipped-files' | 'decode-failed' | 'empty-class';
  /** One line naming the count and the files. */
  message: string;
  /** The files concerned. */
  files: SkippedImage[];
}

/** Where warnings go by default: Node's `process.emitWarning` (shown on stderr), or `console.warn` in a browser. */
export function defaultWarningHandler(warning: DataWarning): void {
  const proc = (globalThis as { process?: { emitWarning?: (message: string, options: { type: string; code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') {
    proc.emitWarning(warning.message, { type: 'SelfsupDataWarning', code: `SELFSUP_${warning.kind.toUpperCase().replace(/-/g, '_')}` });
  } else {
    globalThis.console?.warn(warning.message);
  }
}

/** "3 files: a.png (empty file), b.jpg (…)", at most `limit` named. */
export function describeSkipped(files: readonly SkippedImage[], limit = 20): string {
  const named = files.slice(0, limit).map((f) => `${f.name} (${f.reason})`);
  const more = files.length > limit ? `, and ${files.length - limit} more (see dataset.skipped)` : '';
  return `${named.join(', ')}${more}`;
}

/** A decoder's error on one line, without repeats (libvips lists every warning it met), at most 160 characters. */
function shortReason(reason: string): string {
  const lines = [...new Set(reason.split(/\n+/).map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.length > 0))];
  const text = lines.join('; ');
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** Loads one image's output pixels (8-bit, `[H, W, C]` interleaved); rejects with the reason when it cannot. */
export type PixelLoader = (index: number) => Promise<Uint8Array>;

/** What {@link ImageDataset} is built from. */
export interface ImageDatasetInit {
  /** The public function building it, for messages. */
  fn: string;
  names: string[];
  labels: Int32Array | null;
  classNames: string[] | null;
  imageShape: [number, number, number];
  load: PixelLoader;
  /** Cache cap in bytes (0: no cache). */
  cacheBytes: number;
  onWarning: (warning: DataWarning) => void;
  /** Files left out before streaming started. */
  skipped: SkippedImage[];
  /** Which decoder produces the pixels (`'sharp'`, `'js'`, `'browser'`). */
  decoder: string;
  /** Frees background resources (decoding threads). */
  close?: () => void;
}

interface Loaded {
  index: number;
  pixels: Uint8Array;
}

/**
 * A dataset of encoded images (files, URLs, browser images), decoded on
 * demand to a fixed size, with a bounded cache of decoded images. Made by
 * {@link imageFolder} in Node and by {@link imageFiles}, {@link imageUrls}
 * and {@link imageElements} in browsers; see {@link Dataset} for the shared
 * interface.
 *
 * @example
 * ```ts
 * import { imageFolder, ImageDataset } from 'selfsup';
 *
 * const dataset = await imageFolder('tests/fixtures/images/classes', { size: 16, onWarning: () => {} });
 * console.log(dataset instanceof ImageDataset, dataset.decoder); // true 'sharp' (or 'js' without sharp)
 * const { images, indices } = await dataset.load([0, 1, 2]);
 * console.log(images.shape, Array.from(indices, (i) => dataset.names[i])); // [3, 16, 16, 3] [ 'circle/circle-0.png', … ]
 * console.log(dataset.skipped.length, dataset.cachedImages); // files left out so far; images held decoded
 * images.dispose();
 * dataset.dispose();
 * ```
 */
export class ImageDataset implements Dataset {
  readonly length: number;
  readonly imageShape: readonly [number, number, number];
  readonly labels: Int32Array | null;
  readonly classNames: readonly string[] | null;
  readonly names: readonly string[];
  /** The decoder producing the pixels: `'sharp'` (libvips), `'js'` (jpeg-js and pngjs) or `'browser'`. */
  readonly decoder: string;
  private readonly skippedList: SkippedImage[];
  private readonly fn: string;
  private readonly loader: PixelLoader;
  private readonly cacheBytes: number;
  private readonly onWarning: (warning: DataWarning) => void;
  private readonly close: (() => void) | undefined;
  private readonly cache = new Map<number, Uint8Array>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<number, Promise<Uint8Array | null>>();
  private readonly bad = new Set<number>();
  private disposed = false;

  /** @internal Use {@link imageFolder}, {@link imageFiles}, {@link imageUrls} or {@link imageElements}. */
  constructor(init: ImageDatasetInit) {
    this.fn = init.fn;
    this.length = init.names.length;
    this.imageShape = init.imageShape;
    this.labels = init.labels;
    this.classNames = init.classNames;
    this.names = init.names;
    this.decoder = init.decoder;
    this.loader = init.load;
    this.cacheBytes = init.cacheBytes;
    this.onWarning = init.onWarning;
    this.skippedList = [...init.skipped];
    this.close = init.close;
  }

  /** Files left out so far: when the dataset was built, and those that failed to decode since. */
  get skipped(): SkippedImage[] {
    return [...this.skippedList];
  }

  /** Decoded images held in the cache. */
  get cachedImages(): number {
    return this.cache.size;
  }

  batches(options: BatchOptions = {}): BatchStream {
    this.assertUsable(`${this.fn}: batches`);
    const source: BatchSource<Loaded[]> = {
      length: this.length,
      fetch: (indices, replacement) => this.fetch(indices, replacement),
      assemble: (loaded) => ({
        images: pixelsToTensor(
          loaded.map((l) => l.pixels),
          this.imageShape,
        ),
        indices: Int32Array.from(loaded, (l) => l.index),
      }),
      labelsOf: (indices) => (this.labels === null ? null : Int32Array.from(indices, (i) => this.labels![i]!)),
      assertUsable: (fn) => this.assertUsable(fn),
    };
    return new SourceBatchStream(source, options ?? {}, `${this.fn}: batches`);
  }

  async load(indices?: ArrayLike<number>): Promise<LoadedImages> {
    const fn = `${this.fn}: load`;
    this.assertUsable(fn);
    const wanted = this.checkIndices(indices, fn);
    const loaded = await this.fetch(wanted, () => null);
    this.assertUsable(fn);
    const kept = Int32Array.from(loaded, (l) => l.index);
    return {
      images: pixelsToTensor(
        loaded.map((l) => l.pixels),
        this.imageShape,
      ),
      labels: this.labels === null ? null : tf.tensor1d(Int32Array.from(kept, (i) => this.labels![i]!), 'int32'),
      indices: kept,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.cachedBytes = 0;
    this.close?.();
  }

  private checkIndices(indices: ArrayLike<number> | undefined, fn: string): Int32Array {
    if (indices === undefined) return Int32Array.from({ length: this.length }, (_, i) => i);
    if (typeof indices !== 'object' || indices === null || typeof indices.length !== 'number') {
      throw new InvalidArgumentError(fn, 'indices', 'be an array of image indices', describeValue(indices));
    }
    const out = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      assertInteger(indices[i], fn, `indices[${i}]`, { min: 0, max: this.length - 1 });
      out[i] = indices[i]!;
    }
    return out;
  }

  private assertUsable(fn: string): void {
    if (this.disposed) throw new InvalidArgumentError(fn, 'dataset', 'not be disposed', 'a disposed dataset');
  }

  private async fetch(indices: Int32Array, replacement: (slot: number, attempt: number) => number | null | undefined): Promise<Loaded[]> {
    const slots = await Promise.all(Array.from(indices, (index, slot) => this.loadSlot(index, slot, replacement)));
    return slots.filter((s): s is Loaded => s !== null);
  }

  private async loadSlot(
    index: number,
    slot: number,
    replacement: (slot: number, attempt: number) => number | null | undefined,
  ): Promise<Loaded | null> {
    let current = index;
    for (let attempt = 1; ; attempt++) {
      const pixels = await this.pixels(current);
      if (pixels !== null) return { index: current, pixels };
      const next = replacement(slot, attempt);
      if (next === null) return null;
      if (next === undefined) {
        throw new MissingDataError(`${this.fn}: none of the ${this.length} images could be decoded (${describeSkipped(this.skippedList, 5)})`);
      }
      current = next;
    }
  }

  /** The decoded pixels of one image (cached), or null when it cannot be decoded. */
  private pixels(index: number): Promise<Uint8Array | null> {
    const hit = this.cache.get(index);
    if (hit !== undefined) {
      // Least recently used goes first: move the hit to the end of the map's order.
      this.cache.delete(index);
      this.cache.set(index, hit);
      return Promise.resolve(hit);
    }
    if (this.bad.has(index)) return Promise.resolve(null);
    const running = this.inFlight.get(index);
    if (running !== undefined) return running;
    const promise = this.loader(index).then(
      (pixels) => {
        this.inFlight.delete(index);
        this.remember(index, pixels);
        return pixels;
      },
      (error: unknown) => {
        this.inFlight.delete(index);
        if (this.disposed) return null;
        this.markBad(index, error instanceof Error ? error.message : String(error));
        return null;
      },
    );
    this.inFlight.set(index, promise);
    return promise;
  }

  private remember(index: number, pixels: Uint8Array): void {
    if (this.disposed || pixels.byteLength > this.cacheBytes) return;
    this.cache.set(index, pixels);
    this.cachedBytes += pixels.byteLength;
    for (const [key, value] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.cache.delete(key);
      this.cachedBytes -= value.byteLength;
    }
  }

  private markBad(index: number, reason: string): void {
    if (this.bad.has(index)) return;
    this.bad.add(index);
    const file = { name: this.names[index]!, reason: shortReason(reason) };
    this.skippedList.push(file);
    this.onWarning({
      source: this.fn,
      kind: 'decode-failed',
      message: `${this.fn}: could not decode ${file.name} (${file.reason}); it is skipped from now on (${this.skippedList.length} image${this.skippedList.length === 1 ? '' : 's'} skipped in all)`,
      files: [file],
    });
  }
}
