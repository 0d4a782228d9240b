import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ValueRangeError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import type { Batch, BatchOptions, BatchStream, BatchStreamState } from './dataset.js';

/**
 * Where a stream's images come from. `fetch` starts loading a batch (it may
 * run ahead of training); `assemble` turns the loaded data into tensors when
 * the batch is handed out, so prefetched batches hold no tensors.
 */
export interface BatchSource<P> {
  readonly length: number;
  /** Starts loading `indices`; `replacement(slot, attempt)` names a stand-in for an image that fails (undefined: none left; null: skip). */
  fetch(indices: Int32Array, replacement: (slot: number, attempt: number) => number | null | undefined): Promise<P>;
  /** Tensors of a fetched batch, with the indices actually in it. */
  assemble(fetched: P): { images: tf.Tensor4D; indices: Int32Array };
  /** Labels of `indices`, or `null` when unlabeled. */
  labelsOf(indices: Int32Array): Int32Array | null;
  /** Throws when the dataset was disposed. */
  assertUsable(fn: string): void;
}

const STREAM_OPTIONS = ['batchSize', 'shuffle', 'seed', 'dropLast', 'epochs', 'prefetch', 'badImages'];

/** A 32-bit seed for epoch `epoch` of a stream seeded `seed` (mixed, so nearby seeds and epochs give unrelated orders). */
function epochSeed(seed: number, epoch: number): number {
  let h = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.floor(seed / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ Math.imul(epoch + 1, 0xc2b2ae35), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

interface Pending<P> {
  epoch: number;
  batch: number;
  fetched: Promise<P>;
}

/** The {@link BatchStream} every dataset returns. */
export class SourceBatchStream<P> implements BatchStream {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  readonly epochs: number;
  private currentSeed: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly prefetch: number;
  private readonly skipBad: boolean;
  private epoch = 0;
  private batch = 0;
  private closed = false;
  private queue: Pending<P>[] = [];
  private readonly orders = new Map<number, Int32Array>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: BatchSource<P>,
    options: BatchOptions,
    private readonly fn: string,
  ) {
    assertKnownOptions(options, STREAM_OPTIONS, fn);
    const { batchSize = 32, shuffle = true, dropLast = false, epochs = 1, prefetch = 2, badImages = 'replace' } = options;
    assertInteger(batchSize, fn, 'options.batchSize', { min: 1 });
    assertOneOf(shuffle, [true, false], fn, 'options.shuffle');
    assertOneOf(dropLast, [true, false], fn, 'options.dropLast');
    if (!(epochs === Infinity || (Number.isInteger(epochs) && epochs >= 1))) {
      throw new InvalidArgumentError(fn, 'options.epochs', 'be an integer ≥ 1 or Infinity', describeValue(epochs));
    }
    assertInteger(prefetch, fn, 'options.prefetch', { min: 0 });
    assertOneOf(badImages, ['replace', 'skip'] as const, fn, 'options.badImages');
    let seed = options.seed;
    if (seed === undefined) seed = Math.floor(Math.random() * 4294967296);
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new InvalidArgumentError(fn, 'options.seed', 'be a finite number', describeValue(seed));
    }
    const n = source.length;
    if (dropLast && batchSize > n) {
      throw new ValueRangeError(fn, 'options.batchSize', `be ≤ the dataset's ${n} images when dropLast is true`, String(batchSize));
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.epochs = epochs;
    this.prefetch = prefetch;
    this.skipBad = badImages === 'skip';
    this.currentSeed = seed;
    this.batchesPerEpoch = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /** The shuffling seed in use. */
  get seed(): number {
    return this.currentSeed;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Batch, undefined>> {
    // Calls are served one at a time, in order, whatever the caller awaits.
    const result = this.chain.then(() => this.nextNow());
    this.chain = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<IteratorResult<Batch, undefined>> {
    this.closed = true;
    this.queue = [];
    return { done: true, value: undefined };
  }

  state(): BatchStreamState {
    return {
      kind: 'selfsup.batch-stream',
      version: 1,
      length: this.source.length,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
      seed: this.currentSeed,
      epoch: this.epoch,
      batch: this.batch,
    };
  }

  restore(state: BatchStreamState): void {
    const fn = `${this.fn}: BatchStream.restore`;
    if (typeof state !== 'object' || state === null || state.kind !== 'selfsup.batch-stream') {
      throw new InvalidArgumentError(fn, 'state', "be a state from BatchStream.state() (kind 'selfsup.batch-stream')", describeValue(state));
    }
    if (state.version !== 1) throw new InvalidArgumentError(fn, 'state.version', 'be 1', describeValue(state.version));
    const expect = (key: 'length' | 'batchSize' | 'shuffle' | 'dropLast', mine: unknown) => {
      if (state[key] !== mine) {
        throw new ValueRangeError(fn, `state.${key}`, `match this stream's ${key} (${String(mine)})`, describeValue(state[key]));
      }
    };
    expect('length', this.source.length);
    expect('batchSize', this.batchSize);
    expect('shuffle', this.shuffle);
    expect('dropLast', this.dropLast);
    if (typeof state.seed !== 'number' || !Number.isFinite(state.seed)) {
      throw new InvalidArgumentError(fn, 'state.seed', 'be a finite number', describeValue(state.seed));
    }
    assertInteger(state.epoch, fn, 'state.epoch', { min: 0 });
    assertInteger(state.batch, fn, 'state.batch', { min: 0, max: Math.max(0, this.batchesPerEpoch - 1) });
    this.currentSeed = state.seed;
    this.epoch = state.epoch;
    this.batch = state.batch;
    this.queue = [];
    this.orders.clear();
    this.closed = false;
  }

  private order(epoch: number): Int32Array {
    let order = this.orders.get(epoch);
    if (order === undefined) {
      const n = this.source.length;
      order = this.shuffle ? new Rng(epochSeed(this.currentSeed, epoch)).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      if (this.orders.size >= 3) this.orders.delete(Math.min(...this.orders.keys()));
      this.orders.set(epoch, order);
    }
    return order;
  }

  private start(epoch: number, batch: number): Pending<P> {
    const order = this.order(epoch);
    const n = order.length;
    const first = batch * this.batchSize;
    const indices = order.slice(first, Math.min(n, first + this.batchSize));
    const replacement = (slot: number, attempt: number): number | null | undefined => {
      if (this.skipBad) return null;
      return attempt < n ? order[(first + slot + attempt) % n] : undefined;
    };
    const fetched = this.source.fetch(indices, replacement);
    fetched.catch(() => undefined); // awaited when its turn comes; never an unhandled rejection meanwhile
    return { epoch, batch, fetched };
  }

  private advance(epoch: number, batch: number): [number, number] {
    return batch + 1 < this.batchesPerEpoch ? [epoch, batch + 1] : [epoch + 1, 0];
  }

  private async nextNow(): Promise<IteratorResult<Batch, undefined>> {
    this.source.assertUsable(this.fn);
    if (this.closed || this.epoch >= this.epochs || this.batchesPerEpoch === 0) return { done: true, value: undefined };
    let head = this.queue[0];
    if (head === undefined || head.epoch !== this.epoch || head.batch !== this.batch) {
      this.queue = [];
      head = this.start(this.epoch, this.batch);
      this.queue.push(head);
    }
    // Keep `prefetch` batches loading behind the one handed out now.
    let [e, b] = this.queue.length > 0 ? [this.queue.at(-1)!.epoch, this.queue.at(-1)!.batch] : [this.epoch, this.batch];
    while (this.queue.length < this.prefetch + 1) {
      [e, b] = this.advance(e, b);
      if (e >= this.epochs) break;
      this.queue.push(this.start(e, b));
    }
    const fetched = await head.fetched;
    this.queue.shift();
    const { epoch, batch } = head;
    [this.epoch, this.batch] = this.advance(epoch, batch);
    const { images, indices } = this.source.assemble(fetched);
    const labelValues = this.source.labelsOf(indices);
    const labels = labelValues === null ? null : tf.tensor1d(labelValues, 'int32');
    const value: Batch = {
      images,
      labels,
      indices,
      epoch,
      batch,
      step: epoch * this.batchesPerEpoch + batch,
      dispose: () => {
        images.dispose();
        labels?.dispose();
      },
    };
    return { done: false, value };
  }
}

/** NHWC float32 images in [0, 1] from 8-bit samples, one array per image. */
export function pixelsToTensor(pixels: readonly Uint8Array[], shape: readonly [number, number, number]): tf.Tensor4D {
  const size = shape[0] * shape[1] * shape[2];
  const values = new Float32Array(pixels.length * size);
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i]!;
    const offset = i * size;
    for (let j = 0; j < size; j++) values[offset + j] = p[j]! / 255;
  }
  return tf.tensor4d(values, [pixels.length, shape[0], shape[1], shape[2]]);
}
