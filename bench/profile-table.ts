/**
 * `npx tsx bench/profile-table.ts before after [after-relaxed …]`: the
 * Markdown tables of docs/backends.md from bench/results/profile-<name>.json
 * files written by `npm run bench:profile -- --write <name>`: per step the
 * CPU ms, the time in and outside kernels and the kernel calls, and CPU ms
 * per kernel group, one column per profile.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Totals { cpuMs: number; ms: number; calls: number }
interface StepProfile { step: string; cpuMs: number; wallMs: number; kernelCpuMs: number; calls: number; groups: Record<string, Totals>; phases: Record<string, Totals> }
interface ProfileFile { date: string; node: string; loadavg: number[]; data: { loadavgStart: number[]; backend: { kernelsSimd?: string }; profiles: StepProfile[] } }

const names = process.argv.slice(2);
const files = names.map((n) => JSON.parse(readFileSync(fileURLToPath(new URL(`./results/profile-${n}.json`, import.meta.url)), 'utf8')) as ProfileFile);
const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
const header = (first: string) => `| ${first} | ${names.join(' | ')} |\n|---|${names.map(() => '---:').join('|')}|`;

console.log(names.map((n, i) => `${n}: ${files[i]!.date}, Node ${files[i]!.node}, kernels ${files[i]!.data.backend.kernelsSimd ?? 'simd128'}, load ${files[i]!.data.loadavgStart.map((l) => l.toFixed(1)).join(' ')}`).join('\n'));
const steps = files[0]!.data.profiles.map((p) => p.step);
console.log(`\n${header('step: CPU ms (in kernels + outside; kernel calls)')}`);
for (const step of steps) {
  const cells = files.map((f) => {
    const p = f.data.profiles.find((q) => q.step === step);
    return p ? `${f1(p.cpuMs)} (${f1(p.kernelCpuMs)} + ${f1(p.cpuMs - p.kernelCpuMs)}; ${Math.round(p.calls)})` : '—';
  });
  console.log(`| ${step} | ${cells.join(' | ')} |`);
}
for (const step of steps) {
  const groups = new Set<string>();
  for (const f of files) for (const g of Object.keys(f.data.profiles.find((q) => q.step === step)?.groups ?? {})) groups.add(g);
  const order = [...groups].sort((a, b) => (files[0]!.data.profiles.find((q) => q.step === step)?.groups[b]?.cpuMs ?? 0) - (files[0]!.data.profiles.find((q) => q.step === step)?.groups[a]?.cpuMs ?? 0));
  console.log(`\n**${step}** (CPU ms per step; kernel calls)\n\n${header('kernel group')}`);
  for (const g of order) {
    console.log(`| ${g} | ${files.map((f) => { const t = f.data.profiles.find((q) => q.step === step)?.groups[g]; return t ? `${f1(t.cpuMs)} (${Math.round(t.calls)})` : '—'; }).join(' | ')} |`);
  }
  for (const phase of ['augment', 'forward', 'backward', 'optimizer']) {
    console.log(`| *${phase} phase (its kernels above)* | ${files.map((f) => { const t = f.data.profiles.find((q) => q.step === step)?.phases[phase]; return t ? `*${f1(t.cpuMs)} (${Math.round(t.calls)})*` : '—'; }).join(' | ')} |`);
  }
  console.log(`| outside kernels (tfjs and layers JavaScript) | ${files.map((f) => { const p = f.data.profiles.find((q) => q.step === step); return p ? f1(p.cpuMs - p.kernelCpuMs) : '—'; }).join(' | ')} |`);
  console.log(`| **whole step** | ${files.map((f) => { const p = f.data.profiles.find((q) => q.step === step); return p ? `**${f1(p.cpuMs)}**` : '—'; }).join(' | ')} |`);
}
