import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertInRange, assertKnownOptions, assertOneOf, formatShape } from '../core/validate.js';
import { allVariables, type ModelWeights } from './variables.js';

/** Options of {@link emaUpdate}. */
export interface EmaUpdateOptions {
  /**
   * Also average the buffers, i.e. weights that are not trainable in either
   * model (batch-norm moving statistics). Off, the target keeps the
   * statistics of its own forward passes, as in MoCo, BYOL and DINO's code.
   * @default false
   */
  includeBuffers?: boolean;
}

/**
 * The exponential-moving-average update of a target ("momentum", "teacher")
 * network, in place: `θ_target ← m·θ_target + (1 − m)·θ_online`
 * (MoCo: m = 0.999; BYOL and DINO: m from 0.996 to 1 on a cosine schedule,
 * see {@link momentumSchedule}). `m = 0` copies the online weights, which is
 * how the target is initialised.
 *
 * Weights are paired by position, layer by layer (nested models flattened),
 * so the two models must share an architecture; the pairing does not depend
 * on which layers are frozen. A parameter is averaged when it is trainable in
 * either model (so DINO's temporarily frozen last layer still moves its
 * teacher); weights trainable in neither are buffers, averaged only with
 * `includeBuffers` (`m = 0` with `includeBuffers: true` copies everything).
 * No tensor survives the call.
 *
 * @param target the network that receives the average (not trained by the optimizer).
 * @param online the network trained by gradient descent.
 * @param momentum m in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { emaUpdate, projectionMlp } from 'selfsup';
 *
 * const online = projectionMlp({ inputDim: 4, hiddenDim: 8, outputDim: 2, seed: 1 });
 * const target = projectionMlp({ inputDim: 4, hiddenDim: 8, outputDim: 2, seed: 2 });
 * emaUpdate(target, online, 0, { includeBuffers: true }); // start as a copy
 * const x = tf.ones([2, 4]);
 * tf.train.sgd(0.1).minimize(() => tf.sum(online.apply(x) as tf.Tensor) as tf.Scalar); // a step on online
 * emaUpdate(target, online, 0.99); // θt ← 0.99·θt + 0.01·θo
 * ```
 */
export function emaUpdate(target: ModelWeights, online: ModelWeights, momentum: number, options: EmaUpdateOptions = {}): void {
  const fn = 'emaUpdate';
  assertKnownOptions(options, ['includeBuffers'], fn);
  assertInRange(momentum, 0, 1, fn, 'momentum');
  const { includeBuffers = false } = options;
  assertOneOf(includeBuffers, [true, false], fn, 'options.includeBuffers');
  const t = allVariables(target, fn, 'target');
  const o = allVariables(online, fn, 'online');
  if (t.length !== o.length) {
    throw new InvalidArgumentError(
      fn,
      'online',
      `have the same architecture as target (${t.length} weights)`,
      `${o.length} weights`,
    );
  }
  const pairs: [tf.Variable, tf.Variable][] = [];
  t.forEach((tv, i) => {
    const ov = o[i]!;
    const a = tv.variable;
    const b = ov.variable;
    if (a.rank !== b.rank || a.shape.some((d, j) => d !== b.shape[j])) {
      throw new ShapeError(
        fn,
        'online',
        `have the same architecture as target: weight ${i} (${tv.name}) has shape ${formatShape(a.shape)} in target`,
        `${formatShape(b.shape)} (${ov.name})`,
      );
    }
    if (a === b) throw new InvalidArgumentError(fn, 'online', 'be a different model from target', `the same variable at weight ${i}`);
    if (includeBuffers || tv.trainable || ov.trainable) pairs.push([a, b]);
  });
  if (momentum === 1) return;
  tf.tidy(() => {
    for (const [a, b] of pairs) {
      a.assign(momentum === 0 ? tf.clone(b) : tf.add(tf.mul(a, momentum), tf.mul(b, 1 - momentum)));
    }
  });
}
