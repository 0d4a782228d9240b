/**
 * Base class of every error selfsup throws on purpose, so callers can tell a
 * usage problem from a tfjs internal failure with one `instanceof` check.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2Normalize, SelfsupError } from 'selfsup';
 *
 * try {
 *   l2Normalize(tf.scalar(3));
 * } catch (e) {
 *   if (!(e instanceof SelfsupError)) throw e;
 *   console.log(e.message); // l2Normalize: x must be a tensor of rank ≥ 1 [..., D], got rank 0 with shape []
 * }
 * ```
 */
export class SelfsupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * An argument failed validation. The message reads
 * `<function>: <argument> must <expected>, got <actual>`, and the parts are
 * kept as fields for programmatic handling.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from 'selfsup';
 *
 * const err = new InvalidArgumentError('myLoss', 'temperature', 'be a finite number > 0', '-1');
 * console.log(err.message); // myLoss: temperature must be a finite number > 0, got -1
 * console.log(err.functionName, err.argument);
 * ```
 */
export class InvalidArgumentError extends SelfsupError {
  /** The public function that rejected its input. */
  readonly functionName: string;
  /** The argument (or option) that was wrong, e.g. `z2` or `options.temperature`. */
  readonly argument: string;
  /** What was expected, phrased to follow "must". */
  readonly expected: string;
  /** What was given. */
  readonly actual: string;

  constructor(functionName: string, argument: string, expected: string, actual: string) {
    super(`${functionName}: ${argument} must ${expected}, got ${actual}`);
    this.functionName = functionName;
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A tensor argument has the wrong rank or shape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2Normalize, ShapeError } from 'selfsup';
 *
 * try {
 *   l2Normalize(tf.scalar(3));
 * } catch (e) {
 *   console.log(e instanceof ShapeError); // true
 * }
 * ```
 */
export class ShapeError extends InvalidArgumentError {}

/**
 * A tensor argument has the wrong dtype.
 *
 * @example
 * ```ts
 * import { DTypeError } from 'selfsup';
 *
 * const err = new DTypeError('rotationLoss', 'labels', 'have dtype int32', 'float32');
 * console.log(err instanceof DTypeError, err.message);
 * ```
 */
export class DTypeError extends InvalidArgumentError {}

/**
 * A number, option or tensor value lies outside the range the function accepts
 * (a temperature ≤ 0, a probability above 1, pixels outside [0, 1], …).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { l2Normalize, ValueRangeError } from 'selfsup';
 *
 * try {
 *   l2Normalize(tf.ones([4, 8]), { eps: 0 });
 * } catch (e) {
 *   console.log(e instanceof ValueRangeError); // true
 * }
 * ```
 */
export class ValueRangeError extends InvalidArgumentError {}

/**
 * A data file or package a loader needs is not present. The message says what
 * is missing and how to install it.
 *
 * @example
 * ```ts
 * import { loadFashionMnist, MissingDataError } from 'selfsup';
 *
 * try {
 *   loadFashionMnist({ directory: '/nonexistent' });
 * } catch (e) {
 *   console.log(e instanceof MissingDataError); // true
 * }
 * ```
 */
export class MissingDataError extends SelfsupError {}

/**
 * A backend could not be loaded, initialised or prepared for training.
 *
 * @example
 * ```ts
 * import { useBackend, BackendError } from 'selfsup';
 *
 * try {
 *   await useBackend('no-such-backend');
 * } catch (e) {
 *   console.log(e instanceof BackendError); // true
 * }
 * ```
 */
export class BackendError extends SelfsupError {}

/**
 * A call asks for more memory than the active backend can hold: the message
 * names the function and the argument, the bytes its outputs and
 * temporaries need, and what the backend has left (on wasm: the 4 GiB
 * address space of wasm32 less what is in use). Thrown before any work or
 * allocation, so the backend stays usable.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { randomResizedCrop, ResourceError } from 'selfsup';
 *
 * try {
 *   randomResizedCrop(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, { size: 100_000, seed: 1 });
 * } catch (e) {
 *   console.log(e instanceof ResourceError, (e as ResourceError).requiredBytes > (e as ResourceError).availableBytes); // true true
 * }
 * ```
 */
export class ResourceError extends SelfsupError {
  /** The public function that refused the call. */
  readonly functionName: string;
  /** The argument (or option) that asked for the memory, e.g. `options.size`. */
  readonly argument: string;
  /** Bytes the call would need (outputs and temporaries). */
  readonly requiredBytes: number;
  /** Bytes the backend can still provide. */
  readonly availableBytes: number;

  constructor(functionName: string, argument: string, requiredBytes: number, availableBytes: number, detail: string) {
    super(`${functionName}: ${argument} ${detail}`);
    this.functionName = functionName;
    this.argument = argument;
    this.requiredBytes = requiredBytes;
    this.availableBytes = availableBytes;
  }
}

/**
 * A training step met a NaN or infinite loss or gradient and refused to
 * apply it: the weights, the optimizer state and the EMA targets are as they
 * were before the step. Names the step, the loss and the cause.
 *
 * @example
 * ```ts
 * import { NonFiniteError } from 'selfsup';
 *
 * const err = new NonFiniteError('SimCLR.step', 12, NaN, 'the loss is NaN');
 * console.log(err.message, err.step, err.reason);
 * ```
 */
export class NonFiniteError extends SelfsupError {
  /** The public function (method) that refused the step. */
  readonly functionName: string;
  /** The step index (steps taken before this one). */
  readonly step: number;
  /** The loss value of the step (NaN, ±Infinity, or finite when a gradient was not). */
  readonly loss: number;
  /** What was not finite, e.g. `'the loss is NaN'` or `'the gradient is not finite (squared norm Infinity)'`. */
  readonly reason: string;

  constructor(functionName: string, step: number, loss: number, reason: string) {
    super(
      `${functionName}: step ${step} was not applied: ${reason} (loss ${loss}); the weights, optimizer state and ` +
        `targets are unchanged. Lower the learning rate, check the inputs, or pass onNonFinite: 'skip' to skip such batches`,
    );
    this.functionName = functionName;
    this.step = step;
    this.loss = loss;
    this.reason = reason;
  }
}

/**
 * A method was called on an object after its `dispose()`.
 *
 * @example
 * ```ts
 * import { MemoryBank, DisposedError } from 'selfsup';
 *
 * const bank = new MemoryBank({ size: 4, dim: 2, seed: 0 });
 * bank.dispose();
 * try {
 *   bank.read();
 * } catch (e) {
 *   console.log(e instanceof DisposedError); // true
 * }
 * ```
 */
export class DisposedError extends InvalidArgumentError {
  constructor(functionName: string, what: string) {
    super(functionName, 'this', 'not be disposed', `${what} that was disposed`);
  }
}

/**
 * A checkpoint cannot be used: it is missing, truncated or corrupted (a
 * checksum differs), or it was saved by another method or with other shapes
 * or options than the task it is loaded into. The message names the
 * checkpoint and what differs; nothing of the task has been changed when it
 * is thrown.
 *
 * @example
 * ```ts
 * import { CheckpointError, SelfsupError } from 'selfsup';
 *
 * const err = new CheckpointError('loadCheckpoint', 'the checkpoint holds SimCLR, this task is BYOL');
 * console.log(err instanceof SelfsupError, err.message); // true loadCheckpoint: the checkpoint holds SimCLR, this task is BYOL
 * ```
 */
export class CheckpointError extends SelfsupError {
  /** The function that refused the checkpoint. */
  readonly functionName: string;
  /** What is wrong with it, without the function name. */
  readonly reason: string;
  constructor(functionName: string, reason: string) {
    super(`${functionName}: ${reason}`);
    this.functionName = functionName;
    this.reason = reason;
  }
}
