/**
 * Datasets of images in a browser, decoded by the browser itself
 * (`createImageBitmap`, a 2-D canvas): from a `FileList` (a folder picked with
 * `<input type=file webkitdirectory>`), from image URLs, and from images
 * already on the page.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, MissingDataError } from '../core/errors.js';
import { assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { defaultWarningHandler, describeSkipped, ImageDataset, type SkippedImage } from './image-dataset.js';
import { readImageHeader } from './image-header.js';
import { createImageKernel, type OutputSpec } from './image-kernel.js';
import { IMAGE_LOAD_OPTIONS, resolveImageOptions, type ImageLoadOptions } from './image-options.js';
import { resolveLabels } from './label-options.js';

/** An image the browser has already decoded. */
export type BrowserImage = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageData;

/** Options of {@link imageFiles}. */
export interface ImageFilesOptions extends ImageLoadOptions {
  /**
   * Label images by the first folder below the picked folder (from each
   * file's `webkitRelativePath`, as `imageFolder` does with subfolders). With
   * `false`, or when the files carry no folders, the dataset is unlabeled.
   * @default true
   */
  labels?: boolean;
}

/** Options of {@link imageUrls} and {@link imageElements}. */
export interface LabeledImageOptions extends ImageLoadOptions {
  /**
   * int32 class index of each image.
   * @default undefined (unlabeled)
   */
  labels?: ArrayLike<number> | tf.Tensor1D;
  /**
   * Class names, indexed by label.
   * @default the label numbers as strings
   */
  classNames?: readonly string[];
  /**
   * A name for each image.
   * @default the URL (imageUrls), `'#i'` (imageElements)
   */
  names?: readonly string[];
}

/** Extensions of the files {@link imageFiles} looks at; others are ignored. */
const FILE_EXTENSIONS = /\.(png|jpe?g|jpe|jfif|webp|gif|bmp|avif)$/i;

function assertBrowser(fn: string): void {
  if (typeof createImageBitmap !== 'function') {
    throw new MissingDataError(`${fn}: decoding images needs a browser (createImageBitmap); in Node use imageFolder`);
  }
}

function canvas2d(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (context === null) throw new Error('no 2-D canvas context');
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  return context;
}

let kernelInstance: ReturnType<typeof createImageKernel> | undefined;
const kernel = () => (kernelInstance ??= createImageKernel());

/** Draws `source` (w × h) into the output box and reads its pixels back. */
function drawToPixels(source: CanvasImageSource, w: number, h: number, spec: OutputSpec): Uint8Array {
  const [x0, y0, x1, y1] = kernel().cropBox(w, h, spec.width, spec.height, spec.fit);
  const context = canvas2d(spec.width, spec.height);
  context.drawImage(source, x0, y0, x1 - x0, y1 - y0, 0, 0, spec.width, spec.height);
  const { data } = context.getImageData(0, 0, spec.width, spec.height);
  return kernel().toOutput(data, spec.width * spec.height, 4, false, spec.channels);
}

async function decodeBlob(blob: Blob, spec: OutputSpec): Promise<Uint8Array> {
  if (blob.size === 0) throw new Error('empty file');
  const bitmap = await createImageBitmap(blob);
  try {
    return drawToPixels(bitmap, bitmap.width, bitmap.height, spec);
  } finally {
    bitmap.close();
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A dataset of image files in a browser: a `FileList` from
 * `<input type="file" multiple webkitdirectory>` (a whole folder) or from a
 * drop, or an array of `File`s. Labels come from the first folder level below
 * the picked folder, as {@link imageFolder} does; images are decoded by the
 * browser (`createImageBitmap`), drawn at `size` (`fit`, `channels`) and
 * streamed by the same {@link Dataset} interface. Empty, unrecognised and
 * broken-header files are skipped with a warning, like `imageFolder`; the
 * browser decodes PNG, JPEG, WebP, GIF, BMP and AVIF.
 *
 * @example
 * ```ts
 * import { imageFiles } from 'selfsup';
 *
 * // In a page: <input id="folder" type="file" webkitdirectory multiple>
 * const input = globalThis.document?.querySelector<HTMLInputElement>('#folder');
 * input?.addEventListener('change', async () => {
 *   const dataset = await imageFiles(input.files!, { size: 64 });
 *   console.log(dataset.length, dataset.classNames);
 *   for await (const batch of dataset.batches({ batchSize: 32, seed: 0 })) batch.dispose();
 * });
 * ```
 */
export async function imageFiles(files: FileList | readonly File[], options: ImageFilesOptions = {}): Promise<ImageDataset> {
  const fn = 'imageFiles';
  if (typeof files !== 'object' || files === null || typeof (files as ArrayLike<File>).length !== 'number') {
    throw new InvalidArgumentError(fn, 'files', 'be a FileList or an array of Files', describeValue(files));
  }
  assertKnownOptions(options, [...IMAGE_LOAD_OPTIONS, 'labels'], fn);
  const resolved = resolveImageOptions(options ?? {}, fn);
  const wantLabels = options?.labels ?? true;
  assertOneOf(wantLabels, [true, false], fn, 'options.labels');
  assertBrowser(fn);
  const list = Array.from(files as ArrayLike<File>);
  list.forEach((f, i) => {
    if (typeof Blob !== 'function' || !(f instanceof Blob)) throw new InvalidArgumentError(fn, `files[${i}]`, 'be a File', describeValue(f));
  });
  const pathOf = (f: File) => (f.webkitRelativePath || f.name).replace(/\\/g, '/');
  const hidden = (p: string) => p.split('/').some((part) => part.startsWith('.'));
  const images = list.filter((f) => FILE_EXTENSIONS.test(f.name) && !hidden(pathOf(f)));
  // A picked folder gives "folder/class/…/file": the class is the second part.
  const labeled = wantLabels && images.some((f) => pathOf(f).split('/').length >= 3);
  const skipped: SkippedImage[] = [];
  const entries: { name: string; file: File; className: string | null }[] = [];
  for (const file of images) {
    const parts = pathOf(file).split('/');
    const name = parts.length > 1 ? parts.slice(1).join('/') : parts[0]!;
    if (labeled && parts.length < 3) skipped.push({ name, reason: 'not inside a class folder' });
    else entries.push({ name, file, className: labeled ? parts[1]! : null });
  }
  const checked = await Promise.all(
    entries.map(async (e) => {
      if (e.file.size === 0) return 'empty file';
      const head = new Uint8Array(await e.file.slice(0, 65536).arrayBuffer());
      const format = kernel().sniff(head);
      if (format === null) return 'not an image (unrecognised content)';
      if (format === 'tiff') return 'TIFF files are not supported';
      if (format === 'png' || format === 'jpeg' || format === 'webp') {
        const header = readImageHeader(head, format);
        if ('problem' in header && !(header.needMore && e.file.size > head.length)) return header.problem;
      }
      return null;
    }),
  );
  const kept = entries.filter((e, i) => {
    const reason = checked[i];
    if (reason !== null && reason !== undefined) skipped.push({ name: e.name, reason });
    return reason === null;
  });
  const dir = (name: string) => name.slice(0, Math.max(0, name.lastIndexOf('/')));
  const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);
  kept.sort((a, b) => compare(dir(a.name), dir(b.name)) || compare(base(a.name), base(b.name)));
  const classNames = labeled ? [...new Set(entries.map((e) => e.className!))].sort(compare) : null;
  if (classNames !== null) {
    const index = new Map(classNames.map((c, i) => [c, i]));
    kept.sort((a, b) => index.get(a.className!)! - index.get(b.className!)!);
  }
  const onWarning = resolved.onWarning ?? defaultWarningHandler;
  if (skipped.length > 0) {
    onWarning({
      source: fn,
      kind: 'skipped-files',
      message: `${fn}: skipped ${skipped.length} of ${skipped.length + kept.length} files: ${describeSkipped(skipped)}`,
      files: [...skipped],
    });
  }
  if (kept.length === 0) {
    throw new MissingDataError(`${fn}: no readable image among the ${list.length} files given${skipped.length ? ` (${describeSkipped(skipped, 5)})` : ''}`);
  }
  const spec = resolved.spec;
  return new ImageDataset({
    fn,
    names: kept.map((e) => e.name),
    labels: classNames === null ? null : Int32Array.from(kept, (e) => classNames.indexOf(e.className!)),
    classNames,
    imageShape: [spec.height, spec.width, spec.channels],
    load: (i) => decodeBlob(kept[i]!.file, spec),
    cacheBytes: resolved.cacheBytes,
    onWarning,
    skipped,
    decoder: 'browser',
  });
}

/**
 * A dataset of images at URLs, fetched and decoded by the browser when
 * batches need them (same-origin or CORS-enabled URLs), with optional labels.
 * An image that cannot be fetched or decoded is skipped with a warning and
 * replaced in its batch (see {@link BatchOptions.badImages}).
 *
 * @example
 * ```ts
 * import { imageUrls } from 'selfsup';
 *
 * if (typeof createImageBitmap === 'function') {
 *   const dataset = await imageUrls(['cat.jpg', 'dog.jpg'], { size: 64, labels: [0, 1], classNames: ['cat', 'dog'] });
 *   const { images } = await dataset.load();
 *   console.log(images.shape); // [2, 64, 64, 3]
 * }
 * ```
 */
export async function imageUrls(urls: readonly string[], options: LabeledImageOptions = {}): Promise<ImageDataset> {
  const fn = 'imageUrls';
  if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== 'string' || u.length === 0)) {
    throw new InvalidArgumentError(fn, 'urls', 'be a non-empty array of URL strings', describeValue(urls));
  }
  assertKnownOptions(options, [...IMAGE_LOAD_OPTIONS, 'labels', 'classNames', 'names'], fn);
  const resolved = resolveImageOptions(options ?? {}, fn);
  const labels = resolveLabels(urls.length, options?.labels, options?.classNames, options?.names, (i) => urls[i]!, fn, 'options.labels');
  assertBrowser(fn);
  const spec = resolved.spec;
  return new ImageDataset({
    fn,
    ...labels,
    imageShape: [spec.height, spec.width, spec.channels],
    load: async (i) => {
      const response = await fetch(urls[i]!);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      return decodeBlob(await response.blob(), spec);
    },
    cacheBytes: resolved.cacheBytes,
    onWarning: resolved.onWarning ?? defaultWarningHandler,
    skipped: [],
    decoder: 'browser',
  });
}

function sizeOf(image: BrowserImage): [number, number] {
  if (typeof HTMLImageElement === 'function' && image instanceof HTMLImageElement) return [image.naturalWidth, image.naturalHeight];
  return [image.width, image.height];
}

/**
 * A dataset of images the page already holds: `ImageBitmap`s, loaded
 * `HTMLImageElement`s, canvases or `ImageData`, drawn at `size` (`fit`,
 * `channels`) when batches need them, with optional labels.
 *
 * @example
 * ```ts
 * import { imageElements } from 'selfsup';
 *
 * if (typeof OffscreenCanvas === 'function') {
 *   const canvas = new OffscreenCanvas(40, 30);
 *   canvas.getContext('2d')!.fillRect(0, 0, 20, 30);
 *   const dataset = await imageElements([canvas], { size: 16, channels: 1 });
 *   const { images } = await dataset.load();
 *   console.log(images.shape); // [1, 16, 16, 1]
 * }
 * ```
 */
export async function imageElements(images: readonly BrowserImage[], options: LabeledImageOptions = {}): Promise<ImageDataset> {
  const fn = 'imageElements';
  if (!Array.isArray(images) || images.length === 0) {
    throw new InvalidArgumentError(fn, 'images', 'be a non-empty array of ImageBitmap, HTMLImageElement, canvas or ImageData', describeValue(images));
  }
  assertKnownOptions(options, [...IMAGE_LOAD_OPTIONS, 'labels', 'classNames', 'names'], fn);
  const resolved = resolveImageOptions(options ?? {}, fn);
  const labels = resolveLabels(images.length, options?.labels, options?.classNames, options?.names, (i) => `#${i}`, fn, 'options.labels');
  assertBrowser(fn);
  images.forEach((image, i) => {
    const [w, h] = typeof image === 'object' && image !== null && 'width' in image ? sizeOf(image) : [0, 0];
    if (!(w > 0 && h > 0)) {
      throw new InvalidArgumentError(fn, `images[${i}]`, 'be a decoded image with a size (a loaded <img>, a bitmap, a canvas or ImageData)', describeValue(image));
    }
  });
  const spec = resolved.spec;
  return new ImageDataset({
    fn,
    ...labels,
    imageShape: [spec.height, spec.width, spec.channels],
    load: async (i) => {
      const image = images[i]!;
      if (typeof ImageData === 'function' && image instanceof ImageData) {
        const bitmap = await createImageBitmap(image);
        try {
          return drawToPixels(bitmap, bitmap.width, bitmap.height, spec);
        } finally {
          bitmap.close();
        }
      }
      const [w, h] = sizeOf(image);
      return drawToPixels(image as CanvasImageSource, w, h, spec);
    },
    cacheBytes: resolved.cacheBytes,
    onWarning: resolved.onWarning ?? defaultWarningHandler,
    skipped: [],
    decoder: 'browser',
  });
}
