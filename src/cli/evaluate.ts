/**
 * The report of a pretraining run: kNN and linear-probe accuracy of the
 * trained encoder on a seeded held-out split of the labelled images, next to
 * the same architecture at its random initialisation (same seed), and a 2-D
 * PCA map of the embeddings with thumbnails.
 */
import * as tf from '@tensorflow/tfjs-core';
import { symmetricEigen } from '../core/linalg.js';
import { selfsupRequire } from '../core/node.js';
import { createRng } from '../core/rng.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { knnClassifier } from '../eval/knn-classifier.js';
import { linearProbe } from '../eval/linear-probe.js';
import { embedImages, type ImageEncoder } from '../tasks/pretext-task.js';
import type { CliIO } from './io.js';
import { encoderInput, makeEncoder, type MethodSpec, type SavedEncoder } from './methods.js';
import type { RunSettings } from './pretrain.js';

/** Accuracies of one encoder. */
export interface ProbeScores {
  knnAccuracy: number;
  linearProbeAccuracy: number;
}

/** OUT/report.json. */
export interface RunReport {
  method: string;
  className: string;
  encoder: string;
  steps: number;
  seed: number;
  classNames: string[];
  /** Images embedded: those the probes train on and those they are tested on (held out, seeded). */
  split: { train: number; test: number; seed: number };
  knn: { k: number; temperature: number };
  linearProbe: { epochs: number; seed: number };
  trained: ProbeScores;
  randomInit: ProbeScores;
}

/** One point of the embedding map. */
export interface MapPoint {
  x: number;
  y: number;
  label: number | null;
  name: string;
  /** A PNG thumbnail as a data: URL. */
  thumbnail: string;
  heldOut: boolean;
}

export interface EmbeddingMap {
  points: MapPoint[];
  classNames: string[] | null;
  /** Fraction of the variance along the two axes. */
  explained: [number, number];
}

/** What the report uses of pngjs (a dependency of selfsup; it ships no types). */
interface PngModule {
  PNG: {
    new (options: { width: number; height: number }): { data: Uint8Array };
    sync: { write(png: { data: Uint8Array }): { toString(encoding: 'base64'): string } };
  };
}

const THUMBNAILS = 300;
const THUMB_SIDE = 32;

/** Embeds `images` with `encoder` as the method feeds it (lightness for colorization). */
function embed(encoder: SavedEncoder, spec: MethodSpec, images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => embedImages(encoder as ImageEncoder, encoderInput(spec.input, images), { batchSize: 128 }));
}

/** The two leading principal components of `x` `[N, D]` (float64 covariance, exact eigendecomposition). */
export function pca2(x: Float32Array, n: number, d: number): { coords: Float64Array; explained: [number, number] } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b]!;
  const { values, vectors } = symmetricEigen(cov, d, true);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0) || 1;
  const coords = new Float64Array(n * 2);
  for (let c = 0; c < 2 && c < d; c++) {
    const k = d - 1 - c; // eigenvalues ascend
    // A fixed sign (largest component positive) so that reruns draw the same map.
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(vectors![j * d + k]!) > Math.abs(big)) big = vectors![j * d + k]!;
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j]! - mean[j]!) * vectors![j * d + k]!;
      coords[i * 2 + c] = sign * s;
    }
  }
  return { coords, explained: [Math.max(values[d - 1] ?? 0, 0) / total, Math.max(values[d - 2] ?? 0, 0) / total] };
}

/** PNG data URLs of `[N, h, w, 3]` images in [0, 1], made with pngjs. */
async function thumbnails(images: tf.Tensor4D): Promise<string[]> {
  const small = tf.tidy(() => tf.clipByValue(tf.image.resizeBilinear(images, [THUMB_SIDE, THUMB_SIDE], true), 0, 1));
  const data = await small.data();
  small.dispose();
  const { PNG } = selfsupRequire('selfsup pretrain')('pngjs') as PngModule;
  const out: string[] = [];
  const per = THUMB_SIDE * THUMB_SIDE * 3;
  for (let i = 0; i < images.shape[0]; i++) {
    const png = new PNG({ width: THUMB_SIDE, height: THUMB_SIDE });
    for (let p = 0; p < THUMB_SIDE * THUMB_SIDE; p++) {
      for (let c = 0; c < 3; c++) png.data[p * 4 + c] = Math.round(data[i * per + p * 3 + c]! * 255);
      png.data[p * 4 + 3] = 255;
    }
    out.push(`data:image/png;base64,${PNG.sync.write(png).toString('base64')}`);
  }
  return out;
}

/** A seeded permutation of 0…n−1. */
function permutation(n: number, seed: number): number[] {
  const rng = createRng(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * Embeds up to `settings.evalImages` images (a seeded subset), splits them
 * (75 % / 25 %, seeded) and scores the trained encoder and a freshly built one
 * with the run's seed (the random init the training started from); returns
 * the report (null for an unlabeled folder or a single class) and the map.
 */
export async function evaluateRun(
  dataset: ImageDataset,
  encoder: SavedEncoder,
  spec: MethodSpec,
  s: RunSettings,
  io: CliIO,
): Promise<{ report: RunReport | null; map: EmbeddingMap; dispose(): void }> {
  const chosen = permutation(dataset.length, s.seed + 7).slice(0, Math.min(dataset.length, s.evalImages)).sort((a, b) => a - b);
  const loaded = await dataset.load(chosen);
  const held: tf.Tensor[] = [loaded.images];
  if (loaded.labels) held.push(loaded.labels);
  try {
    const n = loaded.images.shape[0];
    const order = permutation(n, s.seed + 11);
    const testCount = Math.max(1, Math.round(n * 0.25));
    const testRows = order.slice(0, testCount).sort((a, b) => a - b);
    const trainRows = order.slice(testCount).sort((a, b) => a - b);
    const trained = embed(encoder, spec, loaded.images);
    held.push(trained);
    let report: RunReport | null = null;
    const classNames = dataset.classNames ? [...dataset.classNames] : null;
    const labels = loaded.labels ? Array.from(await loaded.labels.data()) : null;
    if (labels !== null && classNames !== null && classNames.length >= 2 && trainRows.length >= 2) {
      io.stderr.write(`evaluating on ${trainRows.length} + ${testRows.length} held-out images (kNN, linear probe; trained and random init)\n`);
      const channels = spec.encoderChannels ?? 3;
      const random = makeEncoder(s.encoder, [s.size, s.size, channels], s.seed);
      let randomFeatures: tf.Tensor2D;
      try {
        randomFeatures = embed(random, spec, loaded.images);
      } finally {
        random.dispose();
      }
      held.push(randomFeatures);
      const k = Math.min(20, trainRows.length);
      const probeEpochs = 100;
      const score = async (features: tf.Tensor2D): Promise<ProbeScores> => {
        const [xTrain, xTest, yTrain, yTest] = tf.tidy(() => [
          tf.gather(features, trainRows) as tf.Tensor2D,
          tf.gather(features, testRows) as tf.Tensor2D,
          tf.tensor1d(trainRows.map((r) => labels[r]!), 'int32'),
          tf.tensor1d(testRows.map((r) => labels[r]!), 'int32'),
        ]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        try {
          const knn = await knnClassifier(xTrain, yTrain, xTest, yTest, { k, temperature: 0.07, numClasses: classNames.length });
          const probe = await linearProbe(xTrain, yTrain, xTest, yTest, { epochs: probeEpochs, seed: s.seed, numClasses: classNames.length });
          tf.dispose([probe.weights, probe.bias]);
          return { knnAccuracy: knn.accuracy!, linearProbeAccuracy: probe.accuracy };
        } finally {
          tf.dispose([xTrain, xTest, yTrain, yTest]);
        }
      };
      report = {
        method: spec.name,
        className: spec.className,
        encoder: s.encoder,
        steps: s.steps,
        seed: s.seed,
        classNames,
        split: { train: trainRows.length, test: testRows.length, seed: s.seed },
        knn: { k, temperature: 0.07 },
        linearProbe: { epochs: probeEpochs, seed: s.seed },
        trained: await score(trained),
        randomInit: await score(randomFeatures),
      };
    }
    // The map: PCA of the trained embeddings, a thumbnail for up to THUMBNAILS images.
    const [rows, dim] = trained.shape;
    const { coords, explained } = pca2((await trained.data()) as Float32Array, rows, dim);
    const shown = permutation(rows, s.seed + 13).slice(0, Math.min(rows, THUMBNAILS)).sort((a, b) => a - b);
    const thumbs = tf.tidy(() => tf.gather(loaded.images, shown) as tf.Tensor4D);
    let urls: string[];
    try {
      urls = await thumbnails(thumbs);
    } finally {
      thumbs.dispose();
    }
    const testSet = new Set(testRows);
    const points: MapPoint[] = shown.map((r, i) => ({
      x: coords[r * 2]!,
      y: coords[r * 2 + 1]!,
      label: labels ? labels[r]! : null,
      name: dataset.names[loaded.indices[r]!]!,
      thumbnail: urls[i]!,
      heldOut: testSet.has(r),
    }));
    return { report, map: { points, classNames, explained }, dispose: () => tf.dispose(held) };
  } catch (e) {
    tf.dispose(held);
    throw e;
  }
}
