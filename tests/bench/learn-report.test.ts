/**
 * The learning benchmark's report logic (no training): goals judged against
 * each row's own random-init baseline on the probe and kNN, and `--merge`
 * adding rows to a saved full run without touching the others.
 */
import { describe, expect, it } from 'vitest';
import { checkGoals, goalNotes, mergeReports, type LearnReport, type LearnRow } from '../../bench/learn/runner.js';

const row = (method: string, family: LearnRow['family'], linearProbe: number, knn: number, baseline?: string): LearnRow => ({
  method,
  family,
  linearProbe,
  knn,
  pretrainSeconds: 0,
  pretrainCpuSeconds: 0,
  evalSeconds: 0,
  steps: family === 'baseline' ? 0 : 10,
  batchSize: 8,
  seed: 0,
  lossStart: null,
  lossEnd: null,
  hyperparameters: {},
  notes: '',
  ...(baseline ? { baseline } : {}),
});

const report = (rows: LearnRow[]): LearnReport => ({
  quick: false,
  seed: 0,
  splits: { pretrain: 100, probe: 50, test: 50 },
  rows,
  totalSeconds: 1,
  loadAverageStart: [1, 1, 1],
  loadAverageEnd: [1, 1, 1],
  backend: 'wasm',
});

describe('bench:learn goals', () => {
  it('judge each method against its own baseline, on the linear probe and kNN', () => {
    const r = report([
      row('raw-pixels', 'baseline', 0.8, 0.8),
      row('random-init', 'baseline', 0.82, 0.77),
      row('random-init-vit', 'baseline', 0.74, 0.68),
      row('simclr', 'joint-embedding', 0.86, 0.83),
      row('ijepa', 'joint-embedding', 0.76, 0.7, 'random-init-vit'),
      row('mae', 'generative', 0.77, 0.76),
    ]);
    const goals = checkGoals(r);
    expect(goals.everyBeatsRandom).toBe(false);
    expect(goals.shortfalls).toEqual(['mae: linear probe 77.00% ≤ random-init 82.00%', 'mae: kNN 76.00% ≤ random-init 77.00%']);
    expect(goalNotes(r).get('mae')).toBe('SHORTFALL: linear probe 77.00% ≤ random-init 82.00%, kNN 76.00% ≤ random-init 77.00%');
    expect(goalNotes(r).has('ijepa')).toBe(false);
    expect(goals.bestMargin).toBeCloseTo(6);
  });
});

describe('bench:learn --merge', () => {
  it('replaces rows in place, inserts new baselines and methods in their groups, and records the merge', () => {
    const saved = report([
      row('raw-pixels', 'baseline', 0.8, 0.8),
      row('random-init', 'baseline', 0.82, 0.77),
      row('simclr', 'joint-embedding', 0.86, 0.83),
      row('dino', 'joint-embedding', 0.83, 0.81),
      row('mae', 'generative', 0.77, 0.76),
    ]);
    const fresh = report([row('random-init-vit', 'baseline', 0.74, 0.68), row('dino', 'joint-embedding', 0.84, 0.82), row('msn', 'joint-embedding', 0.83, 0.81)]);
    const merged = mergeReports(saved, fresh, '2026-12-07');
    expect(merged.rows.map((r) => r.method)).toEqual(['raw-pixels', 'random-init', 'random-init-vit', 'simclr', 'dino', 'msn', 'mae']);
    expect(merged.rows.find((r) => r.method === 'dino')!.linearProbe).toBe(0.84);
    expect(merged.totalSeconds).toBe(saved.totalSeconds);
    expect(merged.merged).toEqual([{ date: '2026-12-07', rows: ['random-init-vit', 'dino', 'msn'], seconds: 1, loadAverageStart: [1, 1, 1], loadAverageEnd: [1, 1, 1] }]);
    expect(() => mergeReports(saved, { ...fresh, seed: 1 }, 'x')).toThrow("bench:learn --merge: the new rows must use the saved run's protocol");
  });
});
