/**
 * The pieces of a pre-norm Vision Transformer as plain functions of tensors,
 * and the variable store the ViT and the MAE decoder keep their weights in.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, InvalidArgumentError, ShapeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { customGradient } from '../core/custom-gradient.js';
import { isMarkedValidPatchIds } from '../core/patches.js';
import { oneHotFloat } from '../core/one-hot.js';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';
import { assertTensor, formatShape } from '../core/validate.js';
import { kernelValues } from './init.js';

/** The weights of one named parameter. */
interface StoredParameter {
  name: string;
  variable: tf.Variable;
}

/**
 * An ordered set of named variables. Names are ours (`block0.qkv.kernel`); the
 * tfjs variables get engine-unique automatic names, so two models can coexist.
 */
export class ParameterStore {
  private readonly params: StoredParameter[] = [];
  private disposed = false;

  /** `owner` names the model in error messages, e.g. `'VisionTransformer'`. */
  constructor(private readonly owner: string) {}

  /** Creates a variable from `values` (copied) and remembers it under `name`. */
  add(name: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.params.push({ name, variable });
    return variable;
  }

  get names(): string[] {
    return this.params.map((p) => p.name);
  }

  get variables(): tf.Variable[] {
    this.assertLive();
    return this.params.map((p) => p.variable);
  }

  get trainableVariables(): tf.Variable[] {
    return this.variables.filter((v) => v.trainable);
  }

  get numParameters(): number {
    return this.params.reduce((n, p) => n + p.variable.size, 0);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Copies of every weight, in {@link names} order. */
  getWeights(): tf.Tensor[] {
    return this.variables.map((v) => tf.clone(v));
  }

  /** Assigns `weights` (in {@link names} order, same shapes) to the variables. */
  setWeights(weights: readonly tf.Tensor[], fn: string): void {
    const vars = this.variables;
    if (!Array.isArray(weights) || weights.length !== vars.length) {
      throw new InvalidArgumentError(
        fn,
        'weights',
        `be an array of ${vars.length} tensors (one per entry of weightNames)`,
        Array.isArray(weights) ? `an array of length ${weights.length}` : String(weights),
      );
    }
    vars.forEach((v, i) => {
      const w: unknown = weights[i];
      assertTensor(w, fn, `weights[${i}]`);
      if (w.rank !== v.rank || w.shape.some((d: number, j: number) => d !== v.shape[j])) {
        throw new ShapeError(fn, `weights[${i}]`, `have shape ${formatShape(v.shape)} (${this.params[i]!.name})`, formatShape(w.shape));
      }
    });
    vars.forEach((v, i) => v.assign(weights[i]!));
  }

  dispose(): void {
    if (this.disposed) return;
    for (const p of this.params) p.variable.dispose();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError(this.owner, 'a model');
  }
}

/**
 * The weight-handling surface shared by selfsup's functional models (the tiny
 * ViT and MAE's decoder): their weights live in one {@link ParameterStore},
 * and both expose it the way a tfjs-layers model does, so optimizers, target
 * networks and save/load code treat them alike.
 */
export abstract class StoredWeightsModel {
  /** @internal The model's weights. */
  protected readonly store: ParameterStore;

  /** `owner` names the model in error messages, e.g. `'VisionTransformer'`. */
  protected constructor(private readonly owner: string) {
    this.store = new ParameterStore(owner);
  }

  /** Every variable, trainable or not (a fixed table such as sine-cosine positions is not), in `weightNames` order. */
  get variables(): tf.Variable[] {
    return this.store.variables;
  }

  /** The variables an optimizer should update (pass them as `varList`). */
  get trainableVariables(): tf.Variable[] {
    return this.store.trainableVariables;
  }

  /** Names of the weights, e.g. `block0.qkv.kernel`. */
  get weightNames(): string[] {
    return this.store.names;
  }

  /** Number of scalar weights. */
  get numParameters(): number {
    return this.store.numParameters;
  }

  /** Copies of every weight (dispose them), for saving or for a target network. */
  getWeights(): tf.Tensor[] {
    return this.store.getWeights();
  }

  /** Loads weights in `weightNames` order (shapes are checked). */
  setWeights(weights: readonly tf.Tensor[]): void {
    this.store.setWeights(weights, `${this.owner}.setWeights`);
  }

  /** Whether `dispose` ran. */
  get isDisposed(): boolean {
    return this.store.isDisposed;
  }

  /** Frees the weights. */
  dispose(): void {
    this.store.dispose();
  }

  /** Throws the error of a call `fn` on a disposed model. */
  protected assertNotDisposed(fn: string): void {
    if (this.store.isDisposed) throw new DisposedError(fn, 'a model');
  }
}

/** The weights of one pre-norm transformer block. */
export interface BlockParams {
  norm1Gamma: tf.Tensor;
  norm1Beta: tf.Tensor;
  qkvKernel: tf.Tensor;
  qkvBias: tf.Tensor;
  projKernel: tf.Tensor;
  projBias: tf.Tensor;
  norm2Gamma: tf.Tensor;
  norm2Beta: tf.Tensor;
  fc1Kernel: tf.Tensor;
  fc1Bias: tf.Tensor;
  fc2Kernel: tf.Tensor;
  fc2Bias: tf.Tensor;
}

/** Adds a block's variables to `store`, initialised as MAE (Xavier-uniform linear layers, zero biases, LayerNorm 1/0). */
export function createBlock(store: ParameterStore, prefix: string, dim: number, hidden: number, rng: Rng): BlockParams {
  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);
  const linear = (name: string, din: number, dout: number): [tf.Variable, tf.Variable] => [
    store.add(`${prefix}.${name}.kernel`, [din, dout], kernelValues(rng, [din, dout], 'xavier')),
    store.add(`${prefix}.${name}.bias`, [dout], zeros(dout)),
  ];
  const norm1Gamma = store.add(`${prefix}.norm1.gamma`, [dim], ones(dim));
  const norm1Beta = store.add(`${prefix}.norm1.beta`, [dim], zeros(dim));
  const [qkvKernel, qkvBias] = linear('qkv', dim, 3 * dim);
  const [projKernel, projBias] = linear('proj', dim, dim);
  const norm2Gamma = store.add(`${prefix}.norm2.gamma`, [dim], ones(dim));
  const norm2Beta = store.add(`${prefix}.norm2.beta`, [dim], zeros(dim));
  const [fc1Kernel, fc1Bias] = linear('fc1', dim, hidden);
  const [fc2Kernel, fc2Bias] = linear('fc2', hidden, dim);
  return {
    norm1Gamma,
    norm1Beta,
    qkvKernel,
    qkvBias,
    projKernel,
    projBias,
    norm2Gamma,
    norm2Beta,
    fc1Kernel,
    fc1Bias,
    fc2Kernel,
    fc2Bias,
  };
}

/** `x · W + b` over the last axis of a `[B, T, Din]` tensor. */
export function linear(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const [b, t, d] = x.shape as [number, number, number];
  const y = tf.matMul(tf.reshape(x, [b * t, d]) as tf.Tensor2D, kernel as tf.Tensor2D);
  return tf.reshape(tf.add(y, bias), [b, t, kernel.shape[1]!]);
}

/** Layer normalisation over the last axis (biased variance, as PyTorch's `nn.LayerNorm`). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Exact GELU, `x · Φ(x)` with the error function (PyTorch's `nn.GELU()` default). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && hasFusedKernel(FUSED.gelu)) return fusedGelu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** GELU as one kernel forward and one backward (selfsup's wasm kernels; the same function to float32 rounding). */
const fusedGelu = customGradient((save, x: tf.Tensor) => {
  save([x]);
  return {
    value: tf.engine().runKernel(FUSED.gelu, { x }) as tf.Tensor,
    gradFunc: (dy, [saved]) => tf.engine().runKernel(FUSED.geluGrad, { x: saved!, dy }) as tf.Tensor,
  };
});

/**
 * Multi-head self-attention of Vaswani et al. 2017 on `[B, T, D]`: one fused
 * qkv projection laid out `[q | k | v]` with heads contiguous inside each (as
 * timm's ViT), `softmax(q·kᵀ / √d_h)·v` per head, then the output projection.
 */
export function selfAttention(x: tf.Tensor, p: BlockParams, heads: number): tf.Tensor {
  const [b, t, d] = x.shape as [number, number, number];
  const dh = d / heads;
  const qkv = linear(x, p.qkvKernel, p.qkvBias);
  const [q, k, v] = tf.split(qkv, 3, 2).map((part) => tf.transpose(tf.reshape(part, [b, t, heads, dh]), [0, 2, 1, 3]));
  // An explicit transpose instead of matMul's transpose flag: the flag is ~10× slower on wasm.
  const scores = tf.mul(tf.matMul(q!, tf.transpose(k!, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
  const attended = tf.matMul(tf.softmax(scores), v!);
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b, t, d]);
  return linear(merged, p.projKernel, p.projBias);
}

/** A pre-norm block: `x + Attn(LN(x))`, then `x + MLP(LN(x))` with a GELU MLP. */
export function transformerBlock(x: tf.Tensor, p: BlockParams, heads: number, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const attended = tf.add(x, selfAttention(layerNorm(x, p.norm1Gamma, p.norm1Beta, eps), p, heads));
    const hidden = gelu(linear(layerNorm(attended, p.norm2Gamma, p.norm2Beta, eps), p.fc1Kernel, p.fc1Bias));
    return tf.add(attended, linear(hidden, p.fc2Kernel, p.fc2Bias));
  });
}

/**
 * MAE's fixed 2-D sine-cosine positional embedding, `[gridH·gridW, D]` row-major:
 * the first D/2 channels encode the column index and the last D/2 the row
 * index, each as `[sin(pos·ω), cos(pos·ω)]` with `ω_i = 10000^(−i/(D/4))`
 * (MAE's `get_2d_sincos_pos_embed`, whose meshgrid puts w first). D must be a
 * multiple of 4.
 */
export function sincosPositionalEmbedding(gridH: number, gridW: number, dim: number): Float32Array {
  const out = new Float32Array(gridH * gridW * dim);
  const quarter = dim / 4;
  for (let r = 0; r < gridH; r++) {
    for (let c = 0; c < gridW; c++) {
      const row = (r * gridW + c) * dim;
      for (let i = 0; i < quarter; i++) {
        const omega = 1 / 10000 ** (i / quarter);
        out[row + i] = Math.sin(c * omega);
        out[row + quarter + i] = Math.cos(c * omega);
        out[row + 2 * quarter + i] = Math.sin(r * omega);
        out[row + 3 * quarter + i] = Math.cos(r * omega);
      }
    }
  }
  return out;
}

/**
 * `[B, K]` int32 ids of kept patches → a float one-hot selection `[B, K, L]`.
 * Gathering by matMul with it keeps the gradient on every backend (tfjs's
 * gather gradient needs UnsortedSegmentSum, which wasm lacks).
 */
export function selectionMatrix(ids: tf.Tensor, numPatches: number): tf.Tensor3D {
  return oneHotFloat(ids, numPatches) as tf.Tensor3D;
}

/** Throws unless `ids` is an int32 `[B, K]` tensor of distinct patch indices in [0, L). */
export function assertPatchIds(ids: unknown, batch: number, numPatches: number, fn: string, arg: string): void {
  if (!(typeof ids === 'object' && ids !== null && 'dtype' in ids && 'shape' in ids)) {
    throw new InvalidArgumentError(fn, arg, 'be an int32 tensor [B, K] of patch indices', String(ids));
  }
  const t = ids as tf.Tensor;
  if (t.isDisposed) throw new InvalidArgumentError(fn, arg, 'be a live tensor', 'a tensor that was already disposed');
  if (t.rank !== 2 || t.shape[0] !== batch || t.shape[1]! < 1 || t.shape[1]! > numPatches) {
    throw new ShapeError(fn, arg, `have shape [B, K] = [${batch}, K] with 1 ≤ K ≤ ${numPatches}`, formatShape(t.shape));
  }
  if (t.dtype !== 'int32') throw new InvalidArgumentError(fn, arg, 'have dtype int32', t.dtype);
  // randomPatchMask's indices are valid by construction: no read back (MAE checks them twice per step).
  if (isMarkedValidPatchIds(t, numPatches)) return;
  const data = t.dataSync();
  const k = t.shape[1]!;
  const seen = new Uint8Array(numPatches);
  for (let r = 0; r < batch; r++) {
    seen.fill(0);
    for (let j = 0; j < k; j++) {
      const id = data[r * k + j]!;
      if (!(id >= 0 && id < numPatches)) {
        throw new InvalidArgumentError(fn, arg, `hold patch indices in [0, ${numPatches - 1}]`, `${id} in row ${r}`);
      }
      if (seen[id]) throw new InvalidArgumentError(fn, arg, 'hold distinct indices in each row', `${id} twice in row ${r}`);
      seen[id] = 1;
    }
  }
}
