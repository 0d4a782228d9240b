/**
 * Optimizer-update kernels for the wasm backend (src/kernels/c/optimizer.c):
 * one pass per variable computing tfjs's own update arithmetic in its order
 * (bit-for-bit tfjs's results). src/kernels/fused-optimizers.ts routes
 * tfjs's `AdamOptimizer`, `MomentumOptimizer` and `SGDOptimizer` to them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { FUSED } from '../core/fused-kernels.js';
import { kernelsFor, type KernelInstance, type WasmBackendLike } from './wasm-runtime.js';

/**
 * Elements per thread's share: a multiple of 4, so every element takes the
 * same SIMD or scalar path as on one thread (any split gives the same bits),
 * and of whole cache lines.
 */
const GRAIN = 1024;

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function setup(args: KernelArgs, kernel: string, names: string[]): [WasmBackendLike, KernelInstance, (name: string) => number, tf.TensorInfo] {
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsFor(backend);
  const x = args.inputs['x'];
  for (const name of names) {
    const t = args.inputs[name];
    if (!t || t.dtype !== 'float32') throw new BackendError(`${kernel}: input '${name}' must be a float32 tensor`);
    if (name !== 'x' && t.shape.length > 0 && !tf.util.arraysEqual(t.shape, x!.shape)) {
      throw new BackendError(`${kernel}: input '${name}' has shape [${t.shape}], the variable [${x!.shape}]`);
    }
  }
  return [backend, kernels, (name) => kernels.offset(args.inputs[name]!.dataId), x!];
}

/** `SelfsupAdam`: x, m, v, gradient, bias1 (1 − β1ᵗ), bias2 (1 − β2ᵗ) → x', m', v'. */
export function adamWasm(args: KernelArgs): tf.TensorInfo[] {
  const [backend, kernels, at, x] = setup(args, FUSED.adam, ['x', 'm', 'v', 'gradient', 'bias1', 'bias2']);
  const { beta1, beta2, epsilon, learningRate } = args.attrs as { beta1: number; beta2: number; epsilon: number; learningRate: number };
  const out = [backend.makeOutput([...x.shape], 'float32'), backend.makeOutput([...x.shape], 'float32'), backend.makeOutput([...x.shape], 'float32')];
  const [xo, mo, vo] = out.map((t) => kernels.offset(t.dataId)) as [number, number, number];
  // The constants as tfjs's ops see them: 1 − β computed in double, then each rounded to float32 on the way in.
  const n = tf.util.sizeFromShape(x.shape);
  kernels.run('adam_update', [at('x'), at('m'), at('v'), at('gradient'), xo, mo, vo, at('bias1'), at('bias2'),
    beta1, 1 - beta1, beta2, 1 - beta2, epsilon, -learningRate], n, { work: 12 * n, grain: GRAIN });
  return out;
}

/** `SelfsupMomentum`: x, accumulation, gradient, c (−lr), momentum (scalars) → x', accumulation'. */
export function momentumWasm(args: KernelArgs): tf.TensorInfo[] {
  const [backend, kernels, at, x] = setup(args, FUSED.momentum, ['x', 'accumulation', 'gradient', 'c', 'momentum']);
  const out = [backend.makeOutput([...x.shape], 'float32'), backend.makeOutput([...x.shape], 'float32')];
  const [xo, ao] = out.map((t) => kernels.offset(t.dataId)) as [number, number];
  const n = tf.util.sizeFromShape(x.shape);
  kernels.run('momentum_update', [at('x'), at('accumulation'), at('gradient'), xo, ao, at('c'), at('momentum'),
    args.attrs?.['nesterov'] ? 1 : 0], n, { work: 5 * n, grain: GRAIN });
  return out;
}

/** `SelfsupSgd`: x, gradient, c (−lr, a scalar) → x'. */
export function sgdWasm(args: KernelArgs): tf.TensorInfo {
  const [backend, kernels, at, x] = setup(args, FUSED.sgd, ['x', 'gradient', 'c']);
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  kernels.run('sgd_update', [at('x'), at('gradient'), kernels.offset(out.dataId), at('c')], n, { work: 3 * n, grain: GRAIN });
  return out;
}
