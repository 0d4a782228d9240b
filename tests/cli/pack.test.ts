/**
 * The command as a user runs it: `npm pack`, the tarball installed with the
 * tfjs packages into a fresh project outside the repository, then
 * `npx selfsup --help`, `npx selfsup pretrain …` on a folder of images (with
 * a corrupt file) and `npx selfsup embed …`.
 *
 * Needs dist/ (npm test builds it first) and the npm registry or npm's cache
 * (the install runs with --prefer-offline).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { decodeNpy } from '../../src/io/npy.js';
import { root, writeTestFolder } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const tfjs = pkg.devDependencies['@tensorflow/tfjs-core']!;
const work = mkdtempSync(join(tmpdir(), 'selfsup-cli-pack-'));
const project = join(work, 'project');

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

function npx(args: string[]) {
  return spawnSync('npx', ['--no-install', 'selfsup', ...args], { cwd: project, encoding: 'utf8', timeout: 240_000 });
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root)) as { filename: string }[];
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cli-user', private: true }));
  const peers = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm'].map((p) => `${p}@${tfjs}`);
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, packed[0]!.filename), ...peers], project);
  await useBackend('cpu');
  writeTestFolder(join(project, 'photos'), 4, 32);
}, 360_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npx selfsup from the packed tarball', () => {
  it('prints its help, pretrains on a folder and embeds it', () => {
    const help = npx(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: selfsup <command>/);
    const bad = npx(['pretrain', '--data', 'photos', '--method', 'simclr', '--out', 'run', '--steps', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--steps expects an integer, got 'x'/);

    const run = npx(['pretrain', '--data', 'photos', '--method', 'simclr', '--out', 'run', '--steps', '3', '--size', '16', '--batch', '8']);
    expect(run.status, run.stderr).toBe(0);
    for (const f of ['encoder/model.json', 'checkpoint/latest', 'metrics.jsonl', 'report.json', 'report.html']) expect(existsSync(join(project, 'run', f)), f).toBe(true);

    const embed = npx(['embed', '--model', 'run/encoder', '--data', 'photos', '--out', 'photos.npy']);
    expect(embed.status, embed.stderr).toBe(0);
    expect(decodeNpy(new Uint8Array(readFileSync(join(project, 'photos.npy')))).shape).toEqual([16, 128]);
  });
});
