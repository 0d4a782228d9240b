/**
 * The gradient of `tf.fused.conv2d` calls (what tfjs-layers' Conv2D runs:
 * with its bias and activation fused, or with neither).
 *
 * `tf.fused.conv2d` attaches its gradient with `tf.customGrad` inside the op,
 * and that gradient asserts dilation 1, so registering a Conv2D gradient does
 * not reach it. tfjs records such a node on the tape under the op's scope name
 * (`fusedConv2d__op`) and, when the node is recorded, uses a gradient
 * registered under that name instead of the op's own. The FusedConv2D kernel
 * runs inside the op just before the node is recorded, so a wrapper around the
 * kernel registers a gradient for exactly that call (carrying its attributes,
 * which custom-gradient nodes otherwise lack):
 *
 * - for dilated calls on every backend (tfjs's gradient refuses them);
 * - for every call with a linear or relu activation on a backend where
 *   selfsup's kernels run (wasm). There the activation's and the bias's
 *   gradients are one kernel (`SelfsupBiasActivationGrad`, one pass instead
 *   of Step, Multiply and Sum), and each input's gradient is computed only
 *   if the tape needs it: tfjs's custom gradient computes both
 *   convolution gradients eagerly, so the first layer of every network paid
 *   for an input gradient nobody reads.
 *
 * Other calls unregister it, so tfjs's gradient stays.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { conv2dFilterGrad, conv2dInputGrad, pair, type NativeDilationCheck } from './conv-gradients.js';

/** The tape name of `tf.fused.conv2d`'s custom-gradient node (tfjs's op name plus its `__op` scope suffix). */
export const FUSED_CONV2D_SCOPE = 'fusedConv2d__op';

/**
 * The gradient of one dilated call. `output` is that call's result: the node
 * being differentiated must have saved it (the op saves its result, and clones
 * share the buffer), so a node from a backend whose FusedConv2D selfsup did not
 * wrap cannot silently use another call's attributes.
 */
function fusedConv2dGradConfig(attrs: tf.NamedAttrMap, output: object, native: NativeDilationCheck): tf.GradConfig {
  const a = {
    strides: attrs['strides'],
    pad: attrs['pad'],
    dataFormat: attrs['dataFormat'],
    dimRoundingMode: attrs['dimRoundingMode'],
    dilations: pair(attrs['dilations']),
  };
  const activation = (attrs['activation'] as string | undefined) ?? 'linear';
  return {
    kernelName: FUSED_CONV2D_SCOPE,
    gradFunc: (dy, saved) => {
      // tfjs's op saves [filter, x4D, y] (+ bias) and names the node's inputs 0: x4D, 1: filter, 2: bias.
      const [filter, x, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined];
      if (y.dataId !== output) {
        throw new BackendError(
          'selfsup: a tf.fused.conv2d ran on a backend whose FusedConv2D kernel selfsup has not wrapped; ' +
            `call await registerTrainingKernels('${tf.getBackend()}') (or useBackend) after loading that backend`,
        );
      }
      // dz = dy·act'(y) and db = Σ dz, in one kernel where the backend has it.
      let dyAct = dy as tf.Tensor4D;
      let db: tf.Tensor | undefined;
      if (native(FUSED.biasActivationGrad) && (activation === 'relu' || (activation === 'linear' && bias))) {
        const out = tf.engine().runKernel(FUSED.biasActivationGrad, { dy: dy as tf.Tensor, y }, { activation, bias: bias !== undefined }) as tf.Tensor[];
        dyAct = out[0] as tf.Tensor4D;
        db = bias ? tf.reshape(out[1]!, bias.shape) : undefined;
      } else if (activation === 'relu') {
        dyAct = tf.mul(dyAct, tf.step(y));
      } else if (activation !== 'linear') {
        throw new Error(`Cannot compute gradient for fused activation ${activation}.`);
      }
      // Each input's gradient only when the tape asks for it (the network's input usually needs none).
      const grads: Record<string, () => tf.Tensor> = {
        0: () => conv2dInputGrad(x.shape, dyAct, filter, a, native),
        1: () => conv2dFilterGrad(x, dyAct, filter.shape, a, native),
      };
      if (bias) {
        grads[2] = () => {
          if (db) return db;
          const axes = tf.backend_util.getReductionAxes(bias.shape, dyAct.shape);
          return tf.reshape(axes.length > 0 ? tf.sum(dyAct, axes) : dyAct, bias.shape);
        };
      }
      return grads;
    },
  };
}

/**
 * Wraps a backend's FusedConv2D kernel so dilated calls get a working
 * gradient, and calls on a backend with selfsup's kernels the fused one (see
 * the module comment).
 */
export function fusedConv2dKernel(original: tf.KernelFunc, native: NativeDilationCheck): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    const [dh, dw] = pair(attrs['dilations']);
    const out = original(args) as tf.TensorInfo;
    const activation = (attrs['activation'] as string | undefined) ?? 'linear';
    const ours = native('Conv2DBackpropInput') && (activation === 'linear' || activation === 'relu') && args.inputs['preluActivationWeights'] === undefined;
    if (dh > 1 || dw > 1 || ours) tf.registerGradient(fusedConv2dGradConfig(attrs, out.dataId, native));
    else if (tf.getGradient(FUSED_CONV2D_SCOPE)) tf.unregisterGradient(FUSED_CONV2D_SCOPE);
    return out;
  };
}
