/**
 * Checkpoints across processes, through files: every task continues exactly
 * in a fresh process; a save killed with SIGKILL at any stage leaves the
 * previous checkpoint loadable; trainLoop saves on SIGTERM and the run
 * resumes exactly. The children run tests/checkpoint/child.ts (node --import tsx).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCheckpoint, loadCheckpoint, saveCheckpoint, useBackend } from 'selfsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_SIMCLR, CASES, stateFingerprint, stepRange } from './cases.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const child = 'tests/checkpoint/child.ts';
// Node itself with tsx's loader (not the tsx command, which runs a second process): the signals must reach the process that saves.
const node = (args: string[]) => [process.execPath, ['--import', 'tsx', child, ...args]] as const;

function runChild(args: string[]): string[] {
  const out = execFileSync(...node(args), { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  return out.trim().split('\n');
}

/** Starts a child and resolves with its output once `until` matches a line; the child is left running. */
function startChild(args: string[], until: RegExp): Promise<{ lines: string[]; kill(signal: NodeJS.Signals): Promise<string[]> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(...node(args), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffer = '';
    let stderr = '';
    let matched = false;
    const closed = new Promise<string[]>((done) => proc.on('close', () => done(lines)));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (!matched && until.test(line)) {
          matched = true;
          resolve({ lines, kill: (signal) => (proc.kill(signal), closed) });
        }
      }
    });
    proc.on('close', (code) => {
      if (!matched) reject(new Error(`child exited (${code}) before ${until}: ${lines.join('\n')}\n${stderr}`));
    });
  });
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'selfsup-ckpt-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('checkpoints across processes', () => {
  it('every task continues exactly in a fresh process (wasm, N = 2, M = 2)', () => {
    const dir = join(work, 'all');
    const first = runChild(['first', dir, 'wasm', '2', '2']).map((l) => JSON.parse(l) as { name: string; losses: number[]; fingerprint: unknown });
    const resumed = runChild(['resume', dir, 'wasm', '2', '2']).map((l) => JSON.parse(l) as { name: string; losses: number[]; fingerprint: unknown });
    expect(first.map((r) => r.name)).toEqual(CASES.map((c) => c.name));
    for (const [i, r] of resumed.entries()) {
      expect(r.name).toBe(first[i]!.name);
      expect(r.losses, r.name).toEqual(first[i]!.losses);
      expect(r.fingerprint, r.name).toEqual(first[i]!.fingerprint);
    }
    const manifest = JSON.parse(readFileSync(join(findCheckpoint(join(dir, 'SimCLR'))!, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'selfsup-checkpoint', formatVersion: 1, backend: 'wasm', method: 'SimCLR', step: 2 });
  }, 600_000); // two processes train every task: slow on a busy machine

  for (const file of ['weights.bin', 'manifest.json', 'latest'] as const) {
    it(`a save killed with SIGKILL inside ${file} leaves the previous checkpoint loadable, and the next save cleans up`, async () => {
      const dir = join(work, `kill-${file}`);
      const running = await startChild(['hang', dir, file], new RegExp(`^INSIDE ${file.replace('.', '\\.')}$`));
      const lines = await running.kill('SIGKILL');
      expect(lines).not.toContain('NOT KILLED');
      const expectedLoss = JSON.parse(lines.find((l) => l.startsWith('LOSS '))!.slice(5)) as number;
      expect(readdirSync(dir).some((e) => e.startsWith('.tmp-'))).toBe(true); // the interrupted save's leftovers
      if (file === 'weights.bin') {
        const temp = readdirSync(dir).find((e) => e.startsWith('.tmp-step-'))!;
        const partial = statSync(join(dir, temp, 'weights.bin')).size;
        expect(partial).toBeGreaterThanOrEqual(4 << 20); // 4 MiB or more written …
        expect(partial).toBeLessThan(statSync(join(dir, 'step-00000002', 'weights.bin')).size); // … of a longer file
      }
      expect(readFileSync(join(dir, 'latest'), 'utf8').trim()).toBe('step-00000002');

      await useBackend('wasm'); // the child's backend: the continuation is bitwise
      const run = BIG_SIMCLR.make(5);
      const { step } = await loadCheckpoint(run.task, dir);
      expect(step).toBe(2);
      expect(run.step(2)).toBe(expectedLoss); // the checkpoint before the interrupted save, exactly
      const saved = await saveCheckpoint(run.task, dir);
      expect(saved.step).toBe(3);
      expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000003']);
      run.dispose();
    });
  }

  it('trainLoop saves on SIGTERM and stops; the run resumes exactly where it stopped', async () => {
    await useBackend('cpu'); // the child's
    const dir = join(work, 'signal');
    const running = await startChild(['loop', dir], /^STEP 4 /);
    const lines = await running.kill('SIGTERM');
    const result = JSON.parse(lines.find((l) => l.startsWith('RESULT '))!.slice(7)) as {
      stopReason: string;
      signal: string;
      checkpoints: number[];
      steps: number;
    };
    expect(result.stopReason).toBe('signal');
    expect(result.signal).toBe('SIGTERM');
    expect(result.checkpoints.at(-1)).toBe(result.steps); // saved at the step it stopped at
    expect(result.checkpoints.slice(0, 2)).toEqual([2, 4]); // every 2 steps before that
    const losses = new Map(lines.filter((l) => l.startsWith('STEP ')).map((l) => [Number(l.split(' ')[1]), Number(l.split(' ')[2])]));

    // The same run, uninterrupted, in this process: the losses after the stop are the ones a resumed run gets.
    const reference = CASES.find((c) => c.name === 'SimCLR')!.make(1);
    const uninterrupted = stepRange(reference, 0, result.steps + 2);
    expect(uninterrupted.slice(0, result.steps)).toEqual([...losses.values()].slice(0, result.steps));
    const resumed = CASES.find((c) => c.name === 'SimCLR')!.make(3);
    const { step } = await loadCheckpoint(resumed.task, dir);
    expect(step).toBe(result.steps);
    expect(stepRange(resumed, step, step + 2)).toEqual(uninterrupted.slice(step));
    expect(stateFingerprint(resumed.task)).toEqual(stateFingerprint(reference.task));
    reference.dispose();
    resumed.dispose();
    expect(existsSync(join(dir, 'latest'))).toBe(true);
  });
});
