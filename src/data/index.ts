/**
 * Real data, never downloaded: scikit-learn's digits, a Fashion-MNIST subset and four photographs
 * vendored in the package (`data/*.bin`; in a browser, `fetchVendoredData()` first), and the full
 * Fashion-MNIST from Debian's `dataset-fashion-mnist`.
 *
 * `import { loadFashionMnist } from 'selfsup/data'`
 *
 * @module data
 */
export { loadDigits } from './digits.js';
export {
  loadFashionMnist,
  loadFashionMnistSubset,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
} from './fashion-mnist.js';
export type { FashionMnistOptions, FashionMnistSubsetOptions } from './fashion-mnist.js';
export { loadPhotos } from './photos.js';
export { fetchVendoredData } from './vendored.js';
export type { FetchVendoredDataOptions, VendoredDataName } from './vendored.js';
export type { PhotosOptions } from './photos.js';
export type { LabeledImages, LoaderOptions } from './labeled-images.js';
