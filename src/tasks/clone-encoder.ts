import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { emaUpdate } from '../train/ema-update.js';
import type { ImageEncoder } from './pretext-task.js';

type Cloneable = { clone(): unknown };
type FromConfig = {
  fromConfig(cls: unknown, config: unknown, customObjects?: unknown, fastWeightInit?: boolean): tfl.LayersModel;
};

function hasClone(m: unknown): m is Cloneable {
  return typeof m === 'object' && m !== null && typeof (m as Cloneable).clone === 'function';
}

/**
 * An independent copy of a model — same architecture, a copy of every weight
 * (batch-norm statistics included) — for the momentum encoder of MoCo, the
 * target network of BYOL and the teacher of DINO, which start as copies of the
 * online network and then move by {@link emaUpdate} only.
 *
 * - A tfjs-layers `LayersModel` or `Sequential` (`convEncoder`, `mlpEncoder`,
 *   the heads, your own model) is rebuilt from its JSON config
 *   (`model.getConfig()`, the same config `model.save` writes; custom layers
 *   must be registered, as selfsup's are) and then receives the weights.
 * - Anything with a `clone()` method (selfsup's `VisionTransformer`) is cloned
 *   with it.
 *
 * Anything else throws: build the copy yourself and pass it to the method as
 * `targetEncoder`. The copy is the caller's to dispose.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { cloneEncoder, mlpEncoder } from 'selfsup';
 *
 * const online = mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 0 });
 * const target = cloneEncoder(online);
 * const x = tf.ones([1, 4, 4, 1]);
 * console.log(tf.equal(online.predict(x) as tf.Tensor, target.predict(x) as tf.Tensor).dataSync().every((v) => v === 1)); // true
 * target.dispose();
 * ```
 */
export function cloneEncoder<T extends ImageEncoder | tfl.LayersModel>(model: T): T {
  const fn = 'cloneEncoder';
  if (hasClone(model)) return model.clone() as T;
  if (model instanceof tfl.LayersModel) {
    const cls = model.constructor as unknown as FromConfig;
    // fastWeightInit skips the initialisers: every weight is overwritten next.
    const copy = cls.fromConfig(model.constructor, model.getConfig(), {}, true);
    emaUpdate(copy, model, 0, { includeBuffers: true });
    return copy as unknown as T;
  }
  throw new InvalidArgumentError(
    fn,
    'model',
    'be a tfjs-layers LayersModel or have a clone() method (selfsup VisionTransformer); otherwise build the copy yourself and pass it as options.targetEncoder',
    describeValue(model),
  );
}
