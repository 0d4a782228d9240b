/** Tiny models and structured images for the pretext-task tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { convEncoder, registeredTrainingKernels, useBackend } from 'selfsup';

/**
 * The backend the conv-training tests use: wasm when selfsup's conv-gradient
 * kernels are registered there (fast), else cpu.
 */
export async function convTrainingBackend(): Promise<'wasm' | 'cpu'> {
  await useBackend('wasm');
  if (registeredTrainingKernels('wasm').includes('Conv2DBackpropFilter')) return 'wasm';
  await useBackend('cpu');
  return 'cpu';
}

/** A small conv encoder (two convolutions) for `[size, size, channels]` images. */
export const tinyConv = (size: number, channels = 1, seed = 0, widths: number[] = [4, 8]) =>
  convEncoder({ inputShape: [size, size, channels], channels: widths, seed });

/**
 * An encoder that pools its last map to a 2×2 grid and flattens it (the
 * shape of head `convEncoder({ outputGrid })` gives): it takes only
 * full-size images.
 */
export function tinyConvGrid(size: number, channels = 1, seed = 0): tfl.Sequential {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [size, size, channels], kernelInitializer: tfl.initializers.glorotNormal({ seed }) }));
  m.add(tfl.layers.batchNormalization({}));
  m.add(tfl.layers.averagePooling2d({ poolSize: size / 4, strides: size / 4 }));
  m.add(tfl.layers.flatten());
  return m;
}

/**
 * `n` deterministic images with structure (oriented bars and blobs whose
 * position and orientation vary), values in [0, 1].
 */
export function structuredImages(n: number, size: number, channels = 1): tf.Tensor4D {
  const data = new Float32Array(n * size * size * channels);
  for (let i = 0; i < n; i++) {
    const cy = ((i * 7) % (size - 2)) + 1;
    const cx = ((i * 3) % (size - 2)) + 1;
    const horizontal = i % 2 === 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const bar = horizontal ? Math.abs(y - cy) <= 1 && x < size - 1 - (i % 3) : Math.abs(x - cx) <= 1 && y > (i % 3);
        for (let c = 0; c < channels; c++) {
          const base = bar ? 0.9 : 0.1 + 0.05 * Math.sin(0.7 * x + 0.3 * y + c + i);
          const tint = channels === 3 ? Math.min(1, base * (0.5 + 0.25 * ((c + i) % 3)) + (bar ? 0.05 * c : 0)) : base;
          data[((i * size + y) * size + x) * channels + c] = tint;
        }
      }
    }
  }
  return tf.tensor4d(data, [n, size, size, channels]);
}

/** Runs `steps` steps and returns the first and the mean of the last three losses. */
export function trainFor(step: () => number, steps: number): { first: number; last: number; losses: number[] } {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(step());
  const tail = losses.slice(-3);
  return { first: losses[0]!, last: tail.reduce((a, b) => a + b, 0) / tail.length, losses };
}
