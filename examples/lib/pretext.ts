/** Data and evaluation shared by the pretext-task examples. */
import * as tf from '@tensorflow/tfjs-core';
import { createRng, knnClassifier, linearProbe, loadFashionMnist, loadFashionMnistSubset, MissingDataError, type LabeledImages } from 'selfsup';

/**
 * Fashion-MNIST: the vendored 600/200-image subset in quick mode (works
 * everywhere), else Debian's full dataset when installed (a 6,000-image
 * training sample and 2,000 test images).
 */
export function fashionMnist(quick: boolean): { train: LabeledImages; test: LabeledImages; source: string } {
  if (!quick) {
    try {
      return {
        train: loadFashionMnist({ split: 'train', limit: 6000 }),
        test: loadFashionMnist({ split: 'test', limit: 2000 }),
        source: 'Fashion-MNIST (Debian package)',
      };
    } catch (e) {
      if (!(e instanceof MissingDataError)) throw e;
    }
  }
  return {
    train: loadFashionMnistSubset({ split: 'train' }),
    test: loadFashionMnistSubset({ split: 'test' }),
    source: 'the vendored Fashion-MNIST subset',
  };
}

/** Linear-probe and kNN accuracy of frozen features (`embed`) trained on `train`, measured on `test`. */
export async function evaluate(
  embed: (images: tf.Tensor4D) => tf.Tensor2D,
  train: LabeledImages,
  test: LabeledImages,
): Promise<{ linear: number; knn: number }> {
  const trainFeatures = embed(train.images);
  const testFeatures = embed(test.images);
  const probe = await linearProbe(trainFeatures, train.labels, testFeatures, test.labels, { epochs: 50, seed: 0 });
  const knn = await knnClassifier(trainFeatures, train.labels, testFeatures, test.labels, { k: 20 });
  tf.dispose([trainFeatures, testFeatures, probe.weights, probe.bias]);
  return { linear: probe.accuracy, knn: knn.accuracy ?? NaN };
}

export const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

/**
 * Random crops of the four vendored colour photographs, resized to `size`
 * and randomly flipped: colour training data for colorization and split-brain
 * (Fashion-MNIST is grayscale).
 */
export function photoCrops(photos: tf.Tensor4D, seed = 0): (batch: number, size: number) => tf.Tensor4D {
  const rng = createRng(seed);
  return (batch, size) => {
    const boxes: number[][] = [];
    const index: number[] = [];
    for (let i = 0; i < batch; i++) {
      const side = rng.uniform(0.2, 0.75);
      const y = rng.uniform(0, 1 - side);
      const x = rng.uniform(0, 1 - side);
      boxes.push(rng.bernoulli(0.5) ? [y, x + side, y + side, x] : [y, x, y + side, x + side]);
      index.push(rng.int(0, photos.shape[0]));
    }
    return tf.tidy(() => tf.clipByValue(tf.image.cropAndResize(photos, boxes, index, [size, size]), 0, 1) as tf.Tensor4D);
  };
}
