import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { conv2dGradConfig, depthwiseConv2dGradConfig } from './conv-gradients.js';
import {
  conv2dBackpropFilterWasm,
  conv2dBackpropInputWasm,
  depthwiseBackpropFilterWasm,
  depthwiseBackpropInputWasm,
} from './conv-backprop-wasm.js';
import { RELU_GRAD_KERNEL, reluGradConfig, reluGradKernelGradConfig } from './activation-gradients.js';
import { castWasm, identityWasm, matMulWasm, reluGradWasm, sumWasm } from './data-movement-wasm.js';
import { prepareKernels, type WasmBackendLike } from './wasm-runtime.js';

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

/** tfjs's own kernels that selfsup's replaced, kept for the cases selfsup's do not cover. */
const replaced = new Map<string, tf.KernelConfig>();

/** tfjs-backend-wasm's Conv2DBackpropInput also takes NCHW; selfsup's is NHWC-only and faster. */
const conv2dBackpropInput: KernelFunc = (args) => {
  const format = args.attrs?.['dataFormat'];
  const tfjs = replaced.get('Conv2DBackpropInput');
  if (format === 'NCHW' && tfjs) return tfjs.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  return conv2dBackpropInputWasm(args);
};

/** tfjs's kernel `name` as it was before selfsup replaced it. */
function original(name: string): tf.KernelFunc {
  return (args) => {
    const tfjs = replaced.get(name);
    if (!tfjs) throw new BackendError(`selfsup: tfjs's ${name} kernel for wasm is missing`);
    return tfjs.kernelFunc(args);
  };
}

/** selfsup's kernels for the wasm backend, by tfjs kernel name. */
const WASM_KERNELS: Record<string, KernelFunc> = {
  Conv2DBackpropFilter: conv2dBackpropFilterWasm,
  Conv2DBackpropInput: conv2dBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterWasm,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputWasm,
  Identity: identityWasm,
  Cast: castWasm(original('Cast')),
  Sum: sumWasm(original('Sum')),
  BatchMatMul: matMulWasm(original('BatchMatMul'), (args) => tf.getKernel('Transpose', 'wasm')!.kernelFunc(args)),
  _FusedMatMul: matMulWasm(original('_FusedMatMul'), (args) => tf.getKernel('Transpose', 'wasm')!.kernelFunc(args)),
  [RELU_GRAD_KERNEL]: reluGradWasm,
};

const OURS = new Set<unknown>(Object.values(WASM_KERNELS));

const registered = new Map<string, string[]>();

/** Whether the active backend's `kernelName` is selfsup's (which honours a `dilations` attribute). */
function isSelfsupKernel(kernelName: string): boolean {
  return OURS.has(tf.getKernel(kernelName, tf.getBackend())?.kernelFunc);
}

const CONV2D_GRAD = conv2dGradConfig(isSelfsupKernel);
const DEPTHWISE_GRAD = depthwiseConv2dGradConfig(isSelfsupKernel);
const RELU_GRAD = reluGradConfig(isSelfsupKernel);
const RELU_GRAD_GRAD = reluGradKernelGradConfig(isSelfsupKernel);
const GRADIENTS = [CONV2D_GRAD, DEPTHWISE_GRAD, RELU_GRAD, RELU_GRAD_GRAD];

/**
 * Installs selfsup's gradients (dilation-aware `Conv2D` and
 * `DepthwiseConv2dNative`, single-kernel `Relu` on wasm) unless they are
 * already the registered ones. tfjs
 * keeps one global gradient per kernel and the last registration wins, so a
 * module that registers tfjs-core's gradients after this call (the first
 * import of `@tensorflow/tfjs-layers` or `@tensorflow/tfjs`) puts tfjs's back;
 * calling this (or `useBackend`) again restores selfsup's.
 */
function ensureGradients(): void {
  for (const config of GRADIENTS) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}

/** Whether selfsup's gradients (Conv2D, DepthwiseConv2dNative, Relu) are the ones registered with tfjs now. */
export function trainingGradientsInstalled(): boolean {
  return GRADIENTS.every((config) => tf.getGradient(config.kernelName) === config);
}

async function registerWasmKernels(): Promise<string[]> {
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  if (!backend) {
    throw new BackendError(
      "registerTrainingKernels: the wasm backend is not initialised; call await useBackend('wasm') " +
        "(or await tf.setBackend('wasm')) first",
    );
  }
  await prepareKernels(backend);
  const names: string[] = [];
  for (const [kernelName, kernelFunc] of Object.entries(WASM_KERNELS)) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current?.kernelFunc === kernelFunc) {
      names.push(kernelName);
      continue;
    }
    if (current) {
      replaced.set(kernelName, current);
      tf.unregisterKernel(kernelName, 'wasm');
    }
    // tfjs's setup (its cwrap of the C++ function the fallback calls) reruns if the backend is re-created.
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      ...(current?.setupFunc ? { setupFunc: current.setupFunc } : {}),
      ...(current?.disposeFunc ? { disposeFunc: current.disposeFunc } : {}),
    });
    names.push(kernelName);
  }
  return names;
}

/**
 * Registers selfsup's training kernels for a backend and returns the names of
 * the kernels selfsup now provides there. Called by {@link useBackend}; call it
 * yourself only when you set the backend up without `useBackend`.
 *
 * On `'wasm'` (the backend must be initialised first) it registers SIMD
 * WebAssembly kernels that run on tfjs's own memory: `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput`
 * (which tfjs-backend-wasm lacks, so convolutions could not train there) and
 * `Conv2DBackpropInput` (about 10× faster than tfjs's). Where the runtime
 * cannot run them (no WebAssembly SIMD) it registers nothing and returns `[]`.
 *
 * On every backend it also installs gradients for `Conv2D` and
 * `DepthwiseConv2dNative` that support dilation rates > 1 (tfjs-core's refuse
 * them). Gradients are global in tfjs and the last registration wins: if
 * `@tensorflow/tfjs-layers` or `@tensorflow/tfjs` is first imported after this
 * call, call it (or `useBackend`) again. Idempotent.
 *
 * @param backendName the tfjs backend, e.g. `'wasm'` or `'cpu'`.
 * @returns the kernel names selfsup registered for `backendName` (`[]` for cpu, which needs none).
 *
 * @example
 * ```ts
 * import { registerTrainingKernels } from 'selfsup/backend';
 *
 * console.log(await registerTrainingKernels('cpu')); // [] : the cpu backend needs none
 * ```
 */
export async function registerTrainingKernels(backendName: string): Promise<string[]> {
  ensureGradients();
  const existing = registered.get(backendName);
  if (existing && (backendName !== 'wasm' || existing.every((n) => isKernelOurs(n, backendName)))) return [...existing];
  let names: string[] = [];
  if (backendName === 'wasm') {
    try {
      names = await registerWasmKernels();
    } catch (e) {
      // A runtime without WebAssembly SIMD cannot compile the module: tfjs's kernels stay in place.
      if (!(e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError)) throw e;
      names = [];
    }
  }
  registered.set(backendName, names);
  return [...names];
}

function isKernelOurs(kernelName: string, backendName: string): boolean {
  return OURS.has(tf.getKernel(kernelName, backendName)?.kernelFunc);
}

/**
 * Puts tfjs's own wasm kernels back in place of selfsup's and forgets the
 * registration (selfsup's gradients stay: with tfjs's kernels they compute
 * what tfjs-core's would). For benchmarks and tests that compare against
 * stock tfjs in one process; `registerTrainingKernels('wasm')` undoes it.
 */
export function unregisterWasmKernels(): void {
  for (const [kernelName, kernelFunc] of Object.entries(WASM_KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')?.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    const tfjs = replaced.get(kernelName);
    if (tfjs) tf.registerKernel(tfjs);
  }
  registered.delete('wasm');
}

/**
 * The kernels selfsup has registered for `backendName` so far.
 *
 * @example
 * ```ts
 * import { registeredTrainingKernels } from 'selfsup/backend';
 *
 * console.log(registeredTrainingKernels('wasm'));
 * ```
 */
export function registeredTrainingKernels(backendName: string): string[] {
  return [...(registered.get(backendName) ?? [])];
}
