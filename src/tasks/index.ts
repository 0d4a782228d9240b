// The tasks area: the SSL methods (added as they land) and the training utilities they share.
export * from '../train/index.js';
