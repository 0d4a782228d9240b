import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';

/** The parts of tfjs's engine this check reads (its typings keep them internal). */
interface EngineState {
  registryFactory: Record<string, unknown>;
  pendingBackendInit?: Promise<boolean> | null;
}

/**
 * Throws a {@link BackendError} naming `fn` when tfjs cannot run an op yet:
 * no backend is registered (tfjs-core alone, before `useBackend`), or one is
 * still initialising (`useBackend` not awaited). tfjs's own errors for these
 * cases ("No backend found in registry.") name neither the function nor the
 * fix. Called first by the public functions that create tensors from nothing
 * (loaders, model builders, mask generators); with any registered backend
 * (the union package's cpu, say) tfjs initialises it as usual.
 */
export function assertBackendReady(fn: string): void {
  const engine = tf.engine() as unknown as EngineState;
  if (Object.keys(engine.registryFactory).length === 0) {
    throw new BackendError(
      `${fn}: no TensorFlow.js backend is ready; first call useBackend('wasm') (or useBackend('cpu')) from selfsup ` +
        `and await it`,
    );
  }
  if (engine.pendingBackendInit != null) {
    throw new BackendError(`${fn}: the TensorFlow.js backend is still initialising; await useBackend(…) (or tf.setBackend) before calling ${fn}`);
  }
}
