import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { assertMemoryFits } from '../core/memory-budget.js';
import { normalizeLastAxis } from '../core/normalize.js';
import { createRng, type Seed } from '../core/rng.js';
import {
  assertFloat,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertRank,
  assertShape,
} from '../core/validate.js';

/** Options of the {@link MemoryBank} constructor. */
export interface MemoryBankOptions {
  /** Number of entries K (MoCo: 65536; NNCLR: 98304). Required. */
  size: number;
  /** Size D of each embedding. Required. */
  dim: number;
  /**
   * Initial content: MoCo's L2-normalised Gaussian vectors, or zeros.
   * @default 'random'
   */
  init?: 'random' | 'zeros';
  /**
   * Seed of the random initial content.
   * @default undefined (a fresh random seed)
   */
  seed?: Seed;
}

/** Options of {@link MemoryBank.enqueue}. */
export interface EnqueueOptions {
  /**
   * The training step this batch belongs to. When given, a second enqueue
   * with the same step throws: a bank is updated exactly once per step.
   * @default undefined (not checked)
   */
  step?: number;
}

/**
 * Everything a {@link MemoryBank} holds, for checkpoints:
 * {@link MemoryBank.getState} returns it and {@link MemoryBank.setState}
 * takes it back.
 */
export interface MemoryBankState {
  /** The `[K, D]` entries, in storage order (a new tensor: dispose it when done). */
  entries: tf.Tensor2D;
  /** The row the next enqueue writes first. */
  position: number;
  /** Rows enqueued since creation. */
  enqueued: number;
  /** The step of the last enqueue that gave one (for the once-per-step check), or null. */
  lastStep: number | null;
}

/**
 * A first-in-first-out queue of K embeddings, the state of MoCo's negatives
 * (He et al. 2020: "the current mini-batch is enqueued to the dictionary, and
 * the oldest mini-batch in the queue is removed"), NNCLR's support set and
 * SwAV's feature queue, kept outside the loss as an explicit object.
 *
 * Storage is a `[K, D]` non-trainable variable used as a ring buffer:
 * {@link MemoryBank.enqueue} overwrites the oldest rows with the new batch
 * (wrapping around the end, so K need not be a multiple of the batch size;
 * a batch larger than K keeps its last K rows). Enqueued values carry no
 * gradient. {@link MemoryBank.read} returns the entries in storage order (order
 * does not matter to the losses), as a new tensor the caller owns. The initial
 * content is MoCo's: Gaussian vectors normalised to unit length, from `seed`.
 * Call {@link MemoryBank.dispose} when done.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { MemoryBank } from 'selfsup';
 *
 * const queue = new MemoryBank({ size: 8, dim: 4, seed: 0 });
 * const keys = tf.tidy(() => tf.div(tf.ones([3, 4]), 2)); // this step's (normalised) keys
 * const negatives = queue.read(); // use in the loss first …
 * queue.enqueue(keys, { step: 0 }); // … then enqueue, once per step
 * console.log(negatives.shape, queue.filled); // [8, 4] 3
 * negatives.dispose();
 * queue.dispose();
 * ```
 */
export class MemoryBank {
  /** Number of entries K. */
  readonly size: number;
  /** Embedding size D. */
  readonly dim: number;
  private readonly bank: tf.Variable;
  private pointer = 0;
  private written = 0;
  private lastStep: number | undefined;
  private disposed = false;

  constructor(options: MemoryBankOptions) {
    const fn = 'MemoryBank';
    options ??= {} as MemoryBankOptions;
    assertKnownOptions(options, ['size', 'dim', 'init', 'seed'], fn);
    const { size, dim, init = 'random' } = options;
    assertInteger(size, fn, 'options.size', { min: 1 });
    assertInteger(dim, fn, 'options.dim', { min: 1 });
    assertOneOf(init, ['random', 'zeros'] as const, fn, 'options.init');
    const rng = init === 'random' ? createRng(options.seed, fn, 'options.seed') : null;
    // The initial values are made in JS, then copied into the tensor.
    assertMemoryFits(fn, 'options.size', [{ shape: [size, dim], count: 2 }]);
    this.size = size;
    this.dim = dim;
    this.bank = tf.tidy(() =>
      tf.variable(rng === null ? tf.zeros([size, dim]) : tf.tensor2d(unitRows(rng.normalArray(size * dim), dim), [size, dim]), false),
    );
  }

  /** Rows holding enqueued embeddings (≤ K); the rest still hold the initial content. */
  get filled(): number {
    return Math.min(this.written, this.size);
  }

  /** Total rows enqueued since creation. */
  get enqueued(): number {
    return this.written;
  }

  /** The row the next enqueue writes first (the oldest entry once the bank is full). */
  get position(): number {
    return this.pointer;
  }

  /** Whether {@link MemoryBank.dispose} ran. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The `[K, D]` entries, as a new tensor (dispose it, or read inside `tf.tidy`). */
  read(): tf.Tensor2D {
    this.assertLive('read');
    return tf.clone(this.bank) as tf.Tensor2D;
  }

  /**
   * Writes a batch `[B, D]` over the oldest entries. Call it once per training
   * step, after the loss has used the current content (MoCo's order).
   */
  enqueue(embeddings: tf.Tensor2D, options: EnqueueOptions = {}): void {
    const fn = 'MemoryBank.enqueue';
    this.assertLive('enqueue');
    assertKnownOptions(options, ['step'], fn);
    assertRank(embeddings, 2, fn, 'embeddings', '[B, D]');
    assertShape(embeddings, [null, this.dim], fn, 'embeddings', '[B, D]');
    assertFloat(embeddings, fn, 'embeddings');
    if (options.step !== undefined) {
      assertInteger(options.step, fn, 'options.step', { min: 0 });
      if (options.step === this.lastStep) {
        throw new InvalidArgumentError(
          fn,
          'options.step',
          'differ from the previous enqueue: a memory bank is updated exactly once per step',
          `step ${options.step} twice`,
        );
      }
      this.lastStep = options.step;
    }
    const batch = embeddings.shape[0];
    if (batch === 0) return;
    const k = this.size;
    const count = Math.min(batch, k);
    const start = this.pointer;
    const next = tf.tidy(() => {
      const rows = tf.slice(embeddings, [batch - count, 0], [count, this.dim]);
      const parts: tf.Tensor[] = [];
      if (start + count <= k) {
        if (start > 0) parts.push(tf.slice(this.bank, [0, 0], [start, this.dim]));
        parts.push(rows);
        if (start + count < k) parts.push(tf.slice(this.bank, [start + count, 0], [k - start - count, this.dim]));
      } else {
        const head = k - start; // rows that fit before the end
        const wrapped = count - head;
        parts.push(tf.slice(rows, [head, 0], [wrapped, this.dim]));
        if (start > wrapped) parts.push(tf.slice(this.bank, [wrapped, 0], [start - wrapped, this.dim]));
        parts.push(tf.slice(rows, [0, 0], [head, this.dim]));
      }
      return parts.length === 1 ? tf.clone(parts[0]!) : tf.concat(parts, 0);
    });
    this.bank.assign(next);
    next.dispose();
    this.pointer = (start + count) % k;
    this.written += batch;
  }

  /**
   * NNCLR's support-set lookup (Dwibedi et al. 2021): for each query row, the
   * stored entry with the highest cosine similarity, `[N, D]` (the stored
   * vector, not normalised). Only rows already written are searched, so the
   * random initial content is never returned. No gradient flows to the result.
   */
  nearestNeighbors(query: tf.Tensor2D): tf.Tensor2D {
    const found = this.nearestNeighborIndices(query);
    // A fresh index tensor detaches the lookup from any gradient tape: tfjs's gather
    // gradient rejects int32 indices that depend on a differentiated input.
    const ids = tf.tensor1d(found.dataSync() as Int32Array, 'int32');
    found.dispose();
    const out = tf.gather(this.bank, ids) as tf.Tensor2D;
    ids.dispose();
    return out;
  }

  /** The row indices `[N]` (int32) that {@link MemoryBank.nearestNeighbors} returns. */
  nearestNeighborIndices(query: tf.Tensor2D): tf.Tensor1D {
    const fn = 'MemoryBank.nearestNeighbors';
    this.assertLive('nearestNeighbors');
    assertShape(query, [null, this.dim], fn, 'query', '[N, D]');
    assertFloat(query, fn, 'query');
    const filled = this.filled;
    if (filled === 0) {
      throw new SelfsupError(`${fn}: the bank is empty; enqueue a batch before looking up neighbours`);
    }
    return tf.tidy(() => {
      // Before the first wrap-around the written rows are exactly [0, filled).
      const support = filled < this.size ? tf.slice(this.bank, [0, 0], [filled, this.dim]) : this.bank;
      const similarity = tf.matMul(normalizeLastAxis(query), tf.transpose(normalizeLastAxis(support)));
      return tf.argMax(similarity, 1) as tf.Tensor1D;
    });
  }

  /**
   * The bank's content and position (a new entries tensor the caller
   * disposes), so that a checkpoint can restore it exactly with
   * {@link MemoryBank.setState}.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs-core';
   * import { MemoryBank } from 'selfsup';
   *
   * const queue = new MemoryBank({ size: 4, dim: 2, seed: 0 });
   * queue.enqueue(tf.ones([3, 2]) as tf.Tensor2D);
   * const saved = queue.getState();
   * const copy = new MemoryBank({ size: 4, dim: 2, init: 'zeros' });
   * copy.setState(saved);
   * console.log(copy.position, copy.enqueued); // 3 3
   * tf.dispose(saved.entries);
   * ```
   */
  getState(): MemoryBankState {
    this.assertLive('getState');
    return { entries: tf.clone(this.bank) as tf.Tensor2D, position: this.pointer, enqueued: this.written, lastStep: this.lastStep ?? null };
  }

  /**
   * Restores a state from {@link MemoryBank.getState} (of a bank of the same
   * size and dim). Everything is checked before anything is assigned; the
   * bank keeps its own copy of the entries.
   */
  setState(state: MemoryBankState): void {
    const fn = 'MemoryBank.setState';
    this.assertLive('setState');
    if (typeof state !== 'object' || state === null) {
      throw new InvalidArgumentError(fn, 'state', 'be { entries, position, enqueued, lastStep }', String(state));
    }
    assertRank(state.entries, 2, fn, 'state.entries', '[K, D]');
    assertShape(state.entries, [this.size, this.dim], fn, 'state.entries', '[K, D]');
    assertFloat(state.entries, fn, 'state.entries');
    assertInteger(state.position, fn, 'state.position', { min: 0, max: this.size - 1 });
    assertInteger(state.enqueued, fn, 'state.enqueued', { min: 0 });
    if (state.lastStep !== null) assertInteger(state.lastStep, fn, 'state.lastStep', { min: 0 });
    this.bank.assign(state.entries);
    this.pointer = state.position;
    this.written = state.enqueued;
    this.lastStep = state.lastStep ?? undefined;
  }

  /** Frees the storage. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.bank.dispose();
    this.disposed = true;
  }

  /**
   * The bank's write position, as a function that puts it back (the rows
   * themselves live in a variable, which a refused training step restores).
   * @internal
   */
  saveCursor(): () => void {
    const { pointer, written, lastStep } = this;
    return () => {
      this.pointer = pointer;
      this.written = written;
      this.lastStep = lastStep;
    };
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(`MemoryBank.${method}`, `a memory bank (after ${this.written} rows)`);
  }
}

/**
 * Normalises each `dim`-long row to unit length in float64 JavaScript, so the
 * initial content is bit-identical on every backend.
 */
function unitRows(values: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < values.length; r += dim) {
    let sq = 0;
    for (let j = 0; j < dim; j++) sq += values[r + j]! * values[r + j]!;
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let j = 0; j < dim; j++) values[r + j] = values[r + j]! * inv;
  }
  return values;
}
