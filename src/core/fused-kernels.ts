/**
 * Names of selfsup's fused kernels (losses, k-means, augmentation hot
 * paths, batch normalisation, optimizer updates), and whether the active backend has them. Kept in core, apart from
 * the kernels (src/kernels/), so that the losses and the augmentations can
 * dispatch on them without importing the kernels area or pulling the
 * WebAssembly runtime into a bundle.
 *
 * The kernels are registered for 'wasm' only (by `registerTrainingKernels`);
 * on every other backend, or before registration, the callers run their tfjs
 * compositions (src/losses/internal/contrastive.ts, src/losses/k-means.ts,
 * src/augment/; tfjs-layers' own batch normalisation and tfjs's optimizers,
 * which src/kernels/batch-norm-training.ts and fused-optimizers.ts route
 * through the kernels where they are registered).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernel names (tfjs `runKernel` names) of the fused passes. */
export const FUSED = {
  /** NT-Xent forward: inputs `z1`, `z2` `[N, D]` (raw); outputs loss, normalised z `[2N, D]`, norms `[2N]`, P + Pᵀ `[2N, 2N]` (P the softmax). */
  ntXent: 'SelfsupNtXent',
  /** NT-Xent backward: inputs `z`, `norms`, `p` (P + Pᵀ), `dy`; outputs dz1, dz2. */
  ntXentGrad: 'SelfsupNtXentGrad',
  /** InfoNCE with a shared queue, forward: inputs `q`, `k` `[N, D]`, `negatives` `[K, D]` (raw). */
  infoNCEQueue: 'SelfsupInfoNCEQueue',
  /** InfoNCE with a queue, gradient of the query. */
  infoNCEQueueGradQuery: 'SelfsupInfoNCEQueueGradQuery',
  /** InfoNCE with a queue, gradient of the positive key. */
  infoNCEQueueGradKey: 'SelfsupInfoNCEQueueGradKey',
  /** InfoNCE with a queue, gradient of the negatives (only computed when they need one). */
  infoNCEQueueGradNegatives: 'SelfsupInfoNCEQueueGradNegatives',
  /** CLIP forward: inputs `images`, `texts` `[N, D]` (raw), `logScale` `[]`. */
  clip: 'SelfsupClip',
  /** CLIP backward for the images (`which: 0`) or the texts (`which: 1`). */
  clipGrad: 'SelfsupClipGrad',
  /** One Lloyd iteration: inputs `x` `[N, D]`, `centroids` `[k, D]`; outputs int32 labels `[N]` and the new centroids. */
  kMeansStep: 'SelfsupKMeansStep',
  /** Nearest centroid only: outputs int32 labels `[N]` and the inertia `[]`. */
  kMeansAssign: 'SelfsupKMeansAssign',
  /** The kernels' vectorised exp, elementwise (exposed for its accuracy test). */
  vexp: 'SelfsupVExp',
  /** `[B, H, W, C]` → planar `[C, B, H, W]` (augment/planar.ts `toPlanar`). */
  toPlanar: 'SelfsupToPlanar',
  /** `[min, max]` of a float32 tensor, both NaN if any value is NaN or infinite (the pixel-range check). */
  minMax: 'SelfsupMinMax',
  /** Planar `[C, B, H, W]` → `[B, H, W, C]`. */
  fromPlanar: 'SelfsupFromPlanar',
  /** Colour jitter of planar RGB; attr `params`: 9 floats per sample (see augment/color-jitter.ts). */
  colorJitter: 'SelfsupColorJitter',
  /** Random grayscale of planar RGB; attr `applied`: one float per sample. */
  grayscale: 'SelfsupGrayscale',
  /** Per-sample separable Gaussian blur of planar images; attrs `taps` (B·k), `applied`, `kernelSize`. */
  gaussianBlur: 'SelfsupGaussianBlur',
  /** Per-sample separable bilinear resampling of planar images; attrs `index`, `fraction`, `outHeight`, `outWidth`. */
  resample: 'SelfsupResample',
  /**
   * Batch normalisation of a training batch over its leading axes: inputs `x` `[..., C]`, `scale`, `offset` `[C]`;
   * attr `varianceEpsilon`; outputs y, the batch mean and (biased) variance `[C]`.
   */
  batchNormTrain: 'SelfsupBatchNormTrain',
  /** Its gradient: inputs `dy`, `dmean`, `dvariance`, `x`, `mean`, `variance`, `scale`; outputs dx, dscale, doffset. */
  batchNormTrainGrad: 'SelfsupBatchNormTrainGrad',
  /** One Adam step of one variable (tfjs's arithmetic): inputs `x`, `m`, `v`, `gradient`, `bias1`, `bias2`; outputs x', m', v'. */
  adam: 'SelfsupAdam',
  /** One momentum-SGD step: inputs `x`, `accumulation`, `gradient`, `c` (−lr), `momentum`; attr `nesterov`; outputs x', a'. */
  momentum: 'SelfsupMomentum',
  /** One SGD step: inputs `x`, `gradient`, `c` (−lr); output x'. */
  sgd: 'SelfsupSgd',
  /**
   * Gradient of act(z + bias) for a channels-last output `y`: inputs `dy`, `y`; attrs `activation`
   * ('linear' | 'relu' | 'relu6'), `bias` (whether to sum db); outputs dz (dy for linear) and db `[C]` when asked.
   */
  biasActivationGrad: 'SelfsupBiasActivationGrad',
  /** GELU x·Φ(x), elementwise: input `x`. */
  gelu: 'SelfsupGelu',
  /** Its gradient dy·(Φ(x) + x·φ(x)): inputs `x`, `dy`. */
  geluGrad: 'SelfsupGeluGrad',
} as const;

/** Whether the active backend has selfsup's fused kernel `name` registered. */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
