/**
 * `npm run bench:learn -- --quick` inside `npm test`: a few joint-embedding
 * methods pretrain briefly on a small Fashion-MNIST subset and must beat the
 * random-init baseline (the same encoder, same seed, untrained) on the linear
 * probe. It is the benchmark's own runner and protocol, on smaller splits
 * (bench/learn/protocol.ts: QUICK_SPLITS); deterministic for a given seed and
 * backend, so a regression in a method, a loss or an augmentation that stops
 * learning fails it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, useBackend } from 'selfsup';
import { JOINT_EMBEDDING_ENTRIES } from '../../bench/learn/joint-embedding.js';
import { checkGoals, runLearnBenchmark } from '../../bench/learn/runner.js';

const QUICK_METHODS = ['simclr', 'barlow-twins', 'swav'];
const hasData = existsSync(`${DEBIAN_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

// CI installs the data (.ci/run); elsewhere the test is skipped without it.
describe.skipIf(!hasData && !process.env.CI)('bench:learn --quick', () => {
  it(`${QUICK_METHODS.join(', ')} beat random-init on the linear probe`, async () => {
    await useBackend('wasm');
    const report = await runLearnBenchmark(JOINT_EMBEDDING_ENTRIES, { quick: true, only: QUICK_METHODS, seed: 0 });
    const random = report.rows.find((r) => r.method === 'random-init')!;
    const methods = report.rows.filter((r) => r.family !== 'baseline');
    expect(methods.map((m) => m.method)).toEqual(QUICK_METHODS);
    for (const m of methods) {
      expect(Number.isFinite(m.lossEnd!)).toBe(true);
      expect(m.linearProbe, `${m.method} vs random-init ${random.linearProbe}`).toBeGreaterThan(random.linearProbe);
    }
    expect(checkGoals(report).everyBeatsRandom).toBe(true);
    // Minutes of training: on a busy machine it ran past the global 120 s (load 17); this checks learning, not speed.
  }, 600_000);
});
