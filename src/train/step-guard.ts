/**
 * The pieces of a guarded optimizer step: gradients and one fused finite
 * check, an update applied only when the loss and every gradient are finite,
 * and a zero-copy snapshot of every variable that puts the weights, the
 * optimizer state and the EMA targets back exactly when a step is refused.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonFiniteError } from '../core/errors.js';
import { assertKnownOptions, assertOneOf, describeValue } from '../core/validate.js';
import { InvalidArgumentError } from '../core/errors.js';

/** What a guarded step does with a NaN or infinite loss or gradient. */
export type NonFinitePolicy = 'throw' | 'skip';

/**
 * Gradients of `loss` over `variables` and the fused check `[loss, ‖g‖²]`
 * (one sum of squares over all gradients: NaN or ∞ exactly when the loss or
 * a gradient is not finite, or the gradient norm overflows float32). The
 * caller disposes `grads` and `check`.
 */
export function gradientsWithCheck(
  optimizer: tf.Optimizer,
  loss: () => tf.Scalar,
  variables: tf.Variable[],
): { grads: { name: string; tensor: tf.Tensor }[]; check: tf.Tensor1D } {
  const { value, grads } = optimizer.computeGradients(loss, variables);
  const ordered = variables.filter((v) => grads[v.name] !== undefined).map((v) => ({ name: v.name, tensor: grads[v.name]! }));
  const check = tf.tidy(() => {
    // Pairwise sums, not one addN: tfjs-webgpu binds every addN input as a storage buffer,
    // and adapters allow as few as 8 per shader stage.
    let partial: tf.Tensor[] = ordered.map((g) => tf.sum(tf.square(g.tensor)));
    while (partial.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < partial.length; i += 2) next.push(i + 1 < partial.length ? tf.add(partial[i]!, partial[i + 1]!) : partial[i]!);
      partial = next;
    }
    const normSq = partial[0] ?? tf.scalar(0);
    return tf.stack([tf.reshape(value, []), normSq]) as tf.Tensor1D;
  });
  value.dispose();
  // Gradients of variables outside `variables` (none, by computeGradients' contract) would leak.
  for (const name of Object.keys(grads)) if (!ordered.some((g) => g.name === name)) grads[name]!.dispose();
  return { grads: ordered, check };
}

/** Why `[loss, ‖g‖²]` is not finite, or null when both are. */
export function nonFiniteReason(loss: number, normSq: number): string | null {
  if (!Number.isFinite(loss)) return `the loss is ${loss}`;
  if (!Number.isFinite(normSq)) {
    return Number.isNaN(normSq)
      ? 'a gradient holds NaN or an infinite value'
      : 'the gradient norm overflows float32 (a gradient holds an infinite value or values above 1.8e19)';
  }
  return null;
}

/**
 * The live tensors of every registered `tf.Variable`, held without copying
 * (a reference on their data, which `Variable.assign` swaps, never writes in
 * place), so that `restore()` puts back each variable a step changed:
 * weights, batch-norm statistics, optimizer slots, EMA targets, queues.
 * `release()` drops the references. Cost: one small object per variable, no
 * device work.
 */
export class VariableSnapshot {
  private readonly held: [tf.Variable, tf.Tensor][] = [];

  constructor() {
    const engine = tf.engine();
    const backend = engine.backend as unknown as { incRef?: (dataId: object) => void };
    const zeroCopy = typeof backend.incRef === 'function';
    for (const v of Object.values(engine.registeredVariables)) {
      if (v.isDisposed) continue;
      let kept: tf.Tensor;
      if (zeroCopy) {
        backend.incRef!(v.dataId);
        kept = engine.makeTensorFromTensorInfo({ dataId: v.dataId, shape: v.shape, dtype: v.dtype }, engine.backend);
      } else {
        kept = tf.clone(v);
      }
      this.held.push([v, kept]);
    }
  }

  /** Puts back every variable whose value changed since the snapshot, then releases it. */
  restore(): void {
    for (const [v, kept] of this.held) {
      if (!v.isDisposed && v.dataId !== kept.dataId) v.assign(kept);
    }
    this.release();
  }

  /** Drops the references (the step is committed). */
  release(): void {
    for (const [, kept] of this.held) kept.dispose();
    this.held.length = 0;
  }
}

/** The optimizer's step counter (a JS number tfjs keeps outside its variables). */
export function optimizerIterations(optimizer: tf.Optimizer): number | undefined {
  return (optimizer as unknown as { iterations_?: number }).iterations_;
}

/** Sets the optimizer's step counter back (see {@link optimizerIterations}). */
export function setOptimizerIterations(optimizer: tf.Optimizer, value: number | undefined): void {
  (optimizer as unknown as { iterations_?: number }).iterations_ = value;
}

/** Options of {@link minimizeFinite}. */
export interface MinimizeFiniteOptions {
  /**
   * What a NaN or infinite loss or gradient does: throw a `NonFiniteError`
   * (naming the step, the loss and the cause), or skip the update and return
   * with `applied: false`. Either way no update is applied.
   * @default 'throw'
   */
  onNonFinite?: NonFinitePolicy;
  /**
   * The step index, for the error message.
   * @default the optimizer's iteration count
   */
  step?: number;
}

/** What {@link minimizeFinite} returns. */
export interface MinimizeFiniteResult {
  /** The loss value (possibly not finite when the step was skipped). */
  loss: number;
  /** The gradient's global L2 norm (over all variables). */
  gradientNorm: number;
  /** Whether the update was applied. */
  applied: boolean;
}

/**
 * `optimizer.minimize` that never applies a NaN: computes the loss and the
 * gradients, checks them with one fused reduction (the global squared norm
 * of the gradients, read back with the loss in one read), and applies the
 * update only when both are finite. Otherwise the variables and the
 * optimizer state are left exactly as they were, and it throws a
 * `NonFiniteError` (default) or returns `applied: false` (`onNonFinite:
 * 'skip'`). For your own loops; selfsup's methods guard their steps this way
 * (and also restore batch-norm statistics and EMA targets).
 *
 * @param optimizer any tfjs optimizer.
 * @param loss a function returning the scalar loss.
 * @param variables the variables to update.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { minimizeFinite } from 'selfsup';
 *
 * const w = tf.variable(tf.scalar(2));
 * const optimizer = tf.train.sgd(0.1);
 * console.log(minimizeFinite(optimizer, () => tf.square(w) as tf.Scalar, [w])); // { loss: 4, gradientNorm: 4, applied: true }
 * const skipped = minimizeFinite(optimizer, () => tf.mul(w, NaN) as tf.Scalar, [w], { onNonFinite: 'skip' });
 * console.log(skipped.applied, w.dataSync()[0]); // false 1.6 (unchanged by the NaN step)
 * ```
 */
export function minimizeFinite(
  optimizer: tf.Optimizer,
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  options: MinimizeFiniteOptions = {},
): MinimizeFiniteResult {
  const fn = 'minimizeFinite';
  if (typeof optimizer !== 'object' || optimizer === null || typeof (optimizer as tf.Optimizer).computeGradients !== 'function') {
    throw new InvalidArgumentError(fn, 'optimizer', 'be a tf.Optimizer', describeValue(optimizer));
  }
  if (typeof loss !== 'function') throw new InvalidArgumentError(fn, 'loss', 'be a function returning a scalar', describeValue(loss));
  if (!Array.isArray(variables) || variables.length === 0) {
    throw new InvalidArgumentError(fn, 'variables', 'be a non-empty array of tf.Variable', describeValue(variables));
  }
  assertKnownOptions(options, ['onNonFinite', 'step'], fn);
  const { onNonFinite = 'throw' } = options;
  assertOneOf(onNonFinite, ['throw', 'skip'] as const, fn, 'options.onNonFinite');
  const { grads, check } = gradientsWithCheck(optimizer, loss, variables);
  const [value, normSq] = Array.from(check.dataSync());
  check.dispose();
  const reason = nonFiniteReason(value!, normSq!);
  if (reason !== null) {
    tf.dispose(grads.map((g) => g.tensor));
    if (onNonFinite === 'throw') throw new NonFiniteError(fn, options.step ?? optimizer.iterations, value!, reason);
    return { loss: value!, gradientNorm: Math.sqrt(normSq!), applied: false };
  }
  optimizer.applyGradients(grads);
  tf.dispose(grads.map((g) => g.tensor));
  return { loss: value!, gradientNorm: Math.sqrt(normSq!), applied: true };
}
