import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { nodeBuiltin, writeFileAtomic } from '../core/node.js';
import { assertFloat, assertInteger, assertKnownOptions, assertOneOf, assertRank, describeValue, isTensor } from '../core/validate.js';
import { encodeNpy } from './npy.js';

/** Options of {@link saveEmbeddings}. */
export interface SaveEmbeddingsOptions {
  /**
   * File format: NumPy `.npy` (with a `.meta.json` sidecar holding the names
   * and labels), CSV (one row per embedding, names and labels in the first
   * columns) or JSON (everything in one object).
   * @default from the file extension (.npy, .csv, .json)
   */
  format?: 'npy' | 'csv' | 'json';
  /**
   * A name per row, e.g. the image files (`dataset.names[i]` for the indices embedded).
   * @default undefined
   */
  names?: readonly string[] | null;
  /**
   * An int32 class index per row (`null`: none, as for an unlabeled dataset).
   * @default undefined
   */
  labels?: ArrayLike<number> | tf.Tensor1D | null;
  /**
   * Class names, indexed by label (written next to the labels).
   * @default undefined
   */
  classNames?: readonly string[] | null;
}

/** What {@link saveEmbeddings} wrote. */
export interface SavedEmbeddings {
  /** The files written (the embeddings first, then the `.npy` sidecar). */
  files: string[];
  /** Rows N. */
  rows: number;
  /** Columns D. */
  dim: number;
}

/** RFC 4180 quoting for one CSV field. */
function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes embeddings `[N, D]` for other tools, in Node, atomically: `.npy`
 * (`numpy.load` reads it; float32, C order) with a sidecar `<name>.meta.json`
 * holding `rows`, `dim`, `names`, `labels` and `classNames`; CSV (a header
 * `name,label,className,e0,…,e{D−1}` with only the columns given, values with
 * float32's 9 significant digits); or JSON (`{ shape, names, labels,
 * classNames, embeddings }`). Use {@link encodeNpy} in a browser.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mkdtempSync, readFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { saveEmbeddings } from 'selfsup';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'embeddings-'));
 * const embeddings = tf.tensor2d([[0.5, -1], [2, 0.25]]);
 * const saved = await saveEmbeddings(join(dir, 'features.npy'), embeddings, { names: ['a.png', 'b.png'], labels: [0, 1], classNames: ['cat', 'dog'] });
 * console.log(saved.files.map((f) => f.slice(dir.length + 1))); // [ 'features.npy', 'features.meta.json' ]
 * await saveEmbeddings(join(dir, 'features.csv'), embeddings, { names: ['a.png', 'b.png'] });
 * console.log(readFileSync(join(dir, 'features.csv'), 'utf8')); // name,e0,e1 / a.png,0.5,-1 / b.png,2,0.25
 * ```
 */
export async function saveEmbeddings(path: string, embeddings: tf.Tensor2D, options: SaveEmbeddingsOptions = {}): Promise<SavedEmbeddings> {
  const fn = 'saveEmbeddings';
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError(fn, 'path', 'be a file path', describeValue(path));
  assertRank(embeddings, 2, fn, 'embeddings', '[N, D]');
  assertFloat(embeddings, fn, 'embeddings');
  assertKnownOptions(options, ['format', 'names', 'labels', 'classNames'], fn);
  const [rows, dim] = embeddings.shape;
  const extension = /\.(npy|csv|json)$/i.exec(path)?.[1]?.toLowerCase() as 'npy' | 'csv' | 'json' | undefined;
  const format = options.format ?? extension;
  if (format === undefined) {
    throw new InvalidArgumentError(fn, 'options.format', "be given ('npy', 'csv' or 'json') when the path has none of those extensions", JSON.stringify(path));
  }
  assertOneOf(format, ['npy', 'csv', 'json'] as const, fn, 'options.format');
  const names = options.names ?? undefined;
  const classNames = options.classNames ?? undefined;
  if (names !== undefined && (!Array.isArray(names) || names.length !== rows || names.some((n) => typeof n !== 'string'))) {
    throw new InvalidArgumentError(fn, 'options.names', `be an array of ${rows} strings (one per row)`, describeValue(names));
  }
  let labels: number[] | undefined;
  if (options.labels !== undefined && options.labels !== null) {
    const raw = isTensor(options.labels) ? Array.from(options.labels.dataSync()) : options.labels;
    if (typeof raw !== 'object' || raw === null || raw.length !== rows) {
      throw new ShapeError(fn, 'options.labels', `hold ${rows} labels (one per row)`, describeValue(options.labels));
    }
    labels = Array.from(raw, (v, i) => {
      assertInteger(v, fn, `options.labels[${i}]`, { min: 0 });
      return v;
    });
  }
  if (classNames !== undefined && (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string'))) {
    throw new InvalidArgumentError(fn, 'options.classNames', 'be an array of strings', describeValue(classNames));
  }
  const fsp = nodeBuiltin('node:fs/promises', fn, 'in a browser use encodeNpy and offer the bytes as a download');
  const { dirname, resolve } = nodeBuiltin('node:path', fn);
  const target = resolve(path);
  await fsp.mkdir(dirname(target), { recursive: true });
  const values = embeddings.dataSync() as Float32Array;
  const meta = { rows, dim, ...(names ? { names: [...names] } : {}), ...(labels ? { labels } : {}), ...(classNames ? { classNames: [...classNames] } : {}) };

  if (format === 'npy') {
    const sidecar = target.replace(/\.npy$/i, '') + '.meta.json';
    await writeFileAtomic(target, encodeNpy(values, [rows, dim]), fn);
    await writeFileAtomic(sidecar, `${JSON.stringify({ file: target.slice(dirname(target).length + 1), dtype: 'float32', ...meta }, null, 1)}\n`, fn);
    return { files: [target, sidecar], rows, dim };
  }
  const row = (r: number) => Array.from(values.subarray(r * dim, (r + 1) * dim), (v) => Number(v.toPrecision(9)));
  if (format === 'json') {
    const body = { shape: [rows, dim], ...meta, embeddings: Array.from({ length: rows }, (_, r) => row(r)) };
    await writeFileAtomic(target, `${JSON.stringify(body)}\n`, fn);
    return { files: [target], rows, dim };
  }
  const header = [...(names ? ['name'] : []), ...(labels ? ['label'] : []), ...(labels && classNames ? ['className'] : []), ...Array.from({ length: dim }, (_, j) => `e${j}`)];
  const lines = [header.join(',')];
  for (let r = 0; r < rows; r++) {
    const fields = [
      ...(names ? [csvField(names[r]!)] : []),
      ...(labels ? [String(labels[r])] : []),
      ...(labels && classNames ? [csvField(classNames[labels[r]!] ?? '')] : []),
      ...row(r).map(String),
    ];
    lines.push(fields.join(','));
  }
  await writeFileAtomic(target, `${lines.join('\n')}\n`, fn);
  return { files: [target], rows, dim };
}
