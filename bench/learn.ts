/**
 * `npm run bench:learn [-- --quick] [--only simclr,byol] [--seed 0] [--steps N] [--no-baselines] [--no-write] [--render] [--merge]`
 *
 * The proof that selfsup's methods learn: every entry of
 * bench/learn/joint-embedding.ts and bench/learn/pretext-tasks.ts is
 * pretrained on the same unlabeled Fashion-MNIST subset (Debian's
 * dataset-fashion-mnist) on the wasm backend, then its frozen encoder is
 * evaluated with a linear probe and a kNN classifier on the official test
 * split, next to the raw-pixels and random-init baselines. The protocol is in
 * bench/learn/protocol.ts and docs/learning-benchmark.md.
 *
 * A full run prints the table and writes bench/results/learn.md and
 * bench/results/learn.json (`--no-write`: print only); `--quick` (what
 * `npm test` runs, on small subsets) prints only, unless `--write` is given.
 * `--merge` (with `--only`): the rows run now replace or join those of the
 * saved full run in bench/results/learn.json, whose other rows are kept — for
 * adding a method without rerunning every row.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from 'selfsup';
import { writeResults } from './lib/harness.js';
import { JOINT_EMBEDDING_ENTRIES } from './learn/joint-embedding.js';
import { PRETEXT_TASK_ENTRIES } from './learn/pretext-tasks.js';
import { ENCODER_CONFIG, KNN_OPTIONS, PROBE_OPTIONS } from './learn/protocol.js';
import { checkGoals, fmt, markdownTable, mergeReports, runLearnBenchmark, type LearnReport } from './learn/runner.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const write = (!quick || process.argv.includes('--write')) && !process.argv.includes('--no-write');
const seed = Number(arg('--seed') ?? 0);
const only = arg('--only')?.split(',');
const steps = arg('--steps') !== undefined ? Number(arg('--steps')) : undefined;
const tty = process.stdout.isTTY === true;
const merge = process.argv.includes('--merge');

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
const entries = [...JOINT_EMBEDDING_ENTRIES, ...PRETEXT_TASK_ENTRIES];
const resultsJson = fileURLToPath(new URL('./results/learn.json', import.meta.url));
let report: LearnReport;
let generated = new Date().toISOString();

if (process.argv.includes('--render')) {
  // Re-render the table of the last full run (bench/results/learn.json) without
  // measuring anything: the numbers are kept, the notes come from the registries.
  const saved = JSON.parse(readFileSync(resultsJson, 'utf8')) as { date: string; data: LearnReport };
  report = saved.data;
  generated = saved.date;
  for (const row of report.rows) {
    const entry = entries.find((e) => e.name === row.method);
    if (entry) row.notes = entry.notes ?? '';
  }
} else {
  const info = await useBackend('wasm');
  console.log(`selfsup learning benchmark${quick ? ' (quick)' : ''} — ${generated}`);
  console.log(
    `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}, tfjs ${tf.version_core} ${info.backend} (SIMD ${info.simd ?? 'n/a'}, threads ${info.threads}); seed ${seed}`,
  );
  report = await runLearnBenchmark(entries, {
    quick,
    seed,
    ...(only ? { only } : {}),
    ...(steps !== undefined ? { steps } : {}),
    noBaselines: process.argv.includes('--no-baselines'),
    log: (line) => {
      if (tty) process.stdout.write('\r\x1b[K');
      console.log(line);
    },
    progress: (p) => {
      // A bar redrawn in place on a terminal; a line at every quarter otherwise (CI logs, pipes).
      const quarter = Math.max(1, Math.round(p.steps / 4));
      if (!tty && p.step % quarter !== 0 && p.step !== p.steps) return;
      const width = 20;
      const filled = Math.round((p.step / p.steps) * width);
      const line = `${p.method.padEnd(14)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${fmt(p.seconds)} (eta ${fmt(p.etaSeconds)})  ${p.numTensors} tensors`;
      if (tty) process.stdout.write(`\r${line}\x1b[K`);
      else console.log(line);
    },
  });
  if (merge) {
    const saved = JSON.parse(readFileSync(resultsJson, 'utf8')) as { date: string; data: LearnReport };
    report = mergeReports(saved.data, report, generated);
    generated = saved.date;
  }
}

const goals = checkGoals(report);
const table = markdownTable(report);
const summary = [
  `Fashion-MNIST: pretrain on ${report.splits.pretrain} unlabeled training images; probe and kNN bank: ${report.splits.probe} labeled training images; test: ${report.splits.test} official test images.`,
  `Encoder: convEncoder ${JSON.stringify(ENCODER_CONFIG)}; linear probe ${JSON.stringify(PROBE_OPTIONS)}; kNN ${JSON.stringify(KNN_OPTIONS)}; backend ${report.backend}.`,
  `Total ${report.totalSeconds.toFixed(0)} s; load average ${load(report.loadAverageStart)} at the start, ${load(report.loadAverageEnd)} at the end (${cpus().length} cores, shared).`,
  goals.shortfalls.length === 0
    ? `Goals met: every method beats its random-init baseline on the linear probe and kNN; the best beats raw-pixels by ${goals.bestMargin?.toFixed(2)} points.`
    : `Shortfalls: ${goals.shortfalls.join('; ')}.`,
  ...((report as { merged?: { date: string; rows: string[]; seconds: number; loadAverageStart: number[] }[] }).merged ?? []).map(
    (m) => `Merged on ${m.date}: ${m.rows.join(', ')} (${m.seconds.toFixed(0)} s, load average ${load(m.loadAverageStart)} at the start).`,
  ),
].join('\n');
console.log(`\n${table}\n\n${summary}`);

if (write) {
  const md = `# Learning benchmark results\n\nGenerated by \`npm run bench:learn${quick ? ' -- --quick' : ''}\` on ${generated}.\n\n${table}\n\n${summary}\n`;
  writeFileSync(fileURLToPath(new URL('./results/learn.md', import.meta.url)), md);
  const data = { ...report, encoder: ENCODER_CONFIG, probe: PROBE_OPTIONS, knn: KNN_OPTIONS, goals };
  if (process.argv.includes('--render') || merge) {
    // Keep the full run's date and environment; notes, goals (and merged rows) are refreshed.
    const saved = JSON.parse(readFileSync(resultsJson, 'utf8')) as Record<string, unknown>;
    const tmp = `${resultsJson}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...saved, data }, null, 2)}\n`);
    renameSync(tmp, resultsJson);
  } else {
    writeResults('learn', data);
  }
  console.log(`\nwrote bench/results/learn.md and ${resultsJson}`);
}
