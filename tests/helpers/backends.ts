import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';

/** The backends every numerical suite runs on. */
export const BACKENDS = ['cpu', 'wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * Declares `suite` once per backend; each copy switches the global tfjs
 * backend in its own `beforeAll`, so the copies run one after the other.
 */
export function describeBackends(title: string, suite: (backend: BackendName) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      beforeAll(async () => {
        await useBackend(backend);
      });
      suite(backend);
    });
  }
}

/** Runs `fn` on each backend in turn and returns the results by backend (for cross-backend agreement tests). */
export async function onEachBackend<T>(fn: (backend: BackendName) => T): Promise<Record<BackendName, T>> {
  const previous = tf.getBackend();
  const out = {} as Record<BackendName, T>;
  for (const backend of BACKENDS) {
    await useBackend(backend);
    out[backend] = fn(backend);
  }
  if (previous && previous !== tf.getBackend()) await useBackend(previous);
  return out;
}
