import { InvalidArgumentError, ValueRangeError } from '../core/errors.js';
import { assertInteger, assertOneOf, describeValue } from '../core/validate.js';
import type { DataWarning } from './image-dataset.js';
import type { OutputSpec } from './image-kernel.js';

/** Options shared by every loader of encoded images (folders, files, URLs, browser images). */
export interface ImageLoadOptions {
  /**
   * Output size: a side for square images, or `[height, width]`.
   * @default 64
   */
  size?: number | readonly [number, number];
  /**
   * How an image is brought to `size`: `'cover'` scales the shorter side to
   * the output and crops the centre (torchvision's `Resize` + `CenterCrop`);
   * `'fill'` resizes to the output size, changing the aspect ratio.
   * @default 'cover'
   */
  fit?: 'cover' | 'fill';
  /**
   * 3 for RGB, 1 for grayscale (ITU-R 601 luma, as Pillow's `convert('L')`).
   * Alpha is dropped, as torchvision's loader does.
   * @default 3
   */
  channels?: 1 | 3;
  /**
   * Memory for decoded images, in MiB: images decoded once are kept (8 bits
   * per sample) until the cap, least recently used first out, so a set that
   * fits is decoded once and later epochs read memory. 0 turns the cache off.
   * @default 256
   */
  cacheMegabytes?: number;
  /**
   * Receives each warning (skipped files, images that failed to decode, empty
   * class folders).
   * @default Node's `process.emitWarning` (printed on stderr), `console.warn` in a browser
   */
  onWarning?: (warning: DataWarning) => void;
}

export const IMAGE_LOAD_OPTIONS = ['size', 'fit', 'channels', 'cacheMegabytes', 'onWarning'] as const;

/** Validated {@link ImageLoadOptions}. */
export interface ResolvedImageOptions {
  spec: OutputSpec;
  cacheBytes: number;
  onWarning: ((warning: DataWarning) => void) | undefined;
}

export function resolveImageOptions(options: ImageLoadOptions, fn: string): ResolvedImageOptions {
  const { size = 64, fit = 'cover', channels = 3, cacheMegabytes = 256, onWarning } = options;
  let height: number;
  let width: number;
  if (typeof size === 'number') {
    height = width = size;
  } else if (Array.isArray(size) && size.length === 2) {
    [height, width] = size as [number, number];
  } else {
    throw new InvalidArgumentError(fn, 'options.size', 'be an integer ≥ 1 or a [height, width] pair', describeValue(size));
  }
  assertInteger(height, fn, 'options.size', { min: 1, max: 8192 });
  assertInteger(width, fn, 'options.size', { min: 1, max: 8192 });
  assertOneOf(fit, ['cover', 'fill'] as const, fn, 'options.fit');
  assertOneOf(channels, [1, 3] as const, fn, 'options.channels');
  if (typeof cacheMegabytes !== 'number' || !(cacheMegabytes >= 0) || cacheMegabytes === Infinity) {
    throw new ValueRangeError(fn, 'options.cacheMegabytes', 'be a finite number ≥ 0', describeValue(cacheMegabytes));
  }
  if (onWarning !== undefined && typeof onWarning !== 'function') {
    throw new InvalidArgumentError(fn, 'options.onWarning', 'be a function', describeValue(onWarning));
  }
  return { spec: { height, width, channels, fit }, cacheBytes: Math.floor(cacheMegabytes * 1048576), onWarning };
}
