/**
 * Names of selfsup's fused loss and k-means kernels, and whether the active
 * backend has them. Kept apart from the kernels themselves so the losses can
 * dispatch on them without pulling the WebAssembly runtime into a bundle.
 *
 * The kernels are registered for 'wasm' only (by `registerTrainingKernels`);
 * on every other backend, or before registration, the losses run their tfjs
 * compositions (src/losses/internal/contrastive.ts, src/losses/k-means.ts).
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
} as const;

/** Whether the active backend has selfsup's fused kernel `name` registered. */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
