import * as tf from '@tensorflow/tfjs-core';

/**
 * A float32 one-hot encoding `[...indices.shape, depth]` that is right on
 * every backend: tfjs-backend-wasm 4.22's OneHot writes int32 values whatever
 * dtype is asked (float32 output would hold denormals), so elsewhere than
 * webgpu the int32 result is cast; tfjs-webgpu 4.22 transposes int32 data
 * with a float shader (a WGSL error), so there oneHot makes float32 itself.
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  // tfjs's oneHot refuses depth 1; with one class every index is 0.
  if (depth === 1) return tf.ones([...indices.shape, 1]);
  if (tf.getBackend() === 'webgpu') return tf.oneHot(indices, depth, 1, 0, 'float32');
  return tf.tidy(() => tf.cast(tf.oneHot(indices, depth), 'float32'));
}
