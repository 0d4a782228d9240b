/**
 * The child process of the checkpoint tests (run with tsx). Modes:
 *
 * - `first DIR BACKEND N M`: every case steps 0…N−1, saves to DIR/<case>,
 *   then steps N…N+M−1; prints one JSON line per case with those losses and
 *   the state's fingerprint.
 * - `resume DIR BACKEND N M`: every case is built with another seed, loads
 *   DIR/<case> and steps N…N+M−1; prints the same lines.
 * - `hang DIR FILE`: a SimCLR with a 5 MB checkpoint saves at step 2, takes
 *   step 2 (printing its loss), then starts a save that stops inside FILE
 *   (weights.bin: half-written; manifest.json; latest: the new checkpoint
 *   complete but not yet current), printing `INSIDE FILE`, and waits to be
 *   killed.
 * - `loop DIR`: SimCLR in trainLoop with checkpoint.onSignal, printing
 *   `STEP i loss` per step, until a signal stops it; prints the result.
 */
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, trainLoop, useBackend } from 'selfsup';
import { BIG_SIMCLR, CASES, stateFingerprint, stepRange } from './cases.js';

const [mode, dir, arg, nArg, mArg] = process.argv.slice(2) as [string, string, string, string, string];
const out = (line: string) => process.stdout.write(`${line}\n`);
const simclr = CASES.find((c) => c.name === 'SimCLR')!;

if (mode === 'first' || mode === 'resume') {
  await useBackend(arg as 'cpu' | 'wasm');
  const n = Number(nArg);
  const m = Number(mArg);
  for (const c of CASES) {
    const run = c.make(mode === 'first' ? 1 : 7);
    const folder = join(dir, c.name.replace(/\W+/g, '-'));
    if (mode === 'first') {
      stepRange(run, 0, n);
      await saveCheckpoint(run.task, folder, { extra: { case: c.name } });
    } else {
      const { step, extra } = await loadCheckpoint(run.task, folder);
      if (step !== n || (extra as { case?: string }).case !== c.name) throw new Error(`${c.name}: loaded step ${step}, extra ${JSON.stringify(extra)}`);
    }
    const losses = stepRange(run, n, n + m);
    out(JSON.stringify({ name: c.name, losses, fingerprint: stateFingerprint(run.task) }));
    run.dispose();
  }
} else if (mode === 'hang') {
  await useBackend('wasm');
  const run = BIG_SIMCLR.make(1);
  stepRange(run, 0, 2);
  await saveCheckpoint(run.task, dir);
  out(`LOSS ${JSON.stringify(run.step(2))}`);
  await saveCheckpoint(run.task, dir, {
    onWrite: async ({ file, written, total }) => {
      if (file !== arg || (file === 'weights.bin' && written === total)) return; // stop mid-file
      out(`INSIDE ${file}`);
      await new Promise(() => undefined); // killed here
    },
  });
  out('NOT KILLED');
} else if (mode === 'loop') {
  await useBackend('cpu');
  const run = simclr.make(1);
  const result = await trainLoop({
    steps: 1000,
    step: (i) => {
      const loss = run.step(i);
      out(`STEP ${i} ${JSON.stringify(loss)}`);
      return loss;
    },
    checkpoint: { every: 2, onSignal: true, save: async () => void (await saveCheckpoint(run.task, dir)) },
  });
  out(`RESULT ${JSON.stringify({ stopReason: result.stopReason, signal: result.signal, checkpoints: result.checkpoints, steps: run.task.steps })}`);
  run.dispose();
} else {
  throw new Error(`unknown mode ${mode}`);
}
