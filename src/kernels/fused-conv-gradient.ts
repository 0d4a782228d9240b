/**
 * Training dilated `tf.fused.conv2d` calls (what tfjs-layers' Conv2D runs for
 * a layer with no activation or a linear one).
 *
 * `tf.fused.conv2d` attaches its gradient with `tf.customGrad` inside the op,
 * and that gradient asserts dilation 1, so registering a Conv2D gradient does
 * not reach it. tfjs records such a node on the tape under the op's scope name
 * (`fusedConv2d__op`) and, when the node is recorded, uses a gradient
 * registered under that name instead of the op's own. The FusedConv2D kernel
 * runs inside the op just before the node is recorded, so a wrapper around the
 * kernel registers a gradient for exactly that call when it is dilated
 * (carrying its attributes, which custom-gradient nodes otherwise lack) and
 * removes it for undilated calls, whose tfjs gradient is left untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
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
          'selfsup: a dilated tf.fused.conv2d ran on a backend whose FusedConv2D kernel selfsup has not wrapped; ' +
            `call await registerTrainingKernels('${tf.getBackend()}') (or useBackend) after loading that backend`,
        );
      }
      let dyAct = dy as tf.Tensor4D;
      if (activation === 'relu') dyAct = tf.mul(dyAct, tf.step(y));
      else if (activation !== 'linear') throw new Error(`Cannot compute gradient for fused activation ${activation}.`);
      const grads: Record<string, () => tf.Tensor> = {
        0: () => conv2dInputGrad(x.shape, dyAct, filter, a, native),
        1: () => conv2dFilterGrad(x, dyAct, filter.shape, a, native),
      };
      if (bias) {
        grads[2] = () => {
          const axes = tf.backend_util.getReductionAxes(bias.shape, dyAct.shape);
          return tf.reshape(axes.length > 0 ? tf.sum(dyAct, axes) : dyAct, bias.shape);
        };
      }
      return grads;
    },
  };
}

/** Wraps a backend's FusedConv2D kernel so dilated calls get a working gradient (see the module comment). */
export function fusedConv2dKernel(original: tf.KernelFunc, native: NativeDilationCheck): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    const [dh, dw] = pair(attrs['dilations']);
    const out = original(args) as tf.TensorInfo;
    if (dh > 1 || dw > 1) tf.registerGradient(fusedConv2dGradConfig(attrs, out.dataId, native));
    else if (tf.getGradient(FUSED_CONV2D_SCOPE)) tf.unregisterGradient(FUSED_CONV2D_SCOPE);
    return out;
  };
}
