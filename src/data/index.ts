/**
 * Images in: datasets of your own images — a folder in Node ({@link imageFolder}), files, URLs or
 * images in a browser ({@link imageFiles}, {@link imageUrls}, {@link imageElements}) or tensors in
 * memory ({@link tensorDataset}) — all streaming seeded, shuffled, prefetched batches through one
 * {@link Dataset} interface with a saveable position. And real data, never downloaded: scikit-learn's
 * digits, a Fashion-MNIST subset and four photographs vendored in the package (`data/*.bin.gz`; in a
 * browser, `fetchVendoredData()` first), and the full
 * Fashion-MNIST from Debian's `dataset-fashion-mnist`.
 *
 * `import { imageFolder, loadFashionMnist } from 'selfsup/data'`
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
export type { Batch, BatchOptions, BatchStream, BatchStreamState, Dataset, LoadedImages } from './dataset.js';
export { ImageDataset } from './image-dataset.js';
export type { DataWarning, SkippedImage } from './image-dataset.js';
export type { ImageLoadOptions } from './image-options.js';
export { imageFolder } from './image-folder.js';
export type { ImageFolderOptions } from './image-folder.js';
export { tensorDataset } from './tensor-dataset.js';
export type { TensorDatasetOptions } from './tensor-dataset.js';
export { imageFiles, imageUrls, imageElements } from './browser-images.js';
export type { BrowserImage, ImageFilesOptions, LabeledImageOptions } from './browser-images.js';
export { embedDataset } from './embed-dataset.js';
export type { DatasetEmbeddings, EmbedDatasetOptions } from './embed-dataset.js';
