/**
 * `selfsup pretrain` and `selfsup embed` end to end on a generated folder of
 * PNG and JPEG files in class subfolders with corrupt files among them: every
 * output is written, by every method of the registry (with its default encoder); a run killed (SIGTERM, then SIGKILL) and resumed gives
 * the losses of an uninterrupted run, with metrics.jsonl continued without
 * duplicates; the saved encoder loads in a fresh process with stock
 * tfjs-layers and gives the embeddings `selfsup embed` wrote; the .npy
 * follows NumPy's format specification.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { METHODS } from '../../src/cli/methods.js';
import { decodeNpy } from '../../src/io/npy.js';
import { readMetrics, root, runChild, runInProcess, startChild, writeTestFolder } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'selfsup-cli-'));
const data = join(work, 'photos');
let goodFiles = 0;

beforeAll(async () => {
  await useBackend('wasm');
  goodFiles = writeTestFolder(data, 10, 40); // 4 classes × 10 files + 3 corrupt ones
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A self-contained page: no scripts, styles or images fetched from anywhere. */
function expectSelfContained(html: string): void {
  const withoutNamespaces = html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '');
  expect(withoutNamespaces).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import/);
}

describe('selfsup pretrain', () => {
  it('writes the encoder, a checkpoint, metrics, report.json and report.html (corrupt files skipped with a warning)', async () => {
    const out = join(work, 'run-simclr');
    const r = await runInProcess(['pretrain', '--data', data, '--method', 'simclr', '--out', out, '--steps', '6', '--size', '16', '--batch', '8', '--checkpoint-every', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped 3 of 43 files.*empty\.png.*truncated\.jpg.*not-a-picture\.png/);
    expect(existsSync(join(out, 'encoder/model.json'))).toBe(true);
    expect(readFileSync(join(out, 'checkpoint/latest'), 'utf8').trim()).toBe('step-00000006');
    const metrics = readMetrics(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.every((m) => Number.isFinite(m.loss))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<'trained' | 'randomInit', Record<string, number>>;
    expect(report).toMatchObject({ method: 'simclr', className: 'SimCLR', classNames: ['astronaut', 'chelsea', 'coffee', 'rocket'], split: { train: 30, test: 10 } });
    for (const side of ['trained', 'randomInit'] as const) {
      for (const key of ['knnAccuracy', 'linearProbeAccuracy'] as const) {
        expect(report[side][key]).toBeGreaterThanOrEqual(0);
        expect(report[side][key]).toBeLessThanOrEqual(1);
      }
    }
    expect(r.stdout).toMatch(/report\.json: kNN [\d.]+ % \(random init [\d.]+ %\), linear probe/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expectSelfContained(html);
    expect(html).toMatch(/<polyline[^>]+points="[\d., -]+"/); // the loss curve
    expect(html.match(/<image href="data:image\/png;base64,/g)?.length).toBe(goodFiles); // a thumbnail per image (≤ 300)
    expect(html).toContain('random init');
    // The same folder again without --resume is refused: a run is never overwritten by accident.
    const again = await runInProcess(['pretrain', '--data', data, '--method', 'simclr', '--out', out, '--steps', '6', '--size', '16', '--batch', '8']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run .* add --resume/);
  });

  it.each(METHODS.map((m) => [m.name]))('%s: two steps with a checkpoint after each, the encoder and the report', async (name) => {
    const out = join(work, `all-${name}`);
    const r = await runInProcess(['pretrain', '--data', data, '--method', name, '--out', out, '--steps', '2', '--size', '16', '--batch', '8', '--checkpoint-every', '1', '--eval-images', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'checkpoint/latest'), 'utf8').trim()).toBe('step-00000002');
    expect(readMetrics(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).every((m) => Number.isFinite(m.loss))).toBe(true);
    expect(existsSync(join(out, 'encoder/model.json')) && existsSync(join(out, 'report.json')) && existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('draws a progress bar on a terminal and writes plain lines to a pipe', async () => {
    const argv = (out: string) => ['pretrain', '--data', data, '--method', 'simsiam', '--out', join(work, out), '--steps', '3', '--size', '16', '--batch', '8'];
    const tty = await runInProcess(argv('run-tty'), undefined, true);
    expect(tty.code, tty.stderr).toBe(0);
    // Redrawn in place: carriage returns, step/total, loss, images/s, ETA and the tensors alive on one line.
    expect(tty.stderr).toMatch(/\r.*simsiam .*3\/3 .*loss -?[\d.]+ .* img\/s .*ETA .* tensors/);
    const piped = await runInProcess(argv('run-pipe'));
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr.split('\n').filter((l) => /^simsiam \d\/3 /.test(l))).toHaveLength(3);
  });

  it('an unlabelled folder gets the loss curve and the map, no report.json', async () => {
    const out = join(work, 'run-unlabelled');
    const r = await runInProcess(['pretrain', '--data', join(data, 'rocket'), '--method', 'rotation', '--out', out, '--steps', '2', '--size', '16', '--batch', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expectSelfContained(html);
    expect(html).toContain('no class subfolders');
    expect(html.match(/<image /g)?.length).toBe(10);
  });

  it('trains a ViT (MAE) and embeds with it', async () => {
    const out = join(work, 'run-mae');
    const r = await runInProcess(['pretrain', '--data', data, '--method', 'mae', '--encoder', 'vit', '--out', out, '--steps', '2', '--size', '16', '--batch', '8']);
    expect(r.code, r.stderr).toBe(0);
    const e = await runInProcess(['embed', '--model', join(out, 'encoder'), '--data', data, '--out', join(work, 'mae.npy')]);
    expect(e.code, e.stderr).toBe(0);
    expect(decodeNpy(readFileSync(join(work, 'mae.npy'))).shape).toEqual([goodFiles, 64]);
  });

  it('colorization saves the encoder of lightness, and embed feeds it the L channel of RGB images', async () => {
    const out = join(work, 'run-colorization');
    const r = await runInProcess(['pretrain', '--data', data, '--method', 'colorization', '--out', out, '--steps', '2', '--size', '16', '--batch', '8']);
    expect(r.code, r.stderr).toBe(0);
    const model = JSON.parse(readFileSync(join(out, 'encoder/model.json'), 'utf8')) as { modelTopology: unknown };
    expect(JSON.stringify(model.modelTopology)).toMatch(/"batch_input_shape":\[null,16,16,1\]/);
    expect(JSON.parse(readFileSync(join(out, 'encoder/selfsup.json'), 'utf8'))).toMatchObject({ input: 'lab-lightness', imageShape: [16, 16, 1] });
    const e = await runInProcess(['embed', '--model', join(out, 'encoder'), '--data', data, '--out', join(work, 'colour.npy')]);
    expect(e.code, e.stderr).toBe(0);
    expect(decodeNpy(readFileSync(join(work, 'colour.npy'))).shape).toEqual([goodFiles, 128]);
  });

  it('killed mid-run (SIGTERM, then SIGKILL) and resumed, gives the losses of an uninterrupted run', async () => {
    const args = (out: string) => ['pretrain', '--data', data, '--method', 'byol', '--out', out, '--steps', '24', '--size', '16', '--batch', '8', '--checkpoint-every', '4'];
    const reference = join(work, 'uninterrupted');
    expect((await runInProcess(args(reference))).code).toBe(0);
    const expected = readMetrics(readFileSync(join(reference, 'metrics.jsonl'), 'utf8'));

    const out = join(work, 'interrupted');
    const metricsFile = join(out, 'metrics.jsonl');
    /** Starts the command, sends `signal` once metrics.jsonl has `lines` lines, and waits for the end. */
    const interrupt = async (argv: string[], lines: number, signal: NodeJS.Signals) => {
      const child = startChild(argv);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, sig) => res({ code, signal: sig })));
      const poll = setInterval(() => {
        const n = existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8').split('\n').filter(Boolean).length : 0;
        if (n >= lines) {
          clearInterval(poll);
          child.kill(signal);
        }
      }, 10);
      const result = await exited;
      clearInterval(poll);
      return { ...result, stderr };
    };
    // SIGTERM: the step in progress finishes, a checkpoint is saved, exit code 143.
    const term = await interrupt(args(out), 6, 'SIGTERM');
    expect(term.code, term.stderr).toBe(143);
    expect(term.stderr).toMatch(/stopped by SIGTERM after step \d+; checkpoint saved .* --resume/);
    // SIGKILL: nothing runs; the last complete checkpoint (every 4 steps) is where the run resumes.
    const kill = await interrupt(['pretrain', '--out', out, '--resume'], 14, 'SIGKILL');
    expect(kill.signal).toBe('SIGKILL');
    const resumed = runChild(['pretrain', '--out', out, '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming byol at step (12|16|20) of 24/);
    const metrics = readMetrics(readFileSync(metricsFile, 'utf8'));
    expect(metrics.map((m) => m.step)).toEqual(expected.map((m) => m.step));
    expect(metrics.map((m) => m.loss)).toEqual(expected.map((m) => m.loss));
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(readFileSync(join(reference, 'report.json'), 'utf8'));
  });
});

describe('selfsup embed', () => {
  it('writes an .npy in NumPy format that matches a stock tf.loadLayersModel of the encoder in a fresh process', async () => {
    const model = join(work, 'run-simclr/encoder');
    const npy = join(work, 'photos.npy');
    const r = await runInProcess(['embed', '--model', model, '--data', data, '--out', npy]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`wrote ${goodFiles} × 128 embeddings`));
    const bytes = new Uint8Array(readFileSync(npy));
    // NumPy's format (numpy.lib.format, version 1.0): magic, version, little-endian header length,
    // a Python dict literal padded with spaces and ending in a newline so the data starts 64-byte aligned.
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength));
    expect((10 + headerLength) % 64).toBe(0);
    expect(header).toMatch(new RegExp(`^\\{'descr': '<f4', 'fortran_order': False, 'shape': \\(${goodFiles}, 128\\), \\} *\\n$`));
    expect(bytes.length - 10 - headerLength).toBe(goodFiles * 128 * 4);
    const decoded = decodeNpy(bytes);
    expect(decoded.shape).toEqual([goodFiles, 128]);
    const meta = JSON.parse(readFileSync(join(work, 'photos.meta.json'), 'utf8')) as { names: string[]; labels: number[]; classNames: string[] };
    expect(meta.names).toHaveLength(goodFiles);
    expect(meta.names[0]).toBe('astronaut/astronaut-0.png');
    expect(meta.names.some((n) => /empty|truncated|not-a-picture/.test(n))).toBe(false);
    expect(meta.classNames).toEqual(['astronaut', 'chelsea', 'coffee', 'rocket']);
    expect(meta.labels.filter((l) => l === 3)).toHaveLength(10);

    const stockNpy = join(work, 'stock.npy');
    const load = spawnSync(process.execPath, ['--import', 'tsx', 'tests/cli/stock-load.ts', model, data, '16', stockNpy], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(load.status, load.stderr).toBe(0);
    const stock = decodeNpy(new Uint8Array(readFileSync(stockNpy)));
    expect(stock.shape).toEqual(decoded.shape);
    expect(Array.from(stock.values)).toEqual(Array.from(decoded.values));
  });
});
