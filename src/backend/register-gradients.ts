import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';

/** Kernels whose gradients every selfsup loss and model needs; checked after registration. */
const REQUIRED_GRADIENTS = ['Exp', 'BatchMatMul', 'Conv2D', 'Softmax', 'Max', 'Sum', 'Mean', 'Sqrt', 'Maximum'];

function missingGradients(): string[] {
  return REQUIRED_GRADIENTS.filter((name) => tf.getGradient(name) === undefined);
}

/**
 * Makes sure tfjs-core's gradient functions are registered, so `tf.grad`,
 * optimizers and tfjs-layers training work.
 *
 * tfjs-core does not register its gradients by itself: the `@tensorflow/tfjs`
 * union package and `@tensorflow/tfjs-layers` do, each on import. Importing
 * `@tensorflow/tfjs-core/dist/register_all_gradients` would do it too, but that
 * file is ESM with extension-less specifiers that Node's ESM loader refuses. So
 * this imports tfjs-layers (a peer dependency) on demand: in Node its CommonJS
 * bundle registers the gradients into tfjs-core's global registry, and in a
 * browser bundle its ESM entry imports `register_all_gradients`. When the
 * gradients are already present (the union package was imported), nothing is
 * loaded. Idempotent; {@link useBackend} calls it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerGradients } from 'selfsup';
 *
 * await registerGradients();
 * tf.grad((x: tf.Tensor) => tf.sum(tf.exp(x)))(tf.tensor1d([0, 1])).print(); // [1, 2.718]
 * ```
 */
export async function registerGradients(): Promise<void> {
  if (missingGradients().length === 0) return;
  try {
    await import('@tensorflow/tfjs-layers');
  } catch (e) {
    throw new BackendError(
      `registerGradients: could not import @tensorflow/tfjs-layers, which registers tfjs-core's gradients ` +
        `(${(e as Error).message}). Install it: npm install @tensorflow/tfjs-layers@4`,
    );
  }
  const missing = missingGradients();
  if (missing.length > 0) {
    throw new BackendError(
      `registerGradients: gradients for ${missing.join(', ')} are still missing after importing ` +
        `@tensorflow/tfjs-layers; this usually means two different versions of @tensorflow/tfjs-core are ` +
        `installed (run npm ls @tensorflow/tfjs-core).`,
    );
  }
}
