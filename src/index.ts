/**
 * selfsup: self-supervised learning building blocks for TensorFlow.js.
 *
 * Every area is also importable on its own (`selfsup/losses`, `selfsup/augment`,
 * …); the package is side-effect free, so a bundler keeps only what you use.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './backend/index.js';
export * from './data/index.js';
export * from './losses/index.js';
export * from './augment/index.js';
export * from './masking/index.js';
export * from './heads/index.js';
export * from './tasks/index.js';
export * from './eval/index.js';
export * from './io/index.js';
export * from './checkpoint/index.js';
