import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { MemoryBank, useBackend } from 'selfsup';
import { describeBackends, onEachBackend } from '../helpers/backends.js';
import { expectClose } from '../helpers/numerics.js';

/** Rows `[start, start + n)` of a recognisable batch: row r is filled with r. */
const rows = (start: number, n: number, dim = 2) =>
  tf.tensor2d(Array.from({ length: n * dim }, (_, i) => start + Math.floor(i / dim)), [n, dim]);

const firstColumn = (bank: MemoryBank) => {
  const t = bank.read();
  const v = Array.from(tf.tidy(() => tf.squeeze(tf.slice(t, [0, 0], [-1, 1]))).dataSync());
  t.dispose();
  return v;
};

describeBackends('MemoryBank', (backend) => {
  it('is a FIFO ring: each enqueue overwrites the oldest rows, wrapping around', () => {
    const bank = new MemoryBank({ size: 5, dim: 2, init: 'zeros' });
    const feed = (start: number, n: number) => {
      const b = rows(start, n);
      bank.enqueue(b);
      b.dispose();
    };
    feed(1, 2);
    expect(firstColumn(bank)).toEqual([1, 2, 0, 0, 0]);
    expect([bank.filled, bank.position, bank.enqueued]).toEqual([2, 2, 2]);
    feed(3, 2);
    expect(firstColumn(bank)).toEqual([1, 2, 3, 4, 0]);
    feed(5, 2); // wraps: 5 at the end, 6 over the oldest (1)
    expect(firstColumn(bank)).toEqual([6, 2, 3, 4, 5]);
    expect([bank.filled, bank.position]).toEqual([5, 1]);
    feed(7, 3);
    expect(firstColumn(bank)).toEqual([6, 7, 8, 9, 5]);
    feed(10, 7); // larger than the bank: its last 5 rows, oldest-first from the pointer
    expect(firstColumn(bank)).toEqual([13, 14, 15, 16, 12]); // 12…16 written at rows 4, 0, 1, 2, 3
    expect(bank.position).toBe(4);
    // The multiset of entries is always the last K rows enqueued.
    expect(firstColumn(bank).sort((a, b) => a - b)).toEqual([12, 13, 14, 15, 16]);
    bank.dispose();
    expect(backend).toBeTruthy();
  });

  it('starts as MoCo: unit-norm Gaussian rows, seeded identically on every backend', async () => {
    const bank = new MemoryBank({ size: 6, dim: 3, seed: 5 });
    const content = bank.read();
    expectClose(tf.norm(content, 'euclidean', 1), tf.ones([6]), { atol: 1e-6 });
    const both = await onEachBackend(() => {
      const b = new MemoryBank({ size: 6, dim: 3, seed: 5 });
      const t = b.read();
      const v = Array.from(t.dataSync());
      t.dispose();
      b.dispose();
      return v;
    });
    expect(both.wasm).toEqual(both.cpu);
    const other = new MemoryBank({ size: 6, dim: 3, seed: 6 });
    const o = other.read();
    expect(Array.from(o.dataSync())).not.toEqual(both.cpu);
    tf.dispose([content, o]);
    bank.dispose();
    other.dispose();
  });

  it('read() is a snapshot the caller owns; enqueued values carry no gradient', () => {
    const bank = new MemoryBank({ size: 4, dim: 2, init: 'zeros' });
    const snapshot = bank.read();
    const x = rows(1, 2);
    const g = tf.grad((v: tf.Tensor) => {
      bank.enqueue(tf.mul(v, 2) as tf.Tensor2D);
      return tf.sum(tf.mul(v, tf.slice(bank.read(), [0, 0], [2, 2])));
    })(x);
    expect(Array.from(snapshot.dataSync())).toEqual(new Array(8).fill(0)); // unchanged by the enqueue
    expectClose(g, tf.tidy(() => tf.mul(x, 2))); // d/dv sum(v ⊙ stop(2v)) = 2v
    tf.dispose([snapshot, x, g]);
    bank.dispose();
  });

  it('nearestNeighbors: cosine top-1 among the written rows only (NNCLR support set)', () => {
    const bank = new MemoryBank({ size: 6, dim: 2, seed: 0 });
    expect(() => bank.nearestNeighbors(tf.ones([1, 2]) as tf.Tensor2D)).toThrow(
      'MemoryBank.nearestNeighbors: the bank is empty; enqueue a batch before looking up neighbours',
    );
    const support = tf.tensor2d([[10, 0], [0, 3], [-2, -2]]);
    bank.enqueue(support);
    const query = tf.tensor2d([[1, 0.1], [0.2, 5], [-1, -0.9], [0.1, -1]]);
    const nn = bank.nearestNeighbors(query);
    expectClose(nn, [[10, 0], [0, 3], [-2, -2], [-2, -2]]);
    expect(Array.from(bank.nearestNeighborIndices(query).dataSync())).toEqual([0, 1, 2, 2]);
    // The neighbours are constants: only the direct term contributes to the gradient.
    const g = tf.grad((q: tf.Tensor) => tf.add(tf.sum(q), tf.sum(tf.mul(bank.nearestNeighbors(q as tf.Tensor2D), 3))))(query);
    expect(Array.from(g.dataSync())).toEqual(new Array(8).fill(1));
    tf.dispose([support, query, nn, g]);
    bank.dispose();
  });

  it('does not leak over 1,000 enqueue/read/lookup steps', () => {
    const bank = new MemoryBank({ size: 48, dim: 8, seed: 1 });
    const batch = tf.randomNormal([10, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    for (let step = 0; step < 1000; step++) {
      tf.tidy(() => {
        const negatives = bank.read();
        const logits = tf.matMul(batch, tf.transpose(negatives));
        bank.enqueue(batch, { step });
        bank.nearestNeighbors(batch);
        return logits.shape.length === 2 ? undefined : logits;
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(bank.enqueued).toBe(10_000);
    expect(bank.position).toBe(10_000 % 48);
    batch.dispose();
    bank.dispose();
  });
});

describe('MemoryBank errors and lifecycle', () => {
  it('explains bad input, a second enqueue in one step, and use after dispose', async () => {
    await useBackend('cpu');
    expect(() => new MemoryBank({ size: 0, dim: 2 })).toThrow('MemoryBank: options.size must be an integer ≥ 1, got 0');
    expect(() => new MemoryBank({ size: 4, dim: 2, init: 'ones' as never })).toThrow(
      "MemoryBank: options.init must be one of 'random', 'zeros', got \"ones\"",
    );
    const bank = new MemoryBank({ size: 4, dim: 2 });
    const wrong = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => bank.enqueue(wrong)).toThrow('MemoryBank.enqueue: embeddings must have shape [B, D] = [?, 2], got [3, 5]');
    const ok = tf.zeros([3, 2]) as tf.Tensor2D;
    bank.enqueue(ok, { step: 7 });
    expect(() => bank.enqueue(ok, { step: 7 })).toThrow(
      'MemoryBank.enqueue: options.step must differ from the previous enqueue: a memory bank is updated exactly once per step, got step 7 twice',
    );
    bank.enqueue(ok, { step: 8 });
    const before = tf.memory().numTensors;
    bank.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
    bank.dispose(); // idempotent
    expect(bank.isDisposed).toBe(true);
    expect(() => bank.read()).toThrow('MemoryBank.read: this must not be disposed, got a memory bank (after 6 rows) that was disposed');
    tf.dispose([wrong, ok]);
  });
});

describe('MemoryBank state', () => {
  it('getState/setState restore content, position and the once-per-step check; bad states change nothing', async () => {
    await useBackend('cpu');
    const bank = new MemoryBank({ size: 5, dim: 2, seed: 1 });
    bank.enqueue(tf.tidy(() => tf.ones([3, 2])) as tf.Tensor2D, { step: 4 });
    const state = bank.getState();
    expect([state.position, state.enqueued, state.lastStep]).toEqual([3, 3, 4]);
    const copy = new MemoryBank({ size: 5, dim: 2, init: 'zeros' });
    const before = tf.memory().numTensors;
    copy.setState(state);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(state.entries); // the bank keeps its own reference
    const a = bank.read();
    const b = copy.read();
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect([copy.position, copy.enqueued, copy.filled]).toEqual([3, 3, 3]);
    const next = tf.tidy(() => tf.fill([4, 2], 2)) as tf.Tensor2D;
    expect(() => copy.enqueue(next, { step: 4 })).toThrow('exactly once per step');
    bank.enqueue(next, { step: 5 });
    copy.enqueue(next, { step: 5 });
    const a2 = bank.read();
    const b2 = copy.read();
    expect(Array.from(b2.dataSync())).toEqual(Array.from(a2.dataSync()));
    expect(copy.position).toBe(bank.position);

    const good = copy.getState();
    const wrongShape = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => copy.setState({ ...good, entries: wrongShape })).toThrow('MemoryBank.setState: state.entries must have shape [K, D] = [5, 2], got [4, 2]');
    expect(() => copy.setState({ ...good, position: 5 })).toThrow('MemoryBank.setState: state.position must be an integer in [0, 4], got 5');
    expect(() => copy.setState({ ...good, lastStep: -1 })).toThrow('MemoryBank.setState: state.lastStep must be an integer ≥ 0, got -1');
    expect(() => copy.setState(null as never)).toThrow('MemoryBank.setState: state must be { entries, position, enqueued, lastStep }');
    expect(copy.position).toBe(bank.position);
    tf.dispose([a, b, a2, b2, next, wrongShape, good.entries]);
    bank.dispose();
    copy.dispose();
    expect(() => copy.getState()).toThrow('MemoryBank.getState: this must not be disposed');
  });
});
