import type * as tfl from '@tensorflow/tfjs-layers';
import { DisposedError, InvalidArgumentError } from '../core/errors.js';
import { assertInRange, assertKnownOptions, describeValue } from '../core/validate.js';
import { emaUpdate } from '../train/ema-update.js';
import { cloneEncoder } from './clone-encoder.js';
import { assertModelOptions } from './internal/common.js';
import type { ImageEncoder } from './pretext-task.js';

/** The online network a {@link TargetNetwork} follows. */
export interface OnlineNetwork {
  /** The online encoder (trained by gradient descent). */
  encoder: ImageEncoder;
  /**
   * The online heads the target also needs (MoCo's and BYOL's projector,
   * DINO's head), in order.
   * @default []
   */
  heads?: readonly tfl.LayersModel[];
}

/** Options of the {@link TargetNetwork} constructor. */
export interface TargetNetworkOptions {
  /**
   * A model with the encoder's architecture to use as the target encoder,
   * for encoders {@link cloneEncoder} cannot copy. Its weights are
   * overwritten with the online ones; the target never disposes it.
   * @default undefined (a clone made with `cloneEncoder`, disposed with the target)
   */
  targetEncoder?: ImageEncoder;
}

/**
 * The slowly moving copy of an online network that MoCo (momentum encoder),
 * BYOL (target network) and DINO (teacher) compute their targets with
 * (He et al. 2020; Grill et al. 2020; Caron et al. 2021). It starts as an
 * exact copy (weights and batch-norm statistics) and then moves only through
 * {@link TargetNetwork.update}, the exponential moving average
 * `θ_target ← m·θ_target + (1 − m)·θ_online` of {@link emaUpdate} — never by
 * gradients: pass the online variables (not these) to the optimizer.
 *
 * The encoder copy comes from {@link cloneEncoder} (tfjs-layers models and
 * selfsup's ViT), or from `options.targetEncoder`; the heads are cloned.
 * {@link TargetNetwork.dispose} frees the copies it made.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { mlpEncoder, projectionMlp, TargetNetwork, encodeImages } from 'selfsup';
 *
 * const encoder = mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed: 0 });
 * const projector = projectionMlp({ inputDim: 8, hiddenDim: 8, outputDim: 4, seed: 1 });
 * const target = new TargetNetwork({ encoder, heads: [projector] });
 * // … an optimizer step on encoder and projector …
 * target.update(0.99); // θt ← 0.99·θt + 0.01·θo
 * const keys = tf.tidy(() => target.heads[0]!.apply(encodeImages(target.encoder, tf.ones([2, 4, 4, 1]) as tf.Tensor4D, true)) as tf.Tensor);
 * console.log(keys.shape); // [2, 4]
 * target.dispose();
 * ```
 */
export class TargetNetwork {
  /** The target encoder. */
  readonly encoder: ImageEncoder;
  /** The target heads, in the order of the online heads. */
  readonly heads: tfl.LayersModel[];
  private readonly online: Required<OnlineNetwork>;
  private readonly ownsEncoder: boolean;
  private disposed = false;

  constructor(online: OnlineNetwork, options: TargetNetworkOptions = {}) {
    const fn = 'TargetNetwork';
    if (typeof online !== 'object' || online === null || typeof (online as OnlineNetwork).encoder?.apply !== 'function') {
      throw new InvalidArgumentError(fn, 'online', 'be { encoder, heads? } with an encoder model', describeValue(online));
    }
    assertKnownOptions(online, ['encoder', 'heads'], fn, 'online');
    assertKnownOptions(options, ['targetEncoder'], fn);
    assertModelOptions(options, ['targetEncoder'], fn);
    const heads = online.heads ?? [];
    if (!Array.isArray(heads)) throw new InvalidArgumentError(fn, 'online.heads', 'be an array of tfjs-layers models', describeValue(heads));
    heads.forEach((h, i) => assertModelOptions({ [`heads[${i}]`]: h }, [`heads[${i}]`], fn));
    this.online = { encoder: online.encoder, heads };
    this.ownsEncoder = options.targetEncoder === undefined;
    if (options.targetEncoder !== undefined && options.targetEncoder === online.encoder) {
      throw new InvalidArgumentError(fn, 'options.targetEncoder', 'be a separate model from the online encoder', 'the online encoder itself');
    }
    this.encoder = options.targetEncoder ?? cloneEncoder(online.encoder);
    try {
      if (!this.ownsEncoder) emaUpdate(this.encoder, online.encoder, 0, { includeBuffers: true });
      this.heads = heads.map((h) => cloneEncoder(h));
    } catch (e) {
      if (this.ownsEncoder) disposeModel(this.encoder);
      throw e;
    }
  }

  /**
   * One EMA step towards the online network with momentum m ∈ [0, 1]
   * (m = 1 leaves the target unchanged; m = 0 copies the online weights).
   * Batch-norm statistics are not averaged: the target keeps those of its own
   * forward passes, as in MoCo's, BYOL's and DINO's code.
   */
  update(momentum: number): void {
    const fn = 'TargetNetwork.update';
    if (this.disposed) throw new DisposedError(fn, 'a target network');
    assertInRange(momentum, 0, 1, fn, 'momentum');
    emaUpdate(this.encoder, this.online.encoder, momentum);
    this.heads.forEach((h, i) => emaUpdate(h, this.online.heads[i]!, momentum));
  }

  /** Whether {@link TargetNetwork.dispose} ran. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the copies this target made (not a `targetEncoder` you passed). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsEncoder) disposeModel(this.encoder);
    for (const h of this.heads) h.dispose();
  }
}

/** Disposes a model if it can be disposed (LayersModel, VisionTransformer). */
export function disposeModel(model: unknown): void {
  const m = model as { dispose?: () => unknown };
  if (typeof m?.dispose === 'function') m.dispose();
}
