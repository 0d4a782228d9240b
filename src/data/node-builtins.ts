// The implementation lives in core (the wasm kernels read their module files with it too).
export { nodeFileAccess } from '../core/node-builtins.js';
