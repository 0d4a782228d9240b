/**
 * The learning benchmark's fixed protocol, in one place so every row — each
 * method and both baselines — is evaluated the same way (docs/learning-benchmark.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, type ImageEncoder } from 'selfsup';

/** Sizes of the data splits, full run and `--quick`. */
export interface Splits {
  /** Unlabeled pretraining images: training images [0, pretrain). */
  pretrain: number;
  /** Labeled images for the probe and the kNN bank: training images [0, probe). */
  probe: number;
  /** Official test images evaluated: test images [0, test). */
  test: number;
}

export const FULL_SPLITS: Splits = { pretrain: 20_000, probe: 10_000, test: 10_000 };
export const QUICK_SPLITS: Splits = { pretrain: 2_000, probe: 1_000, test: 1_000 };

/** Fashion-MNIST image shape. */
export const IMAGE_SHAPE = [28, 28, 1] as const;

/**
 * The reference encoder of every row: selfsup's `convEncoder` with three
 * stride-2 convolutions (28 → 14 → 7 → 4), batch norm, and the last 4×4 map
 * average-pooled to a 2×2 grid (512 features) so the probe keeps the coarse
 * layout of the centred garments.
 */
export const ENCODER_CONFIG = { channels: [32, 64, 128], strides: [2, 2, 2], batchNorm: true, outputGrid: 2 } as const;

/** A fresh reference encoder; the same seed gives the same initial weights (the random-init baseline's). */
export function makeEncoder(seed: number): ImageEncoder {
  return convEncoder({
    inputShape: [...IMAGE_SHAPE],
    channels: [...ENCODER_CONFIG.channels],
    strides: [...ENCODER_CONFIG.strides],
    batchNorm: ENCODER_CONFIG.batchNorm,
    outputGrid: ENCODER_CONFIG.outputGrid,
    seed,
  });
}

/** Linear-probe settings (selfsup's `linearProbe`, its defaults spelled out). */
export const PROBE_OPTIONS = {
  epochs: 100,
  batchSize: 256,
  learningRate: 0.01,
  l2: 1e-4,
  standardize: true,
  validationFraction: 0.1,
  patience: 10,
} as const;

/** kNN settings (selfsup's `knnClassifier`): cosine similarity, temperature-weighted vote. */
export const KNN_OPTIONS = { k: 20, temperature: 0.07 } as const;

/** Flattened pixels `[N, H·W·C]`: the raw-pixels baseline's features. */
export function rawPixels(images: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(images, [images.shape[0], -1]) as tf.Tensor2D;
}
