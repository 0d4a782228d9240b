/**
 * imageFolder and its decoders, against the files and Pillow decodings of
 * scripts/fixtures/images.py: every PNG and JPEG layout, the resampler against
 * Pillow's, the folder conventions of torchvision's ImageFolder, bad files,
 * and the streaming contract (seeded, prefetch-independent, restorable,
 * leak-free).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { InvalidArgumentError, MissingDataError, ValueRangeError } from '../../src/core/errors.js';
import type { Batch, BatchStream } from '../../src/data/dataset.js';
import type { DataWarning } from '../../src/data/image-dataset.js';
import { imageFolder } from '../../src/data/image-folder.js';
import { readImageHeader } from '../../src/data/image-header.js';
import { createImageKernel } from '../../src/data/image-kernel.js';
import { loadSharp } from '../../src/data/node-decoders.js';
import { loadFixture } from '../helpers/fixtures.js';

const FIXTURES = 'tests/fixtures/images';
const expected = loadFixture<{
  width: number;
  height: number;
  formats: Record<string, number[]>;
  resample: { source: number[][]; cases: { width: number; height: number; box: [number, number, number, number]; values: number[][] }[] };
}>('images');
const hasSharp = loadSharp('test') !== undefined;
const decoders = hasSharp ? (['sharp', 'js'] as const) : (['js'] as const);
const quiet = () => undefined;

/** Collects every batch of a stream (indices, labels, pixel sums), disposing the tensors. */
async function drain(stream: BatchStream, limit = Infinity): Promise<{ indices: number[][]; labels: (number[] | null)[]; sums: number[]; sizes: number[] }> {
  const out = { indices: [] as number[][], labels: [] as (number[] | null)[], sums: [] as number[], sizes: [] as number[] };
  let n = 0;
  while (n++ < limit) {
    const { done, value } = await stream.next();
    if (done) break;
    const b = value as Batch;
    out.indices.push(Array.from(b.indices));
    out.labels.push(b.labels ? Array.from(b.labels.dataSync()) : null);
    out.sums.push(tf.tidy(() => tf.sum(b.images).dataSync()[0]!));
    out.sizes.push(b.images.shape[0]);
    b.dispose();
  }
  return out;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('image kernel', () => {
  const kernel = createImageKernel();

  it("resamples as Pillow's antialiased bilinear filter (float, with crop boxes, down and up)", () => {
    const src = expected.resample.source;
    const h = src.length;
    const w = src[0]!.length;
    const flat = Float32Array.from(src.flat());
    for (const c of expected.resample.cases) {
      const out = kernel.resample(flat, w, h, 1, c.box, c.width, c.height);
      const want = c.values.flat();
      expect(out.length).toBe(want.length);
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(out[i]! - want[i]!));
      expect(err, `${c.width}×${c.height} from box ${c.box.join(',')}`).toBeLessThan(1e-5);
    }
  });

  it('resampling a constant image gives the constant; an identity box and size give the image back', () => {
    const ones = new Float32Array(7 * 5 * 3).fill(0.25);
    for (const v of kernel.resample(ones, 7, 5, 3, [0, 0, 7, 5], 3, 4)) expect(v).toBeCloseTo(0.25, 6);
    const ramp = Float32Array.from({ length: 6 * 4 }, (_, i) => i);
    expect(Array.from(kernel.resample(ramp, 6, 4, 1, [0, 0, 6, 4], 6, 4))).toEqual(Array.from(ramp));
  });

  it("crops the centre for 'cover' and keeps the whole image for 'fill'", () => {
    expect(kernel.cropBox(200, 100, 64, 64, 'cover')).toEqual([50, 0, 150, 100]);
    expect(kernel.cropBox(100, 200, 32, 64, 'cover')).toEqual([0, 0, 100, 200]);
    expect(kernel.cropBox(100, 300, 64, 64, 'cover')).toEqual([0, 100, 100, 200]);
    expect(kernel.cropBox(200, 100, 64, 64, 'fill')).toEqual([0, 0, 200, 100]);
  });

  it('converts to grayscale with ITU-R 601 luma and CMYK without colour management', () => {
    expect(Array.from(kernel.toOutput([255, 0, 0, 0, 255, 0, 0, 0, 255], 3, 3, false, 1))).toEqual([76, 150, 29]);
    expect(Array.from(kernel.toOutput([0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255], 3, 4, true, 3))).toEqual([255, 255, 255, 0, 255, 255, 0, 0, 0]);
    expect(Array.from(kernel.toOutput([10, 200, 30, 0], 1, 4, false, 3))).toEqual([10, 200, 30]);
  });

  it('sniffs formats and reads headers without decoding', () => {
    for (const [name, format] of [
      ['rgb.png', 'png'],
      ['progressive.jpg', 'jpeg'],
      ['cmyk.jpg', 'jpeg'],
      ['rgb.webp', 'webp'],
    ] as const) {
      const bytes = readFileSync(`${FIXTURES}/formats/${name}`);
      expect(kernel.sniff(bytes)).toBe(format);
      const header = readImageHeader(bytes, format);
      expect(header).toMatchObject({ format, width: expected.width, height: expected.height });
      if (name === 'cmyk.jpg') expect(header).toMatchObject({ components: 4 });
    }
    expect(kernel.sniff(readFileSync(`${FIXTURES}/classes/square/animation.gif`))).toBe('gif');
    expect(kernel.sniff(new TextEncoder().encode('hello'))).toBe(null);
    expect(readImageHeader(readFileSync(`${FIXTURES}/formats/rgb.jpg`).subarray(0, 20), 'jpeg')).toMatchObject({ needMore: true });
  });
});

describe.each(decoders)('imageFolder with the %s decoder', (decoder) => {
  it('decodes every PNG and JPEG layout as Pillow does (alpha dropped; 16-bit, palette, interlaced, progressive, CMYK)', async () => {
    const { width, height } = expected;
    const dataset = await imageFolder(`${FIXTURES}/formats`, { size: [height, width], fit: 'fill', decoder, onWarning: quiet, cacheMegabytes: 0 });
    const { images, indices } = await dataset.load();
    const values = images.dataSync();
    const per = width * height * 3;
    const seen: string[] = [];
    indices.forEach((index, row) => {
      const name = dataset.names[index]!;
      seen.push(name);
      const want = expected.formats[name]!;
      let max = 0;
      for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(Math.round(values[row * per + i]! * 255) - want[i]!));
      // PNG is lossless (16-bit: one level of rounding); JPEG decoders differ in their IDCT by a level or two.
      const tolerance = name.endsWith('.png') || name.endsWith('.webp') ? 1 : 3;
      expect(max, name).toBeLessThanOrEqual(tolerance);
    });
    const readable = Object.keys(expected.formats).filter((n) => decoder === 'sharp' || !n.endsWith('.webp'));
    expect(seen.sort()).toEqual(readable.sort());
    tf.dispose([images]);
    dataset.dispose();
  });

  it('grayscale output is the luma of the RGB output', async () => {
    const opts = { size: 8, decoder, onWarning: quiet } as const;
    const rgb = await imageFolder(`${FIXTURES}/unlabeled`, opts);
    const gray = await imageFolder(`${FIXTURES}/unlabeled`, { ...opts, channels: 1 });
    expect(gray.imageShape).toEqual([8, 8, 1]);
    const a = await rgb.load();
    const b = await gray.load();
    const luma = tf.tidy(() => tf.sum(tf.mul(a.images, tf.tensor1d([0.299, 0.587, 0.114])), -1, true));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(luma, b.images))).dataSync()[0]!);
    expect(diff).toBeLessThanOrEqual(1.01 / 255);
    tf.dispose([a.images, b.images, luma]);
    rgb.dispose();
    gray.dispose();
  });

  it("follows torchvision's ImageFolder: sorted class folders, nested files, files sorted per class; bad files skipped and named", async () => {
    const warnings: DataWarning[] = [];
    const dataset = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder, onWarning: (w) => warnings.push(w) });
    expect(dataset.decoder).toBe(decoder);
    expect(dataset.classNames).toEqual(['circle', 'square', 'triangle']);
    expect(dataset.names).toEqual([
      'circle/circle-0.png',
      'circle/circle-1.jpg',
      'circle/circle-2.png',
      'circle/nested/deep.png',
      'square/square-0.png',
      'square/square-1.jpg',
      'square/truncated.jpg',
      'triangle/corrupt.png',
      'triangle/triangle-0.png',
      'triangle/triangle-1.jpg',
    ]);
    expect(Array.from(dataset.labels!)).toEqual([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // Scan-time: empty, unsupported and unrecognised files (notes.txt and hidden files are not images: no warning).
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.kind).toBe('skipped-files');
    expect(warnings[0]!.message).toMatch(/skipped 3 of 13 files/);
    for (const name of ['zero-bytes.png', 'animation.gif', 'not-an-image.jpg']) expect(warnings[0]!.message).toContain(name);
    expect(dataset.skipped.map((s) => s.reason)).toEqual(['empty file', 'GIF files are not supported', 'not an image (unrecognised content)']);
    // Decode-time: the truncated JPEG and the PNG with a broken CRC, each reported once.
    const { indices } = await dataset.load();
    expect(indices.length).toBe(8);
    expect(dataset.skipped.map((s) => s.name).slice(3).sort()).toEqual(['square/truncated.jpg', 'triangle/corrupt.png']);
    expect(warnings.filter((w) => w.kind === 'decode-failed')).toHaveLength(2);
    await dataset.load();
    expect(warnings).toHaveLength(3);
    dataset.dispose();
  });

  it('bad images are replaced in training batches (batches keep their size) or skipped on request', async () => {
    const dataset = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder, onWarning: quiet });
    const replaced = await drain(dataset.batches({ batchSize: 5, seed: 3, epochs: 3 }));
    expect(replaced.sizes).toEqual([5, 5, 5, 5, 5, 5]);
    const bad = [6, 7];
    for (const batch of replaced.indices) for (const i of bad) expect(batch).not.toContain(i);
    const skipped = await drain(dataset.batches({ batchSize: 5, seed: 3, badImages: 'skip', shuffle: false }));
    expect(skipped.indices).toEqual([[0, 1, 2, 3, 4], [5, 8, 9]]);
    dataset.dispose();
  });

  it('is unlabeled without subfolders or with labels: false', async () => {
    const flat = await imageFolder(`${FIXTURES}/unlabeled`, { size: 4, decoder, onWarning: quiet });
    expect(flat.labels).toBe(null);
    expect(flat.classNames).toBe(null);
    expect(flat.length).toBe(5);
    const batch = (await flat.batches({ batchSize: 5 }).next()).value as Batch;
    expect(batch.labels).toBe(null);
    batch.dispose();
    const unlabeled = await imageFolder(`${FIXTURES}/classes`, { size: 4, decoder, labels: false, onWarning: quiet });
    expect(unlabeled.labels).toBe(null);
    expect(unlabeled.length).toBe(10);
    flat.dispose();
    unlabeled.dispose();
  });
});

describe('imageFolder', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a missing or empty folder is a MissingDataError; a file is an InvalidArgumentError', async () => {
    await expect(imageFolder(`${FIXTURES}/nope`)).rejects.toThrow(MissingDataError);
    await expect(imageFolder(`${FIXTURES}/nope`)).rejects.toThrow(/imageFolder: the folder .*nope does not exist/);
    await expect(imageFolder(`${FIXTURES}/empty`)).rejects.toThrow(/imageFolder: no readable PNG or JPEG image/);
    await expect(imageFolder(`${FIXTURES}/formats/rgb.png`)).rejects.toThrow(InvalidArgumentError);
    // A folder of nothing but bad files names them.
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-bad-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.png'), '');
    copyFileSync(`${FIXTURES}/classes/square/animation.gif`, join(dir, 'b.gif'));
    await expect(imageFolder(dir, { onWarning: quiet })).rejects.toThrow(/no readable .* \(2 files skipped: a\.png \(empty file\), b\.gif/);
  });

  it('checks its options before any work', async () => {
    await expect(imageFolder(42 as unknown as string)).rejects.toThrow(/imageFolder: path must be the path of a folder of images, got 42/);
    await expect(imageFolder(FIXTURES, { size: 0 })).rejects.toThrow(/imageFolder: options.size must be an integer in \[1, 8192\]/);
    await expect(imageFolder(FIXTURES, { size: [4] as unknown as number })).rejects.toThrow(/options.size must be an integer ≥ 1 or a \[height, width\] pair/);
    await expect(imageFolder(FIXTURES, { fit: 'contain' as 'cover' })).rejects.toThrow(/options.fit must be one of/);
    await expect(imageFolder(FIXTURES, { channels: 4 as 3 })).rejects.toThrow(/options.channels/);
    await expect(imageFolder(FIXTURES, { cacheMegabytes: -1 })).rejects.toThrow(ValueRangeError);
    await expect(imageFolder(FIXTURES, { decoder: 'pil' as 'js' })).rejects.toThrow(/options.decoder/);
    await expect(imageFolder(FIXTURES, { threads: 1.5 })).rejects.toThrow(/options.threads/);
    await expect(imageFolder(FIXTURES, { sizes: 4 } as object)).rejects.toThrow(/options.sizes must be one of the known options/);
  });

  it('root files next to class folders are skipped with a reason; a folder with a broken JPEG header is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-root-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'a'));
    copyFileSync(`${FIXTURES}/formats/rgb.png`, join(dir, 'a', 'x.png'));
    copyFileSync(`${FIXTURES}/formats/rgb.png`, join(dir, 'loose.png'));
    const jpeg = readFileSync(`${FIXTURES}/formats/rgb.jpg`);
    const broken = Buffer.from(jpeg);
    broken[4] = 0; // the first segment's length: the marker walk derails
    broken[5] = 1;
    writeFileSync(join(dir, 'a', 'broken.jpg'), broken);
    const warnings: DataWarning[] = [];
    const dataset = await imageFolder(dir, { size: 4, onWarning: (w) => warnings.push(w) });
    expect(dataset.names).toEqual(['a/x.png']);
    expect(dataset.skipped).toEqual([
      { name: 'a/broken.jpg', reason: 'corrupt JPEG (bad segment length)' },
      { name: 'loose.png', reason: 'not inside a class folder' },
    ]);
    dataset.dispose();
  });

  it('class folders without a readable image keep their index and are reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-classes-'));
    dirs.push(dir);
    for (const c of ['b', 'a', 'c']) mkdirSync(join(dir, c));
    copyFileSync(`${FIXTURES}/formats/rgb.png`, join(dir, 'a', 'x.png'));
    copyFileSync(`${FIXTURES}/formats/rgb.jpg`, join(dir, 'c', 'y.jpg'));
    writeFileSync(join(dir, 'b', 'empty.png'), '');
    const warnings: DataWarning[] = [];
    const dataset = await imageFolder(dir, { size: 4, onWarning: (w) => warnings.push(w) });
    expect(dataset.classNames).toEqual(['a', 'b', 'c']);
    expect(Array.from(dataset.labels!)).toEqual([0, 2]);
    expect(warnings.map((w) => w.kind)).toEqual(['skipped-files', 'empty-class']);
    expect(warnings[1]!.message).toMatch(/class folder 'b' .* holds no readable image/);
    dataset.dispose();
  });

  it.runIf(hasSharp)('sharp and the pure-JS decoders agree (resized, cropped)', async () => {
    const load = async (decoder: 'sharp' | 'js') => {
      const d = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder, onWarning: quiet });
      const { images } = await d.load();
      d.dispose();
      return images;
    };
    const [a, b] = [await load('sharp'), await load('js')];
    const meanDiff = tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    // These fixtures are tiny with hard edges (16×12 → 8×8); on 256-pixel photos the two agree within 1 level on average (docs/data.md).
    expect(meanDiff).toBeLessThan(8 / 255);
    tf.dispose([a, b]);
  });

  it('decodes identically on 0, 1 and 3 threads', async () => {
    const sums: number[][] = [];
    for (const threads of [0, 1, 3]) {
      const d = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder: 'js', threads, onWarning: quiet });
      const { images } = await d.load();
      sums.push(Array.from(images.dataSync()));
      images.dispose();
      d.dispose();
    }
    expect(sums[1]).toEqual(sums[0]);
    expect(sums[2]).toEqual(sums[0]);
  });
});

describe('image dataset streams', () => {
  it('the same seed gives the same batches whatever the prefetch depth, threads and cache', async () => {
    const runs = [];
    for (const [prefetch, threads, cacheMegabytes] of [
      [0, 0, 0],
      [1, 1, 256],
      [6, 3, 0],
    ] as const) {
      const d = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder: 'js', threads, cacheMegabytes, onWarning: quiet });
      runs.push(await drain(d.batches({ batchSize: 3, seed: 11, epochs: 3, prefetch })));
      d.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    // Every epoch is a new permutation; another seed gives another order.
    const d = await imageFolder(`${FIXTURES}/classes`, { size: 8, decoder: 'js', onWarning: quiet });
    const other = await drain(d.batches({ batchSize: 3, seed: 12, epochs: 3 }));
    expect(other.indices).not.toEqual(runs[0]!.indices);
    d.dispose();
  });

  it('state() and restore() continue exactly, through JSON, in a new stream and a new dataset', async () => {
    const open = () => imageFolder(`${FIXTURES}/unlabeled`, { size: 6, decoder: 'js', onWarning: quiet });
    const d1 = await open();
    const full = await drain(d1.batches({ batchSize: 2, seed: 5, epochs: 4, dropLast: true }));
    expect(full.indices).toHaveLength(8);
    const stream = d1.batches({ batchSize: 2, seed: 5, epochs: 4, dropLast: true });
    await drain(stream, 3);
    const saved = JSON.parse(JSON.stringify(stream.state()));
    expect(saved).toEqual({ kind: 'selfsup.batch-stream', version: 1, length: 5, batchSize: 2, shuffle: true, dropLast: true, seed: 5, epoch: 1, batch: 1 });
    d1.dispose();
    const d2 = await open();
    const resumed = d2.batches({ batchSize: 2, epochs: 4, dropLast: true }); // any seed: the state's is adopted
    resumed.restore(saved);
    const rest = await drain(resumed);
    expect(rest.indices).toEqual(full.indices.slice(3));
    expect(rest.sums).toEqual(full.sums.slice(3));
    expect(resumed.state()).toMatchObject({ epoch: 4, batch: 0 });
    // A state from another dataset or batch size is refused, naming the field.
    expect(() => resumed.restore({ ...saved, length: 6 })).toThrow(/restore: state.length must match this stream's length \(5\), got 6/);
    expect(() => resumed.restore({ ...saved, batchSize: 3 })).toThrow(/state.batchSize/);
    expect(() => resumed.restore({ kind: 'other' } as never)).toThrow(/state must be a state from BatchStream.state\(\)/);
    d2.dispose();
  });

  it('shuffle: false keeps the order; epochs, dropLast and batchesPerEpoch; return() stops the stream', async () => {
    const d = await imageFolder(`${FIXTURES}/unlabeled`, { size: 4, onWarning: quiet });
    const ordered = d.batches({ batchSize: 2, shuffle: false, epochs: 2 });
    expect(ordered.batchesPerEpoch).toBe(3);
    const run = await drain(ordered);
    expect(run.indices).toEqual([[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]]);
    const dropped = d.batches({ batchSize: 2, shuffle: false, dropLast: true });
    expect(dropped.batchesPerEpoch).toBe(2);
    expect((await drain(dropped)).indices).toEqual([[0, 1], [2, 3]]);
    const endless = d.batches({ batchSize: 4, epochs: Infinity, seed: 0 });
    let steps = 0;
    for await (const batch of endless) {
      batch.dispose();
      if (++steps === 7) break;
    }
    expect((await endless.next()).done).toBe(true);
    expect(() => d.batches({ batchSize: 6, dropLast: true })).toThrow(/batchSize must be ≤ the dataset's 5 images when dropLast is true/);
    expect(() => d.batches({ epochs: 0 })).toThrow(/options.epochs must be an integer ≥ 1 or Infinity/);
    expect(() => d.batches({ batchsize: 2 } as object)).toThrow(/options.batchsize must be one of the known options/);
    d.dispose();
    expect(() => d.batches()).toThrow(/must not be disposed/);
  });

  it('leaves no tensors behind; the cache is bounded', async () => {
    const d = await imageFolder(`${FIXTURES}/classes`, { size: 8, onWarning: quiet, cacheMegabytes: (3 * 8 * 8 * 3) / 1048576 });
    const before = tf.memory().numTensors;
    await drain(d.batches({ batchSize: 4, seed: 1, epochs: 2 }));
    expect(tf.memory().numTensors).toBe(before);
    expect(d.cachedImages).toBe(3);
    const all = await imageFolder(`${FIXTURES}/classes`, { size: 8, onWarning: quiet });
    await drain(all.batches({ batchSize: 4, seed: 1 }));
    expect(all.cachedImages).toBe(8);
    const none = await imageFolder(`${FIXTURES}/classes`, { size: 8, onWarning: quiet, cacheMegabytes: 0 });
    await drain(none.batches({ batchSize: 4, seed: 1 }));
    expect(none.cachedImages).toBe(0);
    for (const x of [d, all, none]) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('load() takes indices in any order and checks them', async () => {
    const d = await imageFolder(`${FIXTURES}/unlabeled`, { size: 4, onWarning: quiet });
    const { images, indices, labels } = await d.load([4, 0, 4]);
    expect(images.shape).toEqual([3, 4, 4, 3]);
    expect(Array.from(indices)).toEqual([4, 0, 4]);
    expect(labels).toBe(null);
    images.dispose();
    await expect(d.load([5])).rejects.toThrow(/imageFolder: load: indices\[0\] must be an integer in \[0, 4\], got 5/);
    d.dispose();
    await expect(d.load()).rejects.toThrow(/not be disposed/);
  });
});
