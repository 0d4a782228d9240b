export { loadDigits } from './digits.js';
export {
  loadFashionMnist,
  loadFashionMnistSubset,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
} from './fashion-mnist.js';
export type { FashionMnistOptions, FashionMnistSubsetOptions } from './fashion-mnist.js';
export { loadPhotos } from './photos.js';
export type { PhotosOptions } from './photos.js';
export type { LabeledImages, LoaderOptions } from './labeled-images.js';
