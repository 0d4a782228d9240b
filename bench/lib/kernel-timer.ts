/**
 * Kernel-level profile of a training step on the wasm backend: every kernel
 * registered for the backend is wrapped with a timer, and each call is
 * attributed to a phase of the step from tfjs's scope stack (the engine runs
 * the loss under a scope named `forward` and the gradients under `backward`)
 * and from a flag set while the optimizer's `applyGradients` runs; what runs
 * outside `optimizer.minimize` is the augmentation.
 *
 * tf.profile gives the same per-kernel times (the wasm backend's timer is
 * wall time around each synchronous kernel), but it also reads every output
 * back to check for NaN, and it cannot tell the phases apart; this wrapper
 * costs two `performance.now()` and two `process.cpuUsage()` calls per
 * kernel. Wrappers of selfsup's kernels are adopted as selfsup's, so the
 * gradients that dispatch on them (ReLU, convolutions) behave as unprofiled.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adoptKernelWrapper } from '../../src/kernels/register.js';

export type Phase = 'augment' | 'forward' | 'backward' | 'optimizer';
export const PHASES: Phase[] = ['augment', 'forward', 'backward', 'optimizer'];

export interface KernelStat {
  phase: Phase;
  kernel: string;
  calls: number;
  /** Wall time inside the kernel. */
  ms: number;
  /** Process CPU time inside the kernel (what other jobs on the machine do not inflate). */
  cpuMs: number;
}

interface EngineState {
  scopeStack: { name: string }[];
}

let inOptimizer = false;
let byShape = false;
const stats = new Map<string, KernelStat>();
let wrapped: tf.KernelConfig[] | null = null;

function phaseNow(): Phase {
  if (inOptimizer) return 'optimizer';
  const stack = (tf.engine() as unknown as { state: EngineState }).state.scopeStack;
  for (let i = stack.length - 1; i >= 0; i--) {
    const name = stack[i]!.name;
    if (name === 'backward') return 'backward';
    if (name === 'forward') return 'forward';
  }
  return 'augment';
}

/** Input shapes and transpose flags of a call, for `--shapes` profiles. */
function shapeKey(args: Parameters<tf.KernelFunc>[0]): string {
  const shapes = Object.entries(args.inputs).map(([k, t]) => `${k}[${(t as tf.TensorInfo).shape.join(',')}]`);
  const flags = ['transposeA', 'transposeB'].filter((f) => args.attrs?.[f]).map((f) => f.replace('transpose', 't'));
  return ` ${shapes.join(' ')}${flags.length ? ` ${flags.join(',')}` : ''}`;
}

/**
 * Wraps every kernel of `backendName` with the timer (until {@link stopKernelTimer});
 * with `shapes`, calls are also told apart by their input shapes.
 */
export function startKernelTimer(backendName = 'wasm', shapes = false): void {
  byShape = shapes;
  if (wrapped) throw new Error('kernel timer already running');
  wrapped = tf.getKernelsForBackend(backendName);
  for (const config of wrapped) {
    const inner = config.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      const phase = phaseNow();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = inner(args);
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const cpuMs = (c1.user + c1.system) / 1000;
      const kernel = byShape ? `${config.kernelName}${shapeKey(args)}` : config.kernelName;
      const key = `${phase}/${kernel}`;
      const s = stats.get(key);
      if (s) {
        s.calls++;
        s.ms += ms;
        s.cpuMs += cpuMs;
      } else stats.set(key, { phase, kernel, calls: 1, ms, cpuMs });
      return out;
    };
    adoptKernelWrapper(kernelFunc, inner);
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc });
  }
}

/** Puts the original kernels back. */
export function stopKernelTimer(backendName = 'wasm'): void {
  if (!wrapped) return;
  for (const config of wrapped) {
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
  }
  wrapped = null;
}

/** Zeroes the counters. */
export function resetKernelStats(): void {
  stats.clear();
}

/** The counters so far (calls and ms per phase and kernel). */
export function kernelStats(): KernelStat[] {
  return [...stats.values()];
}

/** Attributes the kernels `optimizer.applyGradients` runs to the `optimizer` phase. */
export function markOptimizer(optimizer: tf.Optimizer): () => void {
  const original = optimizer.applyGradients.bind(optimizer);
  const instance = optimizer as unknown as { applyGradients: tf.Optimizer['applyGradients'] };
  instance.applyGradients = (grads) => {
    inOptimizer = true;
    try {
      original(grads);
    } finally {
      inOptimizer = false;
    }
  };
  return () => {
    delete (instance as { applyGradients?: unknown }).applyGradients;
  };
}
