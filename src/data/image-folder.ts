import { InvalidArgumentError, MissingDataError } from '../core/errors.js';
import { nodeBuiltin } from '../core/node.js';
import { assertInteger, assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { defaultWarningHandler, describeSkipped, ImageDataset, type DataWarning, type SkippedImage } from './image-dataset.js';
import { readImageHeader, type ImageHeader } from './image-header.js';
import { createImageKernel } from './image-kernel.js';
import { IMAGE_LOAD_OPTIONS, resolveImageOptions, type ImageLoadOptions } from './image-options.js';
import { jsDecoder, loadSharp, sharpDecoder, type NodeImageDecoder } from './node-decoders.js';

/** Options of {@link imageFolder}. */
export interface ImageFolderOptions extends ImageLoadOptions {
  /**
   * Label images by their first-level subfolder (torchvision's ImageFolder:
   * the sorted subfolder names are the classes, indices in that order). With
   * `false`, or when the folder has no subfolders, the dataset is unlabeled.
   * @default true
   */
  labels?: boolean;
  /**
   * `'sharp'` (libvips; the optional dependency sharp, fastest, also reads
   * WebP), `'js'` (jpeg-js and pngjs, pure JavaScript, PNG and JPEG), or
   * `'auto'`: sharp when it is installed and loads on this platform, else js.
   * @default 'auto'
   */
  decoder?: 'auto' | 'sharp' | 'js';
  /**
   * Decoding threads: worker threads for the js decoder (0 decodes on the main
   * thread), simultaneous jobs on libuv's pool for sharp.
   * @default js: the number of cores − 1 (at least 1); sharp: the number of cores (at least 2)
   */
  threads?: number;
}

/** File extensions that name images; anything else in the folder is ignored without a warning. */
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jpe', 'jfif', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'ppm', 'pgm', 'pbm', 'avif', 'heic', 'heif']);

/** Bytes read to find an image's header (a JPEG's frame header can follow large metadata). */
const HEAD_BYTES = 65536;

interface Candidate {
  /** Path relative to the root, with `/`. */
  name: string;
  path: string;
  label: number;
}

interface ScannedImage extends Candidate {
  header: ImageHeader;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A dataset of the PNG and JPEG images (and WebP with sharp) under a folder,
 * in Node: the folder is scanned recursively, labels come from the
 * first-level subfolders as in torchvision's `ImageFolder` (sorted names →
 * indices 0, 1, …; `classNames`), and each image is decoded on demand, brought
 * to `size` (`fit: 'cover'`: shorter side scaled, centre crop) and `channels`,
 * as NHWC float32 in [0, 1]. Batches stream seeded and shuffled, with decoding
 * running in the background on other threads while the main thread trains
 * (see {@link Dataset.batches}); decoded images are cached up to
 * `cacheMegabytes`.
 *
 * Bad files never stop a run: empty, unrecognised, unsupported (GIF, BMP,
 * TIFF, …) and broken-header files are skipped when the folder is scanned,
 * files that fail to decode later are skipped when met; each is named in a
 * warning (`onWarning`) and listed in `dataset.skipped`. PNGs of any bit depth
 * and colour type (palette, grayscale, alpha, 16-bit, interlaced) and
 * baseline, progressive, grayscale and CMYK JPEGs are read; alpha is dropped
 * and CMYK converted without colour management, as Pillow does. EXIF
 * orientation is not applied (as Pillow's `open`). Hidden files and folders
 * are ignored.
 *
 * Decoding uses sharp (libvips) when the optional dependency is installed,
 * else jpeg-js and pngjs on worker threads (see `decoder`); the two agree
 * within a few levels of 255. Call `dispose()` when done (it stops the
 * threads). Node only; in a browser use {@link imageFiles} or {@link imageUrls}.
 *
 * @throws MissingDataError when the folder does not exist or holds no readable image.
 *
 * @example
 * ```ts
 * import { imageFolder } from 'selfsup';
 *
 * const dataset = await imageFolder('tests/fixtures/images/classes', { size: 32, onWarning: () => {} });
 * console.log(dataset.length, dataset.classNames, dataset.imageShape); // 8 [ 'circle', 'square', 'triangle' ] [ 32, 32, 3 ]
 * console.log(dataset.skipped.map((s) => s.name)); // the zero-byte, text, GIF and broken files
 * for await (const batch of dataset.batches({ batchSize: 4, seed: 0 })) {
 *   console.log(batch.images.shape, Array.from(await batch.labels!.data()));
 *   batch.dispose();
 * }
 * dataset.dispose();
 * ```
 */
export async function imageFolder(path: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  const fn = 'imageFolder';
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError(fn, 'path', 'be the path of a folder of images', describeValue(path));
  }
  assertKnownOptions(options, [...IMAGE_LOAD_OPTIONS, 'labels', 'decoder', 'threads'], fn);
  const resolved = resolveImageOptions(options ?? {}, fn);
  const { labels: wantLabels = true, decoder: decoderChoice = 'auto' } = options ?? {};
  assertOneOf(wantLabels, [true, false], fn, 'options.labels');
  assertOneOf(decoderChoice, ['auto', 'sharp', 'js'] as const, fn, 'options.decoder');
  if (options?.threads !== undefined) assertInteger(options.threads, fn, 'options.threads', { min: 0, max: 256 });
  const hint = 'in a browser use imageFiles, imageUrls or imageElements';
  const fsp = nodeBuiltin('node:fs/promises', fn, hint);
  const pathModule = nodeBuiltin('node:path', fn, hint);
  const root = pathModule.resolve(path);

  const info = await fsp.stat(root).catch(() => null);
  if (info === null) throw new MissingDataError(`${fn}: the folder ${root} does not exist`);
  if (!info.isDirectory()) throw new InvalidArgumentError(fn, 'path', 'be a folder of images', `the file ${root}`);

  const cores = nodeBuiltin('node:os', fn).availableParallelism();
  const sharp = decoderChoice === 'js' ? undefined : loadSharp(fn);
  if (decoderChoice === 'sharp' && sharp === undefined) {
    throw new MissingDataError(`${fn}: options.decoder is 'sharp' but sharp is not installed or does not load here (npm install sharp)`);
  }
  const reads = (format: ImageHeader['format']) => format === 'png' || format === 'jpeg' || (format === 'webp' && sharp !== undefined);

  const { candidates, classNames, skipped } = await listImages(root, wantLabels, fn);
  const scanned = await checkFiles(candidates, reads, skipped, fn);
  const onWarning = resolved.onWarning ?? defaultWarningHandler;
  if (skipped.length > 0) {
    skipped.sort((a, b) => compare(a.name, b.name));
    onWarning({
      source: fn,
      kind: 'skipped-files',
      message: `${fn}: skipped ${skipped.length} of ${skipped.length + scanned.length} files in ${root}: ${describeSkipped(skipped)}`,
      files: [...skipped],
    });
  }
  if (scanned.length === 0) {
    throw new MissingDataError(
      `${fn}: no readable PNG or JPEG image${sharp ? ' (or WebP)' : ''} in ${root}` +
        (skipped.length > 0 ? ` (${skipped.length} files skipped: ${describeSkipped(skipped, 5)})` : ''),
    );
  }
  if (classNames !== null) {
    const counts = new Array<number>(classNames.length).fill(0);
    for (const s of scanned) counts[s.label]! += 1;
    const empty = classNames.filter((_, i) => counts[i] === 0);
    if (empty.length > 0) {
      const warning: DataWarning = {
        source: fn,
        kind: 'empty-class',
        message: `${fn}: class folder${empty.length > 1 ? 's' : ''} ${empty.map((c) => `'${c}'`).join(', ')} in ${root} hold${empty.length > 1 ? '' : 's'} no readable image (the class keeps its index)`,
        files: empty.map((c) => ({ name: c, reason: 'no readable image' })),
      };
      onWarning(warning);
    }
  }

  const decoder: NodeImageDecoder = sharp
    ? sharpDecoder(sharp, Math.max(1, options?.threads ?? Math.max(2, cores)))
    : jsDecoder(options?.threads ?? Math.max(1, cores - 1), fn);
  const spec = resolved.spec;
  return new ImageDataset({
    fn,
    names: scanned.map((s) => s.name),
    labels: classNames === null ? null : Int32Array.from(scanned, (s) => s.label),
    classNames,
    imageShape: [spec.height, spec.width, spec.channels],
    load: (index) => decoder.decode(scanned[index]!.path, scanned[index]!.header, spec),
    cacheBytes: resolved.cacheBytes,
    onWarning,
    skipped,
    decoder: decoder.name,
    close: () => decoder.close(),
  });
}

/** Walks the folder: image files by class (torchvision's order: sorted folders, then sorted names), other files ignored. */
async function listImages(
  root: string,
  wantLabels: boolean,
  fn: string,
): Promise<{ candidates: Candidate[]; classNames: string[] | null; skipped: SkippedImage[] }> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  const { join, extname } = nodeBuiltin('node:path', fn);
  const skipped: SkippedImage[] = [];
  const visited = new Set<string>();

  /** Files under `dir` as [relative folder, file name] pairs; symlinked folders followed once. */
  async function walk(dir: string, relative: string, out: [string, string, string][]): Promise<void> {
    const real = await fsp.realpath(dir).catch(() => dir);
    if (visited.has(real)) return;
    visited.add(real);
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fsp.stat(full).catch(() => null);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await walk(full, rel, out);
      else if (isFile && IMAGE_EXTENSIONS.has(extname(entry.name).slice(1).toLowerCase())) out.push([relative, entry.name, full]);
    }
  }

  const top = await fsp.readdir(root, { withFileTypes: true });
  const folders: string[] = [];
  for (const entry of top) {
    if (entry.name.startsWith('.')) continue;
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await fsp.stat(join(root, entry.name)).catch(() => null))?.isDirectory() === true);
    if (isDir) folders.push(entry.name);
  }
  const labeled = wantLabels && folders.length > 0;
  const files: [string, string, string][] = [];
  await walk(root, '', files);
  files.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  if (!labeled) {
    return { candidates: files.map(([dir, name, path]) => ({ name: dir ? `${dir}/${name}` : name, path, label: -1 })), classNames: null, skipped };
  }
  const classNames = [...folders].sort(compare);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const candidates: Candidate[] = [];
  for (const [dir, name, path] of files) {
    const rel = dir ? `${dir}/${name}` : name;
    const label = index.get(dir.split('/')[0]!);
    if (dir === '' || label === undefined) skipped.push({ name: rel, reason: 'not inside a class folder' });
    else candidates.push({ name: rel, path, label });
  }
  // Class order first, then the walk's order within each class (torchvision's).
  candidates.sort((a, b) => a.label - b.label);
  return { candidates, classNames, skipped };
}

/** Reads each file's first bytes: empty, unrecognised, unsupported and broken-header files are skipped. */
async function checkFiles(
  candidates: Candidate[],
  reads: (format: ImageHeader['format']) => boolean,
  skipped: SkippedImage[],
  fn: string,
): Promise<ScannedImage[]> {
  const fsp = nodeBuiltin('node:fs/promises', fn);
  const kernel = createImageKernel();
  const results = new Array<ScannedImage | null>(candidates.length).fill(null);
  let next = 0;
  const check = async (c: Candidate): Promise<ScannedImage | string> => {
    let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
    try {
      handle = await fsp.open(c.path, 'r');
      const { size } = await handle.stat();
      if (size === 0) return 'empty file';
      const head = new Uint8Array(Math.min(size, HEAD_BYTES));
      await handle.read(head, 0, head.length, 0);
      const format = kernel.sniff(head);
      if (format === null) return 'not an image (unrecognised content)';
      if (!reads(format)) {
        return format === 'webp' ? 'WebP is read only with the optional dependency sharp' : `${format.toUpperCase()} files are not supported`;
      }
      let header = readImageHeader(head, format);
      if ('problem' in header && header.needMore && size > head.length) {
        const whole = new Uint8Array(size);
        await handle.read(whole, 0, size, 0);
        header = readImageHeader(whole, format);
      }
      if ('problem' in header) return header.problem;
      return { ...c, header };
    } catch (e) {
      return `unreadable (${e instanceof Error ? e.message : String(e)})`;
    } finally {
      await handle?.close();
    }
  };
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const c = candidates[i]!;
      const result = await check(c);
      if (typeof result === 'string') skipped.push({ name: c.name, reason: result });
      else results[i] = result;
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, candidates.length) }, worker));
  return results.filter((r): r is ScannedImage => r !== null);
}
