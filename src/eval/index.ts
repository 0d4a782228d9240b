/**
 * Evaluation of frozen representations (kNN monitor, linear probe) and collapse diagnostics
 * (alignment, uniformity, RankMe, embedding std).
 *
 * `import { knnClassifier, linearProbe } from 'selfsup/eval'`
 *
 * @module eval
 */
export { knnClassifier } from './knn-classifier.js';
export type { KnnClassifierOptions, KnnResult } from './knn-classifier.js';
export { linearProbe } from './linear-probe.js';
export type { LinearProbeOptions, LinearProbeResult } from './linear-probe.js';
export { alignment } from './alignment.js';
export type { AlignmentOptions } from './alignment.js';
export { uniformity } from './uniformity.js';
export type { UniformityOptions } from './uniformity.js';
export { rankMe } from './rank-me.js';
export type { RankMeOptions } from './rank-me.js';
export { embeddingStd } from './embedding-std.js';
export { detectCollapse } from './collapse.js';
export type { CollapseOptions, CollapseStats, CollapseWarning } from './collapse.js';
