/**
 * The ReLU gradient as one kernel. tfjs-core's gradient is
 * `dy * cast(step(x), 'float32')`: on wasm that is three passes over every
 * activation of a conv net (~25 ms of a 256-image training step here). Where
 * selfsup's `SelfsupReluGrad` kernel is registered for the active backend
 * (wasm), the gradient uses it; elsewhere it is tfjs-core's formula.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Name of selfsup's fused kernel `out = dy * step(x)` (inputs `dy`, `x`). */
export const RELU_GRAD_KERNEL = 'SelfsupReluGrad';

/** tfjs-core's composition of the ReLU gradient (for backends without the fused kernel). */
function composedReluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

function reluGrad(dy: tf.Tensor, x: tf.Tensor, native: (kernelName: string) => boolean): tf.Tensor {
  if (native(RELU_GRAD_KERNEL) && dy.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(dy.shape, x.shape)) {
    return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x }) as tf.Tensor;
  }
  return composedReluGrad(dy, x);
}

/** Gradient config for `Relu`; `native` says whether the active backend has the fused kernel. */
export function reluGradConfig(native: (kernelName: string) => boolean): tf.GradConfig {
  return {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => reluGrad(dy as tf.Tensor, x, native) };
    },
  };
}

/** Gradient of the fused kernel itself (second derivatives): linear in dy, zero almost everywhere in x. */
export function reluGradKernelGradConfig(native: (kernelName: string) => boolean): tf.GradConfig {
  return {
    kernelName: RELU_GRAD_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved as [tf.Tensor];
      return { dy: () => reluGrad(ddx as tf.Tensor, x, native), x: () => tf.zerosLike(x) };
    },
  };
}
