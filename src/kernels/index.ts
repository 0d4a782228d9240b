export { registerTrainingKernels, registeredTrainingKernels } from './register.js';
