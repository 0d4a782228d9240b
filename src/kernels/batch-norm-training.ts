/**
 * Batch normalisation of a training batch as one kernel forward and one
 * backward, for tfjs-layers' own `BatchNormalization` layer as users write it.
 *
 * In training mode the layer computes `tf.moments` (Mean, Sub, Square, Mean)
 * and then `FusedBatchNorm`; autodiff then runs tfjs-core's FusedBatchNorm
 * gradient and the moments' gradients: about thirty element-wise kernels over
 * the activation per layer, the largest cost of a conv encoder's step after
 * the convolutions. Where the active backend has selfsup's
 * `SelfsupBatchNormTrain` kernel (wasm, after `registerTrainingKernels`), the
 * layer's `call` runs that kernel instead, whose registered gradient is one
 * `SelfsupBatchNormTrainGrad` kernel; the moving averages are updated with
 * the layer's own arithmetic. Everything else (inference mode, an axis other
 * than the last, a layer without scale or offset, other backends) runs
 * tfjs-layers' code unchanged.
 *
 * The forward values are the composition's bit for bit on wasm (same
 * statistics, same normalisation kernel); the gradient is the exact
 * derivative computed in a different order (equal within float32 rounding).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';

/** Gradient of `SelfsupBatchNormTrain` (x, scale, offset; through y and the statistics). */
export const batchNormTrainGradConfig: tf.GradConfig = {
  kernelName: FUSED.batchNormTrain,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [x, scale, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    // One kernel gives all three; computed once here, handed out by the closures.
    const [dx, dscale, doffset] = tf.engine().runKernel(
      FUSED.batchNormTrainGrad,
      { dy: dy!, dmean: dmean!, dvariance: dvariance!, x, mean, variance, scale },
      attrs,
    ) as tf.Tensor[];
    return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
  },
};

/**
 * `[y, mean, variance]` of a training batch normalised over every axis but
 * the last: tfjs-layers' `normalizeBatchInTraining` for channels-last input,
 * as one kernel on backends that have it and the same composition as
 * tfjs-layers elsewhere. Differentiable in x, scale and offset.
 */
export function batchNormTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (hasFusedKernel(FUSED.batchNormTrain)) {
    return tf.engine().runKernel(FUSED.batchNormTrain, { x, scale, offset }, { varianceEpsilon: epsilon }) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return [tf.batchNorm(x, mean, variance, offset, scale, epsilon), mean, variance];
  });
}

/** The fields of tfjs-layers' BatchNormalization the fused path reads (typed structurally: they are not public). */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: { read(): tf.Tensor };
  beta?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/** tfjs-layers' `doMovingAverage`, the same ops: v ← v − (v − value)·(1 − momentum). */
function movingAverage(variable: BatchNormLayer['movingMean'], value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
  });
}

let originalCall: BatchNormLayer['call'] | undefined;

/**
 * tfjs-layers' BatchNormalization class's prototype, found in tfjs's
 * serialization registry (where tfjs-layers registers its layer classes when it
 * is loaded), so that no layer is created (a layer would take an automatic
 * name); `undefined` while tfjs-layers is not loaded. Not imported here: an app
 * that trains without tfjs-layers (a loss on its own model) must not bundle it
 * through `useBackend`.
 */
function batchNormalizationPrototype(): BatchNormLayer | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  const cls = entry?.[0] as unknown as { prototype: BatchNormLayer } | undefined;
  if (!cls) return undefined;
  if (typeof cls.prototype.call !== 'function') {
    throw new BackendError("selfsup: tfjs-layers' BatchNormalization class has no call method; is @tensorflow/tfjs-layers 4.x installed?");
  }
  return cls.prototype;
}

/** The input the fused path takes, or null for tfjs-layers' own code. */
function fusedInput(layer: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> | undefined): tf.Tensor | null {
  if (kwargs?.['training'] !== true || !hasFusedKernel(FUSED.batchNormTrain)) return null;
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.rank < 2) return null;
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
  if (axis !== x.rank - 1 || !layer.center || !layer.scale || !layer.gamma || !layer.beta) return null;
  return x;
}

/**
 * Routes tfjs-layers' BatchNormalization layers (every instance, through the
 * class's prototype) to {@link batchNormTraining} in training mode where the
 * active backend has the fused kernel. Idempotent; nothing changes on
 * backends without the kernel. Does nothing while tfjs-layers is not loaded
 * (it is by then in Node, where `registerGradients` imports it, and in any app
 * that imports it or selfsup's heads and tasks statically; one that loads it
 * later calls `useBackend` again).
 */
export function installBatchNormTraining(): void {
  if (originalCall) return;
  const proto = batchNormalizationPrototype();
  if (!proto) return;
  const original = proto.call;
  originalCall = original;
  proto.call = function fusedBatchNormCall(this: BatchNormLayer, inputs, kwargs) {
    const x = fusedInput(this, inputs, kwargs);
    if (x === null) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormTraining(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
      movingAverage(this.movingMean, mean, this.momentum);
      movingAverage(this.movingVariance, variance, this.momentum);
      return y;
    });
  };
}

/** Whether {@link installBatchNormTraining} has routed the layer (for backendInfo and tests). */
export function batchNormTrainingInstalled(): boolean {
  return originalCall !== undefined;
}
