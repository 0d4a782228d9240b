import * as tf from '@tensorflow/tfjs-core';

/**
 * Splits NHWC images into non-overlapping `p×p` patches: `[B, H, W, C]` →
 * `[B, (H/p)·(W/p), p·p·C]`, patches in row-major order and the values inside
 * a patch ordered (row, col, channel), the layout of MAE's `patchify` for
 * channels-last input. No validation: the public `patchify` (selfsup/masking)
 * and `maeLoss` check their inputs first.
 */
export function patchifyRaw(images: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const [b, h, w, c] = images.shape;
  const p = patchSize;
  const gh = h / p;
  const gw = w / p;
  return tf.tidy(() => {
    const blocks = tf.reshape(images, [b, gh, p, gw, p, c]);
    return tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [b, gh * gw, p * p * c]) as tf.Tensor3D;
  });
}

/** The exact inverse of {@link patchifyRaw}: `[B, L, p·p·C]` → `[B, H, W, C]`. */
export function unpatchifyRaw(patches: tf.Tensor3D, patchSize: number, height: number, width: number): tf.Tensor4D {
  const [b, , d] = patches.shape;
  const p = patchSize;
  const c = d / (p * p);
  const gh = height / p;
  const gw = width / p;
  return tf.tidy(() => {
    const blocks = tf.reshape(patches, [b, gh, gw, p, p, c]);
    return tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [b, height, width, c]) as tf.Tensor4D;
  });
}

/**
 * Patch-index tensors known to be valid (int32 `[B, K]`, distinct indices in
 * `[0, numPatches)` per row) because selfsup built them (`randomPatchMask`'s
 * `idsKeep`): their check needs no read back to JavaScript, which a training
 * step would otherwise pay at every use (tensors are immutable, so the mark
 * stays true).
 */
const validPatchIds = new WeakMap<object, number>();

/** Marks `ids` as valid indices into `numPatches` patches (see {@link validPatchIds}). */
export function markValidPatchIds(ids: tf.Tensor, numPatches: number): void {
  validPatchIds.set(ids, numPatches);
}

/** Whether `ids` was marked valid for `numPatches` patches. */
export function isMarkedValidPatchIds(ids: object, numPatches: number): boolean {
  return validPatchIds.get(ids) === numPatches;
}

