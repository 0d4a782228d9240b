/** `selfsup embed`: embeddings of a folder of images with a saved encoder, as .npy (or CSV/JSON) with names and labels. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../backend/use-backend.js';
import { embedDataset } from '../data/embed-dataset.js';
import { imageFolder } from '../data/image-folder.js';
import { saveEmbeddings } from '../io/embeddings.js';
import { loadModel } from '../io/save-model.js';
import { VisionTransformer } from '../heads/vit.js';
import { embedImages, type ImageEncoder } from '../tasks/pretext-task.js';
import { choiceFlag, helpText, integerFlag, parseFlags, requireString, UsageError, type Flags } from './args.js';
import { dataWarningPrinter, type CliIO } from './io.js';
import { encoderInput, type EncoderInput } from './methods.js';

const COMMAND = 'embed';

export const EMBED_FLAGS: Flags = {
  model: { type: 'string', value: 'DIR', help: 'a saved encoder (OUT/encoder of selfsup pretrain, or any saveModel folder)' },
  data: { type: 'string', value: 'DIR', help: 'folder of PNG/JPEG images (class subfolders give labels)' },
  out: { type: 'string', value: 'FILE', help: 'FILE.npy (+ FILE.meta.json with names and labels), FILE.csv or FILE.json' },
  batch: { type: 'string', value: 'B', help: 'images per forward pass', shown: '128' },
  backend: { type: 'string', value: 'wasm|cpu', help: 'tfjs backend', shown: 'wasm' },
  threads: { type: 'string', value: 'N', help: 'threads of the wasm backend', shown: 'every core' },
};

export function embedHelp(): string {
  return helpText(
    'selfsup embed --model DIR --data DIR --out FILE.npy [options]',
    'Embeds every readable image of a folder (in file order) with a saved encoder and writes the\n' +
      'embeddings [N, D] as float32 .npy (numpy.load reads it) with a sidecar FILE.meta.json holding\n' +
      'each row\'s file name and label, or as CSV or JSON (by the extension). Images are brought to the\n' +
      "encoder's input size as in training (shorter side resized, centre crop); unreadable files are\n" +
      'skipped with a warning.',
    EMBED_FLAGS,
    'Example:\n  npx selfsup embed --model ./run/encoder --data ./photos --out ./photos.npy',
  );
}

interface EncoderSidecar {
  input?: EncoderInput;
  imageShape?: [number, number, number];
}

/** The input shape `[H, W, C]` a saved encoder expects. */
function inputShapeOf(model: unknown, sidecar: EncoderSidecar): [number, number, number] | null {
  if (sidecar.imageShape) return sidecar.imageShape;
  if (model instanceof VisionTransformer) return [model.imageSize[0], model.imageSize[1], model.channels];
  const shape = (model as tfl.LayersModel).inputs?.[0]?.shape;
  if (shape && shape.length === 4 && shape.slice(1).every((d) => typeof d === 'number')) return shape.slice(1) as [number, number, number];
  return null;
}

/** Runs `selfsup embed`; returns the exit code. */
export async function embed(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseFlags(COMMAND, argv, EMBED_FLAGS);
  if (parsed.values.help) {
    io.stdout.write(embedHelp());
    return 0;
  }
  const modelDir = resolve(io.cwd, requireString(parsed, 'model', COMMAND, 'DIR (a saved encoder)'));
  const dataDir = resolve(io.cwd, requireString(parsed, 'data', COMMAND, 'DIR (a folder of images)'));
  const out = resolve(io.cwd, requireString(parsed, 'out', COMMAND, 'FILE.npy'));
  if (!/\.(npy|csv|json)$/i.test(out)) throw new UsageError(`--out must end in .npy, .csv or .json, got '${out}'`, COMMAND);
  const batch = integerFlag(parsed, 'batch', COMMAND, 1, 65536) ?? 128;
  const backend = choiceFlag(parsed, 'backend', COMMAND, ['wasm', 'cpu'] as const) ?? 'wasm';
  const threads = integerFlag(parsed, 'threads', COMMAND, 1, 64);
  if (!existsSync(join(modelDir, 'model.json'))) throw new UsageError(`--model: ${modelDir} holds no model.json (pass the encoder folder, e.g. OUT/encoder)`, COMMAND);
  await useBackend(backend, threads !== undefined && backend === 'wasm' ? { threads } : {});
  const sidecarFile = join(modelDir, 'selfsup.json');
  const sidecar = existsSync(sidecarFile) ? (JSON.parse(readFileSync(sidecarFile, 'utf8')) as EncoderSidecar) : {};
  const model = await loadModel(modelDir);
  try {
    const shape = inputShapeOf(model, sidecar);
    if (shape === null) throw new UsageError(`--model: cannot tell the input size of the model in ${modelDir}`, COMMAND);
    const input = sidecar.input ?? 'image';
    // An encoder of lightness (colorization, split-brain) reads L computed from RGB images.
    const channels = input === 'lab-lightness' ? 3 : shape[2] === 1 ? 1 : 3;
    const dataset = await imageFolder(dataDir, { size: [shape[0], shape[1]], channels, onWarning: dataWarningPrinter(io) });
    try {
      const result = await embedDataset(
        dataset,
        (x) => embedImages(model as unknown as ImageEncoder, encoderInput(input, x), { batchSize: batch }),
        { batchSize: batch },
      );
      try {
        const saved = await saveEmbeddings(out, result.embeddings, { names: result.names, labels: result.labels, classNames: result.classNames });
        io.stdout.write(`wrote ${saved.rows} × ${saved.dim} embeddings to ${saved.files.join(' and ')}\n`);
      } finally {
        result.embeddings.dispose();
      }
    } finally {
      dataset.dispose();
    }
  } finally {
    model.dispose();
  }
  return 0;
}
