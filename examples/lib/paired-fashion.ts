/**
 * Two real paired modalities built from Fashion-MNIST, for the multimodal
 * tasks (no text corpus or audio ships with selfsup):
 *
 * - image ↔ caption: a short token sequence naming the garment's visual
 *   attributes (from its class, as a web caption names the object) plus two
 *   tokens measured on the image itself (brightness, frame coverage);
 * - image ↔ line-scan reading: the row and column intensity profiles of the
 *   same garment, with a random gain and sensor noise.
 *
 * Shared by examples/clip.ts, examples/cross-modal-correspondence.ts and
 * bench/multimodal.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from 'selfsup';

/** The attribute vocabulary (token ids 1…); 0 pads. */
export const ATTRIBUTES = [
  'upper-body', // 1
  'legs', // 2
  'footwear', // 3
  'carried', // 4
  'short-sleeves', // 5
  'long-sleeves', // 6
  'closed-front', // 7
  'open-front', // 8
  'long-length', // 9
  'low-cut', // 10
  'high-ankle', // 11
  'open-toe', // 12
  'closed-toe', // 13
  'handles', // 14
  'collar', // 15
] as const;
export const token = (a: (typeof ATTRIBUTES)[number]) => ATTRIBUTES.indexOf(a) + 1;
export const INSTANCE = ['dark', 'medium', 'bright', 'small', 'large'] as const;
export const instanceToken = (w: (typeof INSTANCE)[number]) => ATTRIBUTES.length + 1 + INSTANCE.indexOf(w);
export const VOCAB = ATTRIBUTES.length + INSTANCE.length + 1;

/** Each class described by visual attributes (the "caption" a web page would give it). */
export const CLASS_ATTRIBUTES: Record<number, (typeof ATTRIBUTES)[number][]> = {
  0: ['upper-body', 'short-sleeves', 'closed-front'], // T-shirt/top
  1: ['legs', 'long-length'], // Trouser
  2: ['upper-body', 'long-sleeves', 'closed-front'], // Pullover (held out)
  3: ['upper-body', 'short-sleeves', 'closed-front', 'long-length'], // Dress (held out)
  4: ['upper-body', 'long-sleeves', 'open-front', 'long-length'], // Coat
  5: ['footwear', 'low-cut', 'open-toe'], // Sandal
  6: ['upper-body', 'long-sleeves', 'open-front', 'collar'], // Shirt
  7: ['footwear', 'low-cut', 'closed-toe'], // Sneaker (held out)
  8: ['carried', 'handles'], // Bag
  9: ['footwear', 'high-ankle', 'closed-toe'], // Ankle boot
};
export const HELD_OUT = [2, 3, 7];
export const SEEN = [0, 1, 4, 5, 6, 8, 9];
export const SEQ = 6; // up to 4 attributes + 2 instance tokens

/** Instance tokens measured on each image: brightness tercile and frame coverage. */
export function instanceTokens(images: tf.Tensor4D): number[][] {
  const [mean, cover] = tf.tidy(() => [tf.mean(images, [1, 2, 3]), tf.mean(tf.cast(tf.greater(images, 0.1), 'float32'), [1, 2, 3])]);
  const m = mean!.dataSync() as Float32Array;
  const c = cover!.dataSync() as Float32Array;
  tf.dispose([mean!, cover!]);
  return Array.from(m, (v, i) => [
    instanceToken(v < 0.2 ? 'dark' : v < 0.35 ? 'medium' : 'bright'),
    instanceToken(c[i]! < 0.45 ? 'small' : 'large'),
  ]);
}

/** Captions for labelled images: the class's attributes in a random order, then the instance tokens, padded. */
export function captions(labels: Int32Array, inst: number[][], rng: Rng): tf.Tensor2D {
  const rows = Array.from(labels, (y, i) => {
    const attrs = rng.shuffle(CLASS_ATTRIBUTES[y]!.map(token));
    const tokens = [...attrs, ...rng.shuffle([...inst[i]!])];
    return [...tokens, ...new Array(SEQ - tokens.length).fill(0)];
  });
  return tf.tensor2d(rows, [labels.length, SEQ], 'int32');
}

/** Prompts for a class: without ensembling its attributes alone; with it, one per instance-token pair. */
export function classPrompts(cls: number, ensemble: boolean): number[][] {
  const attrs = CLASS_ATTRIBUTES[cls]!.map(token);
  if (!ensemble) return [[...attrs, ...new Array(SEQ - attrs.length).fill(0)]];
  const out: number[][] = [];
  for (const b of ['dark', 'medium', 'bright'] as const) {
    for (const s of ['small', 'large'] as const) {
      const t = [...attrs, instanceToken(b), instanceToken(s)];
      out.push([...t, ...new Array(SEQ - t.length).fill(0)]);
    }
  }
  return out;
}

/** A line-scan sensor's reading of each image: row and column intensity profiles, random gain, additive noise. */
export function sensorReadings(images: tf.Tensor4D, rng: Rng): tf.Tensor2D {
  const n = images.shape[0];
  const gain = Float32Array.from({ length: n }, () => rng.uniform(0.8, 1.2));
  const noise = rng.normalArray(n * 56, 0, 0.03);
  return tf.tidy(() => {
    const rows = tf.reshape(tf.mean(images, [2, 3]), [n, 28]);
    const cols = tf.reshape(tf.mean(images, [1, 3]), [n, 28]);
    const profile = tf.mul(tf.concat([rows, cols], 1), tf.tensor2d(gain, [n, 1]));
    return tf.add(profile, tf.tensor2d(noise, [n, 56])) as tf.Tensor2D;
  });
}

