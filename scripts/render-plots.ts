/**
 * Renders the benchmark plots of docs/benchmarks.md from the committed results
 * of real runs (bench/results/*.json) into docs/plots/*.svg. Run by
 * `npm run docs` (scripts/build-docs.ts); nothing here measures anything, so
 * the pictures always show the numbers in the results files and the tables.
 *
 *   tsx scripts/render-plots.ts [--out=docs/plots]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { barChart, PALETTE } from './lib/svg.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = process.argv.find((a) => a.startsWith('--out='))?.split('=')[1] ?? `${root}docs/plots`;

interface Saved<T> {
  date: string;
  data: T;
}

interface LearnRow {
  method: string;
  family: string;
  linearProbe: number;
  knn: number;
}

interface Ratio {
  workload: string;
  subject: string;
  baseline: string;
  label: string;
  cpu: number;
}

interface PerfRow {
  workload: string;
  impl: string;
  cpuMedianMs: number;
}

function load<T>(name: string): Saved<T> | undefined {
  const file = `${root}bench/results/${name}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Saved<T>) : undefined;
}

const day = (iso: string) => iso.slice(0, 10);
const written: string[] = [];
function write(name: string, svg: string): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/${name}`, `${svg}\n`);
  written.push(name);
}

/** The learning table: linear probe and kNN accuracy per row, baselines as reference lines. */
export function learnPlot(saved: Saved<{ rows: LearnRow[] }>): string {
  const rows = saved.data.rows;
  const methods = rows.filter((r) => r.family !== 'baseline');
  const raw = rows.find((r) => r.method === 'raw-pixels');
  const random = rows.find((r) => r.method === 'random-init');
  const values = methods.flatMap((r) => [r.linearProbe, r.knn]).concat(raw ? [raw.linearProbe] : []);
  const lo = Math.floor(Math.min(...values) * 100 - 2);
  const hi = Math.ceil(Math.max(...values) * 100 + 1);
  return barChart({
    title: `Fashion-MNIST test accuracy of frozen features (npm run bench:learn, ${day(saved.date)})`,
    rows: methods.map((r) => `${r.method} (${r.family})`),
    series: [
      { name: 'linear probe', color: PALETTE[0]!, values: methods.map((r) => 100 * r.linearProbe) },
      { name: 'kNN', color: PALETTE[1]!, values: methods.map((r) => 100 * r.knn) },
    ],
    domain: [lo, hi],
    axisLabel: 'test accuracy (%)',
    format: (v) => `${v.toFixed(1)}`,
    references: [
      ...(raw ? [{ label: `raw pixels, probe ${(100 * raw.linearProbe).toFixed(1)}%`, value: 100 * raw.linearProbe, color: '#333333' }] : []),
      ...(random ? [{ label: `random init, probe ${(100 * random.linearProbe).toFixed(1)}%`, value: 100 * random.linearProbe, color: PALETTE[2]! }] : []),
      ...(raw ? [{ label: 'goal: raw + 4', value: 100 * raw.linearProbe + 4, color: PALETTE[4]! }] : []),
    ],
  });
}

/** selfsup's time relative to a reference library (CPU time, same run); below 1 is faster. */
export function referencePlot(saved: Saved<{ groups: Record<string, { ratios: Ratio[] }> }>): string {
  const ratios = Object.values(saved.data.groups)
    .flatMap((g) => g.ratios)
    .filter((r) => r.subject === 'selfsup wasm' && ['pytorch', 'scikit-learn'].includes(r.baseline));
  return barChart({
    title: `selfsup (wasm, 1 thread) time ÷ reference time (npm run bench, ${day(saved.date)})`,
    rows: ratios.map((r) => `${r.workload} vs ${r.baseline}`),
    series: [{ name: 'CPU-time ratio (lower is faster)', color: PALETTE[0]!, values: ratios.map((r) => r.cpu) }],
    log: true,
    axisLabel: 'time ratio, log scale (1× = as fast as PyTorch / scikit-learn on the same machine)',
    format: (v) => `${v.toFixed(2)}×`,
    references: [{ label: 'parity', value: 1, color: '#333333' }],
  });
}

/** What selfsup's kernels buy over stock tfjs-backend-wasm (same run). */
export function kernelsPlot(saved: Saved<{ groups: Record<string, { ratios: Ratio[] }> }>): string {
  const ratios = Object.values(saved.data.groups)
    .flatMap((g) => g.ratios)
    .filter((r) => r.subject === 'selfsup wasm' && r.baseline.startsWith('naive tfjs wasm'));
  return barChart({
    title: `selfsup wasm time ÷ stock tfjs wasm time (npm run bench, ${day(saved.date)})`,
    rows: ratios.map((r) => r.workload),
    series: [{ name: 'CPU-time ratio (lower is faster)', color: PALETTE[4]!, values: ratios.map((r) => r.cpu) }],
    log: true,
    axisLabel: 'time ratio, log scale (1× = stock tfjs-backend-wasm 4.22)',
    format: (v) => `${v.toFixed(2)}×`,
    references: [{ label: 'stock tfjs wasm', value: 1, color: '#333333' }],
  });
}

/** Augmentation and masking: selfsup's time relative to torchvision / PyTorch (same run). */
export function augmentPlot(saved: Saved<{ rows: PerfRow[] }>): string {
  const rows = saved.data.rows;
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const reference = (w: string) => rows.find((r) => r.workload === w && /torchvision|pytorch/i.test(r.impl));
  const ratio = (w: string, impl: string) => {
    const ref = reference(w);
    const row = rows.find((r) => r.workload === w && r.impl === impl);
    return ref && row ? row.cpuMedianMs / ref.cpuMedianMs : null;
  };
  return barChart({
    title: `Augmentation and masking time ÷ torchvision / PyTorch time (npm run bench:augment, ${day(saved.date)})`,
    rows: workloads.map((w) => `${w} vs ${reference(w)?.impl.replace(/ \(.*\)$/, '') ?? '?'}`),
    series: [
      { name: 'selfsup wasm', color: PALETTE[0]!, values: workloads.map((w) => ratio(w, 'selfsup wasm')) },
      { name: 'selfsup cpu', color: PALETTE[1]!, values: workloads.map((w) => ratio(w, 'selfsup cpu')) },
    ],
    log: true,
    axisLabel: 'CPU-time ratio, log scale (lower is faster; 1× = the reference, 1 thread)',
    format: (v) => `${v.toFixed(2)}×`,
    references: [{ label: 'parity', value: 1, color: '#333333' }],
  });
}

interface Multimodal {
  clip: {
    chance: { heldOut: number; seen: number };
    trained: { heldOutZeroShot: number; heldOutZeroShotEnsembled: number; seenZeroShot: number };
    untrained: { heldOutZeroShot: number; heldOutZeroShotEnsembled: number; seenZeroShot: number };
  };
}

/** CLIP zero-shot accuracy, trained vs untrained, with chance. */
export function multimodalPlot(saved: Saved<Multimodal>): string {
  const { trained, untrained, chance } = saved.data.clip;
  const rows = ['held-out classes, one prompt', 'held-out classes, prompt ensemble', 'seen classes'];
  const pick = (r: typeof trained) => [r.heldOutZeroShot, r.heldOutZeroShotEnsembled, r.seenZeroShot].map((v) => 100 * v);
  return barChart({
    title: `CLIP zero-shot classification on Fashion-MNIST (npm run bench:multimodal, ${day(saved.date)})`,
    rows,
    series: [
      { name: 'trained', color: PALETTE[0]!, values: pick(trained) },
      { name: 'untrained', color: PALETTE[9]!, values: pick(untrained) },
    ],
    domain: [0, 100],
    axisLabel: 'test accuracy (%)',
    format: (v) => `${v.toFixed(1)}`,
    references: [{ label: `chance on held-out classes (${(100 * chance.heldOut).toFixed(1)}%)`, value: 100 * chance.heldOut, color: PALETTE[2]! }],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const learn = load<{ rows: LearnRow[] }>('learn');
  if (learn) write('learn.svg', learnPlot(learn));
  const bench = load<{ groups: Record<string, { ratios: Ratio[] }> }>('bench');
  if (bench) {
    write('reference-ratios.svg', referencePlot(bench));
    write('kernel-ratios.svg', kernelsPlot(bench));
  }
  const augment = load<{ rows: PerfRow[] }>('augment');
  if (augment) write('augment-ratios.svg', augmentPlot(augment));
  const multimodal = load<Multimodal>('multimodal');
  if (multimodal) write('multimodal.svg', multimodalPlot(multimodal));
  console.log(`plots: ${written.join(', ')} → ${out}`);
}
