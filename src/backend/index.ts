export { useBackend, backendInfo } from './use-backend.js';
export type { BackendInfo, UseBackendOptions } from './use-backend.js';
export { registerGradients } from './register-gradients.js';
export { registerTrainingKernels, registeredTrainingKernels } from '../kernels/register.js';
