import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { RELU_GRAD_KERNEL, reluGradConfig, reluGradKernelGradConfig } from './activation-gradients.js';
import {
  conv2dBackpropFilterWasm,
  conv2dBackpropInputWasm,
  depthwiseBackpropFilterWasm,
  depthwiseBackpropInputWasm,
} from './conv-backprop-wasm.js';
import { conv2dForwardWasm } from './conv-forward-wasm.js';
import { conv2dGradConfig, depthwiseConv2dGradConfig } from './conv-gradients.js';
import {
  avgPoolGradWasm,
  castWasm,
  identityWasm,
  matMulWasm,
  maxPoolGradWasm,
  reluGradWasm,
  sumWasm,
  tileWasm,
  transposeWasm,
} from './data-movement-wasm.js';
import { fusedConv2dKernel } from './fused-conv-gradient.js';
import { FUSED } from '../core/fused-kernels.js';
import {
  colorJitterWasm,
  fromPlanarWasm,
  gaussianBlurWasm,
  grayscaleWasm,
  minMaxWasm,
  resampleWasm,
  toPlanarWasm,
} from './augment-wasm.js';
import {
  clipGradWasm,
  clipWasm,
  infoNCEQueueGradKeyWasm,
  infoNCEQueueGradNegativesWasm,
  infoNCEQueueGradQueryWasm,
  infoNCEQueueWasm,
  kMeansAssignWasm,
  kMeansStepWasm,
  ntXentGradWasm,
  ntXentWasm,
  vexpWasm,
} from './losses-wasm.js';
import { batchNormTrainGradWasm, batchNormTrainWasm, fusedBatchNormWasm } from './batch-norm-wasm.js';
import { batchNormTrainGradConfig, installBatchNormTraining } from './batch-norm-training.js';
import { installFusedOptimizers } from './fused-optimizers.js';
import { biasActivationGradWasm, geluGradWasm, geluWasm } from './activation-wasm.js';
import { tileGradConfig } from './tile-gradient.js';
import { adamWasm, momentumWasm, sgdWasm } from './optimizer-wasm.js';
import { guardWasmAllocations, prepareKernels, type WasmBackendLike } from './wasm-runtime.js';

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

/** tfjs's own kernels that selfsup replaced or wrapped, by `backend/kernel`, kept for delegation and restoring. */
const replaced = new Map<string, tf.KernelConfig>();
/** Every kernel function selfsup registered. */
const OURS = new Set<unknown>();

/** tfjs's kernel `name` on `backend` as it was before selfsup replaced it. */
function original(name: string, backend = 'wasm'): tf.KernelFunc {
  return (args) => {
    const tfjs = replaced.get(`${backend}/${name}`);
    if (!tfjs) throw new BackendError(`selfsup: tfjs's ${name} kernel for ${backend} is missing`);
    return tfjs.kernelFunc(args);
  };
}

/** tfjs-backend-wasm's Conv2DBackpropInput also takes NCHW; selfsup's is NHWC-only and faster. */
const conv2dBackpropInput: KernelFunc = (args) => {
  if (args.attrs?.['dataFormat'] === 'NCHW' && replaced.has('wasm/Conv2DBackpropInput')) {
    return original('Conv2DBackpropInput')(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  return conv2dBackpropInputWasm(args);
};

/** tfjs's Transpose (the matMul wrapper's transposes are rank 2–3, which it does fast). */
const tfjsTranspose: tf.KernelFunc = (args) => original('Transpose')(args);

/** selfsup's kernels for the wasm backend, by tfjs kernel name. */
const WASM_KERNELS: Record<string, KernelFunc> = {
  Conv2DBackpropFilter: conv2dBackpropFilterWasm,
  Conv2DBackpropInput: conv2dBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterWasm,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputWasm,
  Identity: identityWasm,
  Cast: castWasm(original('Cast')),
  Sum: sumWasm(original('Sum')),
  Mean: sumWasm(original('Mean'), true),
  Tile: tileWasm(original('Tile')),
  MaxPoolGrad: maxPoolGradWasm,
  AvgPoolGrad: avgPoolGradWasm,
  BatchMatMul: matMulWasm(original('BatchMatMul'), tfjsTranspose, true),
  _FusedMatMul: matMulWasm(original('_FusedMatMul'), tfjsTranspose),
  Transpose: transposeWasm(original('Transpose')),
  [RELU_GRAD_KERNEL]: reluGradWasm,
  [FUSED.ntXent]: ntXentWasm,
  [FUSED.ntXentGrad]: ntXentGradWasm,
  [FUSED.infoNCEQueue]: infoNCEQueueWasm,
  [FUSED.infoNCEQueueGradQuery]: infoNCEQueueGradQueryWasm,
  [FUSED.infoNCEQueueGradKey]: infoNCEQueueGradKeyWasm,
  [FUSED.infoNCEQueueGradNegatives]: infoNCEQueueGradNegativesWasm,
  [FUSED.clip]: clipWasm,
  [FUSED.clipGrad]: clipGradWasm,
  [FUSED.kMeansStep]: kMeansStepWasm,
  [FUSED.kMeansAssign]: kMeansAssignWasm,
  [FUSED.vexp]: vexpWasm,
  [FUSED.minMax]: minMaxWasm,
  [FUSED.toPlanar]: toPlanarWasm,
  [FUSED.fromPlanar]: fromPlanarWasm,
  [FUSED.colorJitter]: colorJitterWasm,
  [FUSED.grayscale]: grayscaleWasm,
  [FUSED.gaussianBlur]: gaussianBlurWasm,
  [FUSED.resample]: resampleWasm,
  Conv2D: conv2dForwardWasm(original('Conv2D'), false),
  FusedBatchNorm: fusedBatchNormWasm(original('FusedBatchNorm')),
  [FUSED.batchNormTrain]: batchNormTrainWasm,
  [FUSED.batchNormTrainGrad]: batchNormTrainGradWasm,
  [FUSED.adam]: adamWasm,
  [FUSED.momentum]: momentumWasm,
  [FUSED.sgd]: sgdWasm,
  [FUSED.gelu]: geluWasm,
  [FUSED.geluGrad]: geluGradWasm,
  [FUSED.biasActivationGrad]: biasActivationGradWasm,
};
for (const f of Object.values(WASM_KERNELS)) OURS.add(f);

/**
 * Counts `wrapper` as selfsup's kernel when it wraps one of selfsup's (a
 * profiler's timing wrapper), so the gradients that dispatch on
 * {@link isSelfsupKernel} keep choosing the fused paths. Internal (bench/).
 */
export function adoptKernelWrapper(wrapper: tf.KernelFunc, inner: tf.KernelFunc): void {
  if (OURS.has(inner)) OURS.add(wrapper);
}

/** Whether the active backend's `kernelName` is selfsup's (which honours a `dilations` attribute). */
function isSelfsupKernel(kernelName: string): boolean {
  return OURS.has(tf.getKernel(kernelName, tf.getBackend())?.kernelFunc);
}

const registered = new Map<string, string[]>();

const CONV2D_GRAD = conv2dGradConfig(isSelfsupKernel);
const DEPTHWISE_GRAD = depthwiseConv2dGradConfig(isSelfsupKernel);
const RELU_GRAD = reluGradConfig(isSelfsupKernel);
const RELU_GRAD_GRAD = reluGradKernelGradConfig(isSelfsupKernel);
const GRADIENTS = [CONV2D_GRAD, DEPTHWISE_GRAD, RELU_GRAD, RELU_GRAD_GRAD, batchNormTrainGradConfig, tileGradConfig];

/**
 * Installs selfsup's gradients (dilation-aware `Conv2D` and
 * `DepthwiseConv2dNative`, single-kernel `Relu` on wasm) unless they are
 * already the registered ones. tfjs keeps one global gradient per kernel and
 * the last registration wins, so a module that registers tfjs-core's
 * gradients after this call (the first import of `@tensorflow/tfjs-layers` or
 * `@tensorflow/tfjs`) puts tfjs's back; calling this (or `useBackend`) again
 * restores selfsup's.
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

/** Registers `kernelFunc` as `kernelName` on `backendName` in place of tfjs's (kept in `replaced`). */
function install(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  const current = tf.getKernel(kernelName, backendName);
  if (current?.kernelFunc === kernelFunc) return;
  if (current) {
    replaced.set(`${backendName}/${kernelName}`, current);
    tf.unregisterKernel(kernelName, backendName);
  }
  OURS.add(kernelFunc);
  // tfjs's setup (e.g. the wasm backend's cwrap of the C++ function a fallback calls) reruns if the backend is re-created.
  tf.registerKernel({
    kernelName,
    backendName,
    kernelFunc,
    ...(current?.setupFunc ? { setupFunc: current.setupFunc } : {}),
    ...(current?.disposeFunc ? { disposeFunc: current.disposeFunc } : {}),
  });
}

/** The FusedConv2D wrapper per backend (created once, so re-registration is a no-op). */
const fusedWrappers = new Map<string, tf.KernelFunc>();

/** Wraps `backendName`'s FusedConv2D so dilated fused convolutions train (see fused-conv-gradient.ts). */
function wrapFusedConv2d(backendName: string): string[] {
  if (!tf.getKernel('FusedConv2D', backendName)) return [];
  let wrapper = fusedWrappers.get(backendName);
  if (!wrapper || tf.getKernel('FusedConv2D', backendName)!.kernelFunc !== wrapper) {
    // On wasm the wrapped kernel is selfsup's forward convolution (which hands what it does not cover to tfjs's).
    const inner = backendName === 'wasm' ? conv2dForwardWasm(original('FusedConv2D', 'wasm'), true) : original('FusedConv2D', backendName);
    wrapper = fusedConv2dKernel(inner as tf.KernelFunc, isSelfsupKernel);
    fusedWrappers.set(backendName, wrapper);
    install('FusedConv2D', backendName, wrapper);
  }
  return ['FusedConv2D'];
}

async function registerWasmKernels(): Promise<string[]> {
  const backend = tf.findBackend('wasm') as unknown as WasmBackendLike | null;
  if (!backend) {
    throw new BackendError(
      "registerTrainingKernels: the wasm backend is not initialised; call await useBackend('wasm') " +
        "(or await tf.setBackend('wasm')) first",
    );
  }
  guardWasmAllocations(backend);
  await prepareKernels(backend);
  for (const [kernelName, kernelFunc] of Object.entries(WASM_KERNELS)) {
    install(kernelName, 'wasm', kernelFunc as unknown as tf.KernelFunc);
  }
  // tfjs-layers' BatchNormalization and tfjs's optimizers take the fused kernels where the active backend has them.
  installBatchNormTraining();
  installFusedOptimizers();
  return Object.keys(WASM_KERNELS);
}

function allOurs(names: string[], backendName: string): boolean {
  return names.every((n) => OURS.has(tf.getKernel(n, backendName)?.kernelFunc));
}

/**
 * Registers selfsup's training kernels for a backend and returns the names of
 * the kernels selfsup now provides there. Called by {@link useBackend}; call it
 * yourself only when you set the backend up without `useBackend`.
 *
 * On `'wasm'` (the backend must be initialised first) it registers SIMD
 * WebAssembly kernels that run on tfjs's own memory: `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput`
 * (which tfjs-backend-wasm lacks, so convolutions could not train there),
 * `Conv2DBackpropInput` (about 10× faster than tfjs's), and faster `Sum`,
 * `Mean`, `Tile`, `Transpose` (rank 5–6), `MaxPoolGrad`, `AvgPoolGrad`,
 * `Identity`, `Cast`, `BatchMatMul` (batched and transposed operands),
 * `_FusedMatMul` (transposed operands) and ReLU-gradient kernels for the rest
 * of a training step; and selfsup's own fused kernels, which its losses
 * (`ntXentLoss`, `infoNCELoss` with a queue, `clipLoss`), `kMeans` and
 * augmentation pipelines use on wasm instead of their tfjs compositions
 * (`Selfsup*` kernel names). Where the runtime cannot run them (no
 * WebAssembly SIMD) it registers none of them.
 *
 * On every backend it installs gradients for `Conv2D` and
 * `DepthwiseConv2dNative` that support dilation rates > 1 (tfjs-core's refuse
 * them), and wraps the backend's `FusedConv2D` kernel so that dilated
 * `tf.fused.conv2d` calls (tfjs-layers' Conv2D without activation) train too.
 * Gradients are global in tfjs and the last registration wins: if
 * `@tensorflow/tfjs-layers` or `@tensorflow/tfjs` is first imported after this
 * call, call it (or `useBackend`) again. Idempotent.
 *
 * @param backendName the tfjs backend, e.g. `'wasm'` or `'cpu'`.
 * @returns the kernel names selfsup registered or wrapped for `backendName`.
 *
 * @example
 * ```ts
 * import { registerTrainingKernels } from 'selfsup/backend';
 *
 * console.log(await registerTrainingKernels('cpu')); // ['FusedConv2D']: wrapped so dilated fused convs train
 * ```
 */
export async function registerTrainingKernels(backendName: string): Promise<string[]> {
  ensureGradients();
  // Every loaded backend's FusedConv2D is wrapped, so no backend's dilated fused calls meet a stale gradient.
  for (const name of tf.engine().backendNames()) if (name !== backendName) wrapFusedConv2d(name);
  const existing = registered.get(backendName);
  if (existing && allOurs(existing, backendName)) {
    // Already registered: the wasm backend may have been re-created (another thread count), and its memory needs its
    // own instance (and pool); an existing one must be the instruction set asked for (useBackend's relaxedSimd).
    const wasm = backendName === 'wasm' ? (tf.findBackend('wasm') as unknown as WasmBackendLike | null) : null;
    if (wasm) await prepareKernels(wasm);
    // tfjs-layers may have been loaded since (its BatchNormalization is routed once it is there).
    if (wasm) installBatchNormTraining();
    return [...existing];
  }
  const names = wrapFusedConv2d(backendName);
  if (backendName === 'wasm') {
    try {
      names.push(...(await registerWasmKernels()));
    } catch (e) {
      // A runtime without WebAssembly SIMD cannot compile the module: tfjs's kernels stay in place.
      if (!(e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError)) throw e;
    }
  }
  registered.set(backendName, names);
  return [...names];
}

/**
 * Puts tfjs's own wasm kernels back in place of selfsup's and forgets the
 * registration (selfsup's gradients stay: with tfjs's kernels they compute
 * what tfjs-core's would). For benchmarks and tests that compare against
 * stock tfjs in one process; `registerTrainingKernels('wasm')` undoes it.
 */
export function unregisterWasmKernels(): void {
  for (const kernelName of [...Object.keys(WASM_KERNELS), 'FusedConv2D']) {
    if (!OURS.has(tf.getKernel(kernelName, 'wasm')?.kernelFunc)) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    const tfjs = replaced.get(`wasm/${kernelName}`);
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
