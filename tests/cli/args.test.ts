/**
 * The command line's contract: --help for every command, and every mistake
 * (unknown or malformed flag, missing value, unknown method, settings that
 * cannot work, a missing folder) is one message naming the flag or the
 * folder, exit code 2 (1 for a missing folder), never a stack trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { METHODS } from '../../src/cli/methods.js';
import { runInProcess } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'selfsup-cli-args-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A stack trace line ("    at fn (file:line)"). */
const STACK = /^\s+at .+[:(]/m;

async function expectUsageError(args: string[], pattern: RegExp): Promise<string> {
  const r = await runInProcess(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('selfsup --help', () => {
  it('lists the commands; no command prints it on stderr with exit code 2', async () => {
    const help = await runInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: selfsup <command>/);
    expect(help.stdout).toMatch(/pretrain/);
    expect(help.stdout).toMatch(/embed/);
    const none = await runInProcess([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: selfsup/);
    expect((await runInProcess(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('pretrain --help names every flag and every method', async () => {
    const r = await runInProcess(['pretrain', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--data', '--method', '--out', '--steps', '--batch', '--size', '--encoder', '--seed', '--checkpoint-every', '--resume']) {
      expect(r.stdout).toContain(flag);
    }
    for (const m of METHODS) expect(r.stdout).toContain(`  ${m.name} `);
    expect(r.stdout).toMatch(/clip\s+not available/);
  });

  it('embed --help (and selfsup help embed)', async () => {
    const r = await runInProcess(['embed', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--model', '--data', '--out']) expect(r.stdout).toContain(flag);
    expect((await runInProcess(['help', 'embed'])).stdout).toBe(r.stdout);
  });
});

describe('mistakes on the command line', () => {
  const base = ['pretrain', '--data', work, '--method', 'simclr', '--out', join(work, 'run')];

  it('an unknown command or flag is named (with a suggestion for a near miss)', async () => {
    await expectUsageError(['train'], /unknown command 'train'/);
    await expectUsageError(['--data', 'x'], /unknown flag --data/);
    await expectUsageError([...base, '--stepz', '3'], /unknown flag --stepz \(did you mean --steps\?\)/);
    await expectUsageError(['embed', '--modle', 'x'], /unknown flag --modle/);
  });

  it('a malformed or missing value names the flag', async () => {
    await expectUsageError([...base, '--steps', 'ten'], /--steps expects an integer, got 'ten'/);
    await expectUsageError([...base, '--steps', '1.5'], /--steps expects an integer, got '1.5'/);
    await expectUsageError([...base, '--batch', '0'], /--batch must be between 2 and 65536, got 0/);
    await expectUsageError([...base, '--threads', '0'], /--threads must be between 1 and 64, got 0/);
    await expectUsageError([...base, '--encoder', 'resnet'], /--encoder must be one of conv, vit, got 'resnet'/);
    await expectUsageError([...base, '--steps'], /flag --steps needs a value/);
    await expectUsageError([...base, '--resume=yes'], /flag --resume takes no value/);
    await expectUsageError([...base, 'extra'], /unexpected argument 'extra'/);
  });

  it('required flags, unknown methods and tasks a folder cannot train', async () => {
    await expectUsageError(['pretrain', '--data', work, '--method', 'simclr'], /missing --out/);
    await expectUsageError(['pretrain', '--data', work, '--out', join(work, 'r')], /missing --method NAME \(one of: simclr, moco/);
    await expectUsageError(['pretrain', '--method', 'simclr', '--out', join(work, 'r')], /missing --data DIR/);
    await expectUsageError(['pretrain', '--data', work, '--out', join(work, 'r'), '--method', 'simclr2'], /unknown method 'simclr2'/);
    await expectUsageError(['pretrain', '--data', work, '--out', join(work, 'r'), '--method', 'clip'], /Clip trains on image-text pairs/);
    await expectUsageError(['embed', '--data', work, '--out', 'x.npy'], /missing --model/);
    await expectUsageError(['embed', '--model', work, '--data', work, '--out', 'x.bin'], /--out must end in \.npy, \.csv or \.json/);
    await expectUsageError(['embed', '--model', work, '--data', work, '--out', 'x.npy'], /--model: .* holds no model\.json/);
  });

  it('settings that cannot work are refused before any work, with what to do instead', async () => {
    await expectUsageError([...base, '--size', '30'], /--size must be a multiple of 8.*try --size 32/);
    await expectUsageError([...base, '--method', 'vicregl', '--encoder', 'vit'], /vicregl needs a convolutional feature map; use --encoder conv/);
    // 96 px, batch 256, two views: more than a wasm32 backend can address (bench/results/loader.json).
    const msg = await expectUsageError([...base, '--size', '96', '--batch', '256'], /--batch 256 at --size 96 .*\(4 GiB\): use --batch (\d+) or less/);
    const fits = Number(/use --batch (\d+)/.exec(msg)![1]);
    expect(fits).toBeGreaterThan(64);
    expect(fits).toBeLessThan(256);
    await expectUsageError(['pretrain', '--out', join(work, 'none'), '--resume'], /--resume: .*run\.json does not exist/);
  });

  it('a missing data folder is a clear error (exit code 1), not a stack trace', async () => {
    const r = await runInProcess(['pretrain', '--data', join(work, 'no-such-folder'), '--method', 'simclr', '--out', join(work, 'r2'), '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/selfsup pretrain: imageFolder: .*no-such-folder/);
    expect(r.stderr).not.toMatch(STACK);
  });
});
