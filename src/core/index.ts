/**
 * Errors, the seeded random generator and small tensor utilities shared by every area.
 *
 * Everything here is also exported from the package root (`import { Rng, SelfsupError } from 'selfsup'`).
 *
 * @module core
 */
export {
  SelfsupError,
  InvalidArgumentError,
  ShapeError,
  DTypeError,
  ValueRangeError,
  MissingDataError,
  BackendError,
  ResourceError,
  NonFiniteError,
  DisposedError,
  CheckpointError,
} from './errors.js';
export { memoryBudget, assertMemoryFits } from './memory-budget.js';
export type { MemoryBudget, PlannedTensor } from './memory-budget.js';
export { Rng, createRng } from './rng.js';
export type { RngState, Seed } from './rng.js';
export { l2Normalize } from './normalize.js';
export type { L2NormalizeOptions } from './normalize.js';
export { stopGradient } from './stop-gradient.js';
export { nuclearNorm } from './nuclear-norm.js';
