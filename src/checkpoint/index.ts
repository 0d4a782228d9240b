/**
 * Crash-safe checkpoints of the methods and pretext tasks: everything needed
 * to continue training exactly — every variable (encoder, heads, batch-norm
 * statistics, target networks), the optimizers' state, queues, centres,
 * prototypes, the step count and the position of every random stream — with
 * a manifest (versions, method, settings, backend, shapes, checksums) and
 * your own JSON (a dataset position). `saveCheckpoint` / `loadCheckpoint`
 * use a folder in Node, written atomically; `encodeCheckpoint` /
 * `decodeCheckpoint` give the same checkpoint in memory, for browsers
 * (IndexedDB) and workers.
 *
 * `import { saveCheckpoint, loadCheckpoint } from 'selfsup/checkpoint'`
 *
 * @module checkpoint
 */
export { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, decodeCheckpoint, encodeCheckpoint } from './format.js';
export type {
  CheckpointData,
  CheckpointManifest,
  CheckpointTensorEntry,
  EncodeCheckpointOptions,
  RestoredCheckpoint,
} from './format.js';
export { findCheckpoint, loadCheckpoint, readCheckpointManifest, saveCheckpoint } from './files.js';
export type { CheckpointWriteProgress, LoadedCheckpoint, SaveCheckpointOptions, SavedCheckpoint } from './files.js';
