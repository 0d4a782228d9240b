// The tasks area: the SSL methods and pretext tasks, and the training utilities they share.
export { BasePretextTask, embedImages, encodeImages } from './pretext-task.js';
export type { EmbedOptions, ImageEncoder, PretextTask } from './pretext-task.js';
export * from '../train/index.js';
