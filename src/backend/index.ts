/**
 * Backend set-up: `useBackend('wasm')` readies the WebAssembly SIMD backend (or cpu) with gradients
 * and selfsup's training kernels registered; `backendInfo()` reports it.
 *
 * `import { useBackend } from 'selfsup/backend'`
 *
 * @module backend
 */
export { useBackend, backendInfo } from './use-backend.js';
export type { BackendInfo, UseBackendOptions } from './use-backend.js';
export { registerGradients } from './register-gradients.js';
export { registerTrainingKernels, registeredTrainingKernels } from '../kernels/register.js';
