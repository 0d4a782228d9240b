/**
 * The code of docs/reliability.md, runnable:
 * `npx tsx examples/guides/reliability.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * the encoder and the images are set up outside them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convEncoder, useBackend } from 'selfsup';
import { BACKEND } from '../lib/cli.js';

await useBackend(BACKEND);
const encoder = convEncoder({ inputShape: [16, 16, 1], channels: [8, 16], seed: 0 });
const images = tf.randomUniform([8, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;

// #region guarded-step
import { NonFiniteError, SimCLR, ValueRangeError } from 'selfsup';

const task = new SimCLR(encoder, { projectionDim: 16, seed: 1 }); // onNonFinite: 'throw' by default
const bad = tf.tidy(() => tf.concat([tf.fill([1, 16, 16, 1], NaN), tf.slice(images, 1, 7)])) as tf.Tensor4D;
try {
  task.step(bad); // refused before any work: one NaN pixel
} catch (e) {
  if (e instanceof ValueRangeError) console.log(e.message); // SimCLR.step: images must have pixel values in [0, 1], got NaN or infinite values
}
try {
  task.step(images); // a diverged step (NaN loss or gradient) would be refused before the update
} catch (e) {
  if (!(e instanceof NonFiniteError)) throw e;
  console.log(`step ${e.step} not applied: ${e.reason}`); // weights, optimizer state and targets unchanged
}
// #endregion guarded-step
bad.dispose();

// #region skip
const tolerant = new SimCLR(encoder, { projectionDim: 16, onNonFinite: 'skip', seed: 1 });
const loss = tolerant.step(images);
console.log(loss, tolerant.steps, tolerant.skippedSteps); // a skipped step returns its loss, is counted, changes nothing
// #endregion skip

// #region step-async
const asyncLoss = await task.stepAsync(images); // no synchronous read: what webgl and webgpu need
console.log(asyncLoss.toFixed(3), task.steps);
// #endregion step-async

// #region budget
import { memoryBudget, randomResizedCrop, ResourceError } from 'selfsup';

const budget = memoryBudget();
console.log(budget.backend, budget.availableBytes, budget.maxTensorBytes);
try {
  randomResizedCrop(images, { size: 100_000, seed: 1 }); // 8 × 100000² × 1 floats: refused in microseconds
} catch (e) {
  if (!(e instanceof ResourceError)) throw e;
  console.log(e.argument, e.requiredBytes, e.availableBytes); // options.size, …; the backend stays usable
}
// #endregion budget

// #region lifetimes
import { createRng, DisposedError } from 'selfsup';

tolerant.dispose();
tolerant.dispose(); // idempotent
try {
  tolerant.step(images);
} catch (e) {
  if (e instanceof DisposedError) console.log(e.message); // SimCLR.step: this must not be disposed, …
}
try {
  createRng(2 ** 32); // seeds are integers in [0, 2³²): each its own stream
} catch (e) {
  console.log((e as Error).message);
}
// #endregion lifetimes

task.dispose();
encoder.dispose();
images.dispose();
