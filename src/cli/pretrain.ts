/**
 * `selfsup pretrain`: trains an encoder on a folder of images with one of the
 * methods of selfsup/tasks, with checkpoints, exact resume, metrics, the
 * saved encoder and a report.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { useBackend } from '../backend/use-backend.js';
import { findCheckpoint, loadCheckpoint, readCheckpointManifest, saveCheckpoint } from '../checkpoint/index.js';
import { imageFolder } from '../data/image-folder.js';
import type { BatchStreamState } from '../data/dataset.js';
import { saveModel } from '../io/save-model.js';
import { ProgressBar } from '../train/progress-bar.js';
import { trainLoop } from '../train/train-loop.js';
import { choiceFlag, helpText, integerFlag, parseFlags, requireString, UsageError, type Flags } from './args.js';
import { evaluateRun, type RunReport } from './evaluate.js';
import { METHODS, NOT_FROM_A_FOLDER, findMethod, type EncoderKind, type MethodSpec } from './methods.js';
import { writeReportHtml } from './report-html.js';
import type { CliIO } from './io.js';
import { dataWarningPrinter } from './io.js';

const COMMAND = 'pretrain';

export const PRETRAIN_FLAGS: Flags = {
  data: { type: 'string', value: 'DIR', help: 'folder of PNG/JPEG images (class subfolders give labels for the report)' },
  method: { type: 'string', value: 'NAME', help: 'method or pretext task (see the list below)' },
  out: { type: 'string', value: 'DIR', help: 'output folder: encoder/, checkpoint/, metrics.jsonl, report.json, report.html' },
  steps: { type: 'string', value: 'N', help: 'training steps', shown: '200' },
  batch: { type: 'string', value: 'B', help: 'images per step', shown: "the method's (64; 32 for four-view methods)" },
  size: { type: 'string', value: 'S', help: 'image side in pixels, a multiple of 8 (shorter side resized, centre crop)', shown: '64' },
  encoder: { type: 'string', value: 'conv|vit', help: 'encoder: conv (3 stride-2 convolutions, 128 features) or vit (tiny ViT)', shown: 'conv; vit for the ViT-only methods' },
  seed: { type: 'string', value: 'K', help: 'seed of the encoder, the method and the data order', shown: '0' },
  'checkpoint-every': { type: 'string', value: 'N', help: 'save a checkpoint every N steps (and at the end, and on Ctrl-C/SIGTERM)', shown: '50' },
  resume: { type: 'boolean', help: 'continue the run in --out from its latest checkpoint, exactly (its other settings come from OUT/run.json)' },
  backend: { type: 'string', value: 'wasm|cpu', help: 'tfjs backend', shown: 'wasm' },
  threads: { type: 'string', value: 'N', help: 'threads of the wasm backend', shown: 'every core' },
  'eval-images': { type: 'string', value: 'N', help: 'images (at most) embedded for report.json and the map', shown: '1000' },
};

/** The settings of a run, stored in OUT/run.json and in every checkpoint. */
export interface RunSettings {
  method: string;
  data: string;
  steps: number;
  batch: number;
  size: number;
  encoder: EncoderKind;
  seed: number;
  checkpointEvery: number;
  backend: 'wasm' | 'cpu';
  evalImages: number;
}

/**
 * Pixel-views per step (views × batch × side²) above which a training step
 * of the command's conv encoder is expected to exceed the 4 GiB a wasm32
 * backend can address: batch 256 at 64 px (2.1 M, two views) trains, batch
 * 256 at 96 px (4.7 M) fails inside tfjs's wasm backend
 * (bench/results/loader.json); the limit keeps a margin below the failure.
 */
export const WASM_PIXEL_VIEWS_LIMIT = 2_500_000;

export function pretrainHelp(): string {
  const width = Math.max(...METHODS.map((m) => m.name.length)) + 2;
  const families = (['joint-embedding', 'generative', 'discriminative'] as const).map((family) => {
    const rows = METHODS.filter((m) => m.family === family).map(
      (m) => `  ${m.name.padEnd(width)}${m.summary}${m.encoders.length === 1 ? ` [${m.encoders[0]} only]` : ''}`,
    );
    return `${family}:\n${rows.join('\n')}`;
  });
  const skipped = Object.entries(NOT_FROM_A_FOLDER).map(([n, why]) => `  ${n.padEnd(width)}not available: ${why}`);
  return helpText(
    'selfsup pretrain --data DIR --method NAME --out DIR [options]',
    'Pretrains an encoder on a folder of images (self-supervised: labels are not used for training).\n' +
      'Writes OUT/encoder/ (model.json + weights, loadable with tf.loadLayersModel), OUT/checkpoint/\n' +
      '(the latest complete checkpoint), OUT/metrics.jsonl (step, loss, images/s per step), and when\n' +
      'the folder has class subfolders OUT/report.json (kNN and linear-probe accuracy on a held-out\n' +
      'split, next to the same encoder at random init); OUT/report.html shows the loss curve, the\n' +
      'numbers and a 2-D map (PCA) of the embeddings drawn with the images.',
    PRETRAIN_FLAGS,
    `Methods:\n${families.join('\n')}\n${skipped.join('\n')}\n\nExample:\n  npx selfsup pretrain --data ./photos --method simclr --out ./run --steps 300\n  npx selfsup pretrain --data ./photos --method simclr --out ./run --steps 300 --resume   # after Ctrl-C or a crash`,
  );
}

/** The methods, one per line: `selfsup pretrain --list`-style output for errors. */
function methodNames(): string {
  return METHODS.map((m) => m.name).join(', ');
}

function readSettings(argv: readonly string[]): { settings: RunSettings; resume: boolean; help: boolean; given: Set<string> } | { help: true } {
  const parsed = parseFlags(COMMAND, argv, PRETRAIN_FLAGS);
  if (parsed.values.help) return { help: true };
  const given = new Set(Object.keys(parsed.values).filter((k) => parsed.values[k] !== undefined));
  const out = requireString(parsed, 'out', COMMAND, 'DIR (where the encoder, checkpoints and report go)');
  const resume = parsed.values.resume === true;
  // On --resume the settings come from OUT/run.json; flags given again must agree with them.
  let stored: RunSettings | null = null;
  const runFile = join(out, 'run.json');
  if (resume && existsSync(runFile)) stored = JSON.parse(readFileSync(runFile, 'utf8')) as RunSettings;
  if (resume && stored === null) throw new UsageError(`--resume: ${runFile} does not exist (no run to resume in ${out}; start one without --resume)`, COMMAND);
  const methodName = typeof parsed.values.method === 'string' ? parsed.values.method : stored?.method;
  if (methodName === undefined) throw new UsageError(`missing --method NAME (one of: ${methodNames()})`, COMMAND);
  const spec = findMethod(methodName);
  if (!spec) {
    const why = NOT_FROM_A_FOLDER[methodName.toLowerCase()];
    throw new UsageError(why ? `--method ${methodName}: ${why}` : `--method: unknown method '${methodName}' (one of: ${methodNames()})`, COMMAND);
  }
  const data = typeof parsed.values.data === 'string' ? parsed.values.data : stored?.data;
  if (data === undefined) throw new UsageError('missing --data DIR (a folder of PNG/JPEG images)', COMMAND);
  const settings: RunSettings = {
    method: spec.name,
    data,
    steps: integerFlag(parsed, 'steps', COMMAND, 1) ?? stored?.steps ?? 200,
    batch: integerFlag(parsed, 'batch', COMMAND, 2, 65536) ?? stored?.batch ?? spec.batch,
    size: integerFlag(parsed, 'size', COMMAND, 16, 1024) ?? stored?.size ?? 64,
    encoder: choiceFlag(parsed, 'encoder', COMMAND, ['conv', 'vit'] as const) ?? stored?.encoder ?? spec.encoders[0]!,
    seed: integerFlag(parsed, 'seed', COMMAND, 0, 2 ** 31 - 1) ?? stored?.seed ?? 0,
    checkpointEvery: integerFlag(parsed, 'checkpoint-every', COMMAND, 1) ?? stored?.checkpointEvery ?? 50,
    backend: choiceFlag(parsed, 'backend', COMMAND, ['wasm', 'cpu'] as const) ?? stored?.backend ?? 'wasm',
    evalImages: integerFlag(parsed, 'eval-images', COMMAND, 10) ?? stored?.evalImages ?? 1000,
  };
  if (stored !== null) {
    for (const key of ['method', 'steps', 'batch', 'size', 'encoder', 'seed'] as const) {
      if (settings[key] !== stored[key]) {
        throw new UsageError(
          `--resume: --${key} ${settings[key]} differs from the run in ${out} (${key} ${stored[key]}); a resumed run continues with its own settings (leave the flag out)`,
          COMMAND,
        );
      }
    }
  }
  checkSettings(settings, spec);
  return { settings, resume, help: false, given };
}

function checkSettings(s: RunSettings, spec: MethodSpec): void {
  if (s.size % 8 !== 0) throw new UsageError(`--size must be a multiple of 8 (the encoders reduce it 8×), got ${s.size}; try --size ${Math.max(16, Math.round(s.size / 8) * 8)}`, COMMAND);
  if (!spec.encoders.includes(s.encoder)) {
    const why = spec.encoders[0] === 'conv' ? 'needs a convolutional feature map' : 'reads the patch tokens of a ViT';
    throw new UsageError(`--encoder ${s.encoder}: ${spec.name} ${why}; use --encoder ${spec.encoders[0]}`, COMMAND);
  }
  const pixelViews = spec.views * s.batch * s.size * s.size;
  if (s.backend === 'wasm' && pixelViews > WASM_PIXEL_VIEWS_LIMIT) {
    const fits = Math.max(2, Math.floor(WASM_PIXEL_VIEWS_LIMIT / (spec.views * s.size * s.size)));
    throw new UsageError(
      `--batch ${s.batch} at --size ${s.size} (${spec.views} view${spec.views > 1 ? 's' : ''} per image) needs more memory than the wasm backend can address (4 GiB): ` +
        `use --batch ${fits} or less, or a smaller --size`,
      COMMAND,
    );
  }
}

/** Keeps the metrics lines of steps ≤ `step` (a resumed run rewrites the later ones, identically). */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (line.trim() === '') return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false; // a line cut short by a kill
      }
    });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''));
  renameSync(tmp, file);
}

interface CheckpointExtra {
  batches: BatchStreamState;
  settings: RunSettings;
}

/** Runs `selfsup pretrain`; returns the exit code. */
export async function pretrain(argv: readonly string[], io: CliIO): Promise<number> {
  const read = readSettings(argv);
  if (read.help) {
    io.stdout.write(pretrainHelp());
    return 0;
  }
  const { settings: s, resume } = read as { settings: RunSettings; resume: boolean };
  const threads = integerFlag(parseFlags(COMMAND, argv, PRETRAIN_FLAGS), 'threads', COMMAND, 1, 64);
  const spec = findMethod(s.method)!;
  const out = resolve(io.cwd, requireString(parseFlags(COMMAND, argv, PRETRAIN_FLAGS), 'out', COMMAND, 'DIR'));
  // Stored absolute in run.json, so that --resume works from any folder.
  const dataDir = resolve(io.cwd, s.data);
  s.data = dataDir;
  const checkpointDir = join(out, 'checkpoint');
  const metricsFile = join(out, 'metrics.jsonl');
  if (!resume && findCheckpoint(checkpointDir) !== null) {
    throw new UsageError(`${out} already holds a run (checkpoint/): add --resume to continue it, or choose another --out`, COMMAND);
  }
  const backend = await useBackend(s.backend, threads !== undefined && s.backend === 'wasm' ? { threads } : {});
  const dataset = await imageFolder(dataDir, { size: s.size, channels: 3, onWarning: dataWarningPrinter(io) });
  const cleanup: { dispose(): unknown }[] = [dataset];
  try {
    if (dataset.length < s.batch) {
      throw new UsageError(`--batch ${s.batch} is larger than the ${dataset.length} readable images in ${s.data}: use --batch ${Math.max(2, dataset.length)} or less`, COMMAND);
    }
    const imageShape: [number, number, number] = [s.size, s.size, 3];
    const built = spec.build({ imageShape, encoder: s.encoder, seed: s.seed, steps: s.steps });
    cleanup.push(built.task, ...built.owned);
    const stream = dataset.batches({ batchSize: s.batch, seed: s.seed, epochs: Infinity, dropLast: true });
    cleanup.push({ dispose: () => void stream.return() });
    mkdirSync(out, { recursive: true });
    let startStep = 0;
    if (resume && findCheckpoint(checkpointDir) !== null) {
      const manifest = readCheckpointManifest(checkpointDir);
      const extra = manifest.extra as CheckpointExtra | null;
      if (!extra?.batches) throw new UsageError(`--resume: the checkpoint in ${checkpointDir} was not written by selfsup pretrain`, COMMAND);
      const loaded = await loadCheckpoint(built.task, checkpointDir);
      stream.restore(extra.batches);
      startStep = loaded.step;
      io.stderr.write(`resuming ${spec.name} at step ${startStep} of ${s.steps} from ${checkpointDir}\n`);
    } else if (resume) {
      io.stderr.write(`no checkpoint in ${checkpointDir} yet: starting from step 0\n`);
    }
    truncateMetrics(metricsFile, startStep);
    writeFileSync(join(out, 'run.json'), `${JSON.stringify(s, null, 2)}\n`);
    if (startStep === 0) writeFileSync(metricsFile, '');
    io.stderr.write(
      `${spec.name} (${spec.className}) on ${dataset.length} images of ${s.data} at ${s.size}×${s.size}, ${s.encoder} encoder, batch ${s.batch}, ` +
        `${s.steps} steps, ${s.backend} backend${s.backend === 'wasm' ? ` (${backend.threads} thread${backend.threads === 1 ? '' : 's'})` : ''}\n`,
    );
    const bar = new ProgressBar({ steps: s.steps, label: spec.name, batchSize: s.batch, stream: io.stderr });
    const result = await trainLoop({
      steps: s.steps,
      startStep,
      batchSize: s.batch,
      batches: stream,
      collapse: false,
      step: (_, batch) => built.task.step(batch!.images),
      onProgress: (p) => {
        const line = { step: p.step + 1, loss: p.loss, imagesPerSecond: p.samplesPerSecond, elapsedSeconds: p.elapsedSeconds, tensors: p.numTensors };
        appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
        bar.update(p);
      },
      checkpoint: {
        every: s.checkpointEvery,
        onSignal: true,
        save: async () => {
          const extra: CheckpointExtra = { batches: stream.state(), settings: s };
          await saveCheckpoint(built.task, checkpointDir, { extra: extra as unknown as Record<string, unknown> });
        },
      },
    });
    bar.done();
    if (result.stopReason === 'signal') {
      const done = result.checkpoints.at(-1) ?? startStep;
      io.stderr.write(`stopped by ${result.signal} after step ${done}; checkpoint saved in ${checkpointDir}. Continue with the same command and --resume\n`);
      return result.signal === 'SIGINT' ? 130 : 143;
    }
    await saveModel(built.encoder, join(out, 'encoder'));
    writeFileSync(join(out, 'encoder', 'selfsup.json'), `${JSON.stringify({ method: spec.name, input: spec.input, imageShape: [s.size, s.size, spec.encoderChannels ?? 3], encoder: s.encoder }, null, 2)}\n`);
    io.stdout.write(`encoder saved to ${join(out, 'encoder')} (${result.stepsRun} steps run, ${result.stepsPerSecond.toFixed(2)} steps/s)\n`);
    let report: RunReport | null = null;
    const evaluation = await evaluateRun(dataset, built.encoder, spec, s, io);
    try {
      report = evaluation.report;
      if (report !== null) {
        writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
        const t = report.trained;
        const r = report.randomInit;
        io.stdout.write(
          `report.json: kNN ${pct(t.knnAccuracy)} (random init ${pct(r.knnAccuracy)}), linear probe ${pct(t.linearProbeAccuracy)} (random init ${pct(r.linearProbeAccuracy)}) on ${report.split.test} held-out images\n`,
        );
      }
      const metrics = readFileSync(metricsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; loss: number });
      writeReportHtml(join(out, 'report.html'), { settings: s, spec, metrics, report, map: evaluation.map });
      io.stdout.write(`report.html written to ${join(out, 'report.html')}\n`);
    } finally {
      evaluation.dispose();
    }
    return 0;
  } finally {
    for (const c of cleanup.reverse()) c.dispose();
  }
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)} %`;
}
