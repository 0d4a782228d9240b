import { assertKnownOptions } from '../core/validate.js';
import { DIGITS_ASSET } from './assets/digits.js';
import type { LabeledImages, LoaderOptions } from './labeled-images.js';
import { rowsToTensors, selectRange } from './rows-to-tensors.js';
import { vendoredBytes } from './vendored.js';
import { assertBackendReady } from '../core/backend-ready.js';

/**
 * scikit-learn's handwritten digits (UCI optical recognition data): 1,797
 * greyscale 8×8 images of the digits 0–9, vendored in the package (BSD-3-Clause;
 * see `data/NOTICE.md`). Pixel counts 0–16 are scaled to [0, 1]. In a browser,
 * call {@link fetchVendoredData} once first.
 *
 * @returns `images` `[N, 8, 8, 1]` float32 in [0, 1], `labels` `[N]` int32.
 *
 * @example
 * ```ts
 * import { loadDigits } from 'selfsup';
 *
 * const { images, labels } = loadDigits({ limit: 100 });
 * console.log(images.shape, labels.shape); // [100, 8, 8, 1] [100]
 * ```
 */
export function loadDigits(options: LoaderOptions = {}): LabeledImages {
  const fn = 'loadDigits';
  assertBackendReady(fn);
  assertKnownOptions(options, ['limit', 'offset'], fn);
  const { start, count } = selectRange(DIGITS_ASSET.count, options.offset, options.limit, fn);
  const { images, labels } = rowsToTensors(vendoredBytes('digits', fn), start, count, [8, 8, 1], DIGITS_ASSET.maxValue);
  return { images, labels, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}
