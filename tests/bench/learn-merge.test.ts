/** `npm run bench:learn -- --only … --merge`: re-measured rows replace theirs, new rows go in registry order, the rest stays. */
import { describe, expect, it } from 'vitest';
import { checkGoals, mergeReports, type LearnReport, type LearnRow } from '../../bench/learn/runner.js';

const row = (method: string, linearProbe: number, knn: number, family: LearnRow['family'] = 'joint-embedding'): LearnRow => ({
  method,
  family,
  linearProbe,
  knn,
  pretrainSeconds: 1,
  pretrainCpuSeconds: 1,
  evalSeconds: 1,
  steps: 1,
  batchSize: 1,
  seed: 0,
  lossStart: null,
  lossEnd: null,
  hyperparameters: {},
  notes: '',
});

const report = (rows: LearnRow[], totalSeconds = 10): LearnReport => ({
  quick: false,
  seed: 0,
  splits: { pretrain: 20000, probe: 10000, test: 10000 },
  rows,
  totalSeconds,
  loadAverageStart: [1, 1, 1],
  loadAverageEnd: [1, 1, 1],
  backend: 'wasm',
});

describe('bench:learn --merge', () => {
  it('replaces, inserts in registry order, keeps the rest and records the run', () => {
    const saved = report([row('raw-pixels', 0.8, 0.8, 'baseline'), row('random-init', 0.82, 0.77, 'baseline'), row('simclr', 0.85, 0.83), row('mae', 0.76, 0.75, 'generative')]);
    const update = report([row('mae', 0.83, 0.8, 'generative'), row('dcl', 0.84, 0.82)], 42);
    const merged = mergeReports(saved, update, '2026-12-07');
    // Replaced in place; a new method after the last row of its family.
    expect(merged.rows.map((r) => r.method)).toEqual(['raw-pixels', 'random-init', 'simclr', 'dcl', 'mae']);
    expect(merged.rows.find((r) => r.method === 'mae')!.linearProbe).toBe(0.83);
    expect(merged.totalSeconds).toBe(10);
    expect(merged.merged).toEqual([{ date: '2026-12-07', rows: ['mae', 'dcl'], seconds: 42, loadAverageStart: [1, 1, 1], loadAverageEnd: [1, 1, 1] }]);
    expect(checkGoals(merged).everyBeatsRandom).toBe(true);
    expect(() => mergeReports(saved, { ...update, quick: true }, '')).toThrow("the new rows must use the saved run's protocol");
  });

  it('the goals name a row below random-init on kNN', () => {
    const goals = checkGoals(report([row('random-init', 0.82, 0.77, 'baseline'), row('x', 0.83, 0.7)]));
    expect(goals.everyBeatsRandom).toBe(false);
    expect(goals.shortfalls).toContain('x: kNN 70.00% ≤ random-init 77.00%');
  });
});
