import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { importUnbundled, isNode } from '../core/node-builtins.js';

/** Kernels whose gradients every selfsup loss and model needs; checked after registration. */
const REQUIRED_GRADIENTS = ['Exp', 'BatchMatMul', 'Conv2D', 'Softmax', 'Max', 'Sum', 'Mean', 'Sqrt', 'Maximum'];

function missingGradients(): string[] {
  return REQUIRED_GRADIENTS.filter((name) => tf.getGradient(name) === undefined);
}

/**
 * The packages whose Node build registers tfjs-core's gradients on import,
 * tried in order: tfjs-layers (a peer dependency), then the `@tensorflow/tfjs`
 * union package, which depends on it.
 */
const NODE_GRADIENT_PROVIDERS = ['@tensorflow/tfjs-layers', '@tensorflow/tfjs'];

async function registerInNode(): Promise<void> {
  const failures: string[] = [];
  for (const name of NODE_GRADIENT_PROVIDERS) {
    try {
      await importUnbundled(name);
      return;
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendError(
    `registerGradients: could not import @tensorflow/tfjs-layers (or @tensorflow/tfjs), which registers tfjs-core's ` +
      `gradients in Node (${failures.join('; ')}). Install it: npm install @tensorflow/tfjs-layers@${tf.version_core}`,
  );
}

async function registerInBundle(): Promise<void> {
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  } catch (e) {
    throw new BackendError(
      `registerGradients: could not import @tensorflow/tfjs-core/dist/register_all_gradients.js (${(e as Error).message}); ` +
        `bundle your app (esbuild, webpack, Vite, Rollup resolve it), or import '@tensorflow/tfjs' before useBackend`,
    );
  }
}

/**
 * Makes sure tfjs-core's gradient functions are registered, so `tf.grad`,
 * optimizers and tfjs-layers training work.
 *
 * tfjs-core does not register its gradients by itself: the `@tensorflow/tfjs`
 * union package and `@tensorflow/tfjs-layers` do, each on import. When they
 * are already registered nothing is loaded. Otherwise, in a browser bundle,
 * this imports tfjs-core's own `register_all_gradients` module (so an app
 * that trains without tfjs-layers does not ship it); in Node, whose ESM
 * loader refuses that file (extension-less imports inside), it imports
 * `@tensorflow/tfjs-layers` (or the union package), whose Node build
 * registers them into tfjs-core's global registry. Idempotent;
 * {@link useBackend} calls it.
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
  if (isNode()) await registerInNode();
  else await registerInBundle();
  const missing = missingGradients();
  if (missing.length > 0) {
    throw new BackendError(
      `registerGradients: gradients for ${missing.join(', ')} are still missing after importing tfjs-core's ` +
        `gradients; this usually means two different versions of @tensorflow/tfjs-core are installed ` +
        `(run npm ls @tensorflow/tfjs-core).`,
    );
  }
}
