// The public part of the shared internals; other modules import the specific files.
export {
  SelfsupError,
  InvalidArgumentError,
  ShapeError,
  DTypeError,
  ValueRangeError,
  MissingDataError,
  BackendError,
} from './errors.js';
export { Rng, createRng } from './rng.js';
export type { Seed } from './rng.js';
export { l2Normalize } from './normalize.js';
export type { L2NormalizeOptions } from './normalize.js';
export { stopGradient } from './stop-gradient.js';
