/**
 * tfjs's optimizers, one kernel per variable.
 *
 * `tf.train.adam()` updates each variable with eleven element-wise ops (and
 * momentum SGD with four, plain SGD with two), each a kernel call with its
 * own output and bookkeeping. Where the active backend has selfsup's update
 * kernels (wasm, after `registerTrainingKernels`), the `applyGradients` of
 * tfjs's `AdamOptimizer`, `MomentumOptimizer` and `SGDOptimizer` classes runs
 * one kernel per variable instead, computing the same float32 operations in
 * the same order: the optimizers users create (`tf.train.adam(…)`, tfjs-layers'
 * `model.compile({ optimizer: 'adam' })`) get it unchanged, their state
 * (moments, accumulations, iteration count, `getWeights`/`setWeights`,
 * `dispose`) is the same objects, and the results are bit-for-bit tfjs's.
 * Nothing reads a value back to JavaScript: the bias corrections stay in
 * tfjs's scalar tensors. Other backends, other dtypes and gradients whose
 * shape differs from their variable's run tfjs's own code.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED, hasFusedKernel } from '../core/fused-kernels.js';

type Gradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The state tfjs's optimizer classes keep (not part of their public typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

interface MomentumState {
  c: tf.Scalar;
  m: tf.Scalar;
  useNesterov: boolean;
  accumulations: Slot[];
  incrementIterations(): void;
}

interface SgdState {
  c: tf.Scalar;
  incrementIterations(): void;
}

function names(grads: Gradients): string[] {
  return Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
}

function gradientOf(grads: Gradients, name: string, i: number): tf.Tensor | undefined {
  return Array.isArray(grads) ? grads[i]?.tensor : grads[name];
}

/** Whether every update can take the fused kernel (float32, gradient shaped like its variable). */
function fusable(kernel: string, grads: Gradients): boolean {
  if (!hasFusedKernel(kernel)) return false;
  const variables = tf.engine().registeredVariables;
  return names(grads).every((name, i) => {
    const value = variables[name];
    const g = gradientOf(grads, name, i);
    return value !== undefined && value.dtype === 'float32' && (g == null || (g.dtype === 'float32' && tf.util.arraysEqual(g.shape, value.shape)));
  });
}

/** A zero slot variable beside `value`, created as tfjs's optimizers create theirs. */
function slot(value: tf.Variable, name: string): Slot {
  return { originalName: name, variable: tf.tidy(() => tf.variable(tf.zerosLike(value), false)) };
}

function fusedAdam(this: AdamState, grads: Gradients): void {
  const variables = tf.engine().registeredVariables;
  tf.tidy(() => {
    const bias1 = tf.sub(1, this.accBeta1);
    const bias2 = tf.sub(1, this.accBeta2);
    names(grads).forEach((name, i) => {
      const value = variables[name]!;
      this.accumulatedFirstMoment[i] ??= slot(value, `${name}/m`);
      this.accumulatedSecondMoment[i] ??= slot(value, `${name}/v`);
      const gradient = gradientOf(grads, name, i);
      if (gradient == null) return;
      const m = this.accumulatedFirstMoment[i]!.variable;
      const v = this.accumulatedSecondMoment[i]!.variable;
      const [x1, m1, v1] = tf.engine().runKernel(
        FUSED.adam,
        { x: value, m, v, gradient, bias1, bias2 },
        { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate },
      ) as tf.Tensor[];
      m.assign(m1!);
      v.assign(v1!);
      value.assign(x1!);
    });
    this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
    this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
  });
  this.incrementIterations();
}

function fusedMomentum(this: MomentumState, grads: Gradients): void {
  const variables = tf.engine().registeredVariables;
  names(grads).forEach((name, i) => {
    const value = variables[name]!;
    this.accumulations[i] ??= slot(value, `${name}/momentum`);
    const accumulation = this.accumulations[i]!.variable;
    const gradient = gradientOf(grads, name, i);
    if (gradient == null) return;
    tf.tidy(() => {
      const [x1, a1] = tf.engine().runKernel(
        FUSED.momentum,
        { x: value, accumulation, gradient, c: this.c, momentum: this.m },
        { nesterov: this.useNesterov },
      ) as tf.Tensor[];
      accumulation.assign(a1!);
      value.assign(x1!);
    });
  });
  this.incrementIterations();
}

function fusedSgd(this: SgdState, grads: Gradients): void {
  const variables = tf.engine().registeredVariables;
  names(grads).forEach((name, i) => {
    const gradient = gradientOf(grads, name, i);
    if (gradient == null) return;
    const value = variables[name]!;
    tf.tidy(() => value.assign(tf.engine().runKernel(FUSED.sgd, { x: value, gradient, c: this.c }) as tf.Tensor));
  });
  this.incrementIterations();
}

type OptimizerClass = { prototype: { applyGradients(grads: Gradients): void } };

const PATCHES: [OptimizerClass, string, (this: never, grads: Gradients) => void][] = [
  [tf.AdamOptimizer as unknown as OptimizerClass, FUSED.adam, fusedAdam as (this: never, grads: Gradients) => void],
  [tf.MomentumOptimizer as unknown as OptimizerClass, FUSED.momentum, fusedMomentum as (this: never, grads: Gradients) => void],
  [tf.SGDOptimizer as unknown as OptimizerClass, FUSED.sgd, fusedSgd as (this: never, grads: Gradients) => void],
];

const originals = new Map<OptimizerClass, (grads: Gradients) => void>();

/**
 * Routes `applyGradients` of tfjs's Adam, momentum and SGD optimizer classes
 * (every instance, through their prototypes) to the fused kernels where the
 * active backend has them. Idempotent.
 */
export function installFusedOptimizers(): void {
  for (const [cls, kernel, fused] of PATCHES) {
    if (originals.has(cls)) continue;
    // Each class's own method (MomentumOptimizer overrides SGDOptimizer's).
    const original = cls.prototype.applyGradients;
    originals.set(cls, original);
    cls.prototype.applyGradients = function applyGradients(this: unknown, grads: Gradients): void {
      if (fusable(kernel, grads)) (fused as (this: unknown, grads: Gradients) => void).call(this, grads);
      else original.call(this, grads);
    };
  }
}

/** Whether {@link installFusedOptimizers} has run. */
export function fusedOptimizersInstalled(): boolean {
  return originals.size === PATCHES.length;
}
