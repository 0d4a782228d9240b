// The tasks area: the SSL methods and pretext tasks, and the training utilities they share.
export { BasePretextTask, embedImages, encodeImages } from './pretext-task.js';
export type { EmbedOptions, ImageEncoder, PretextTask } from './pretext-task.js';
export type { TaskOptions } from './task-options.js';
export type { ModalityEncoder } from './internal/common.js';
// Generative pretext tasks (issue 7).
export { SparseAutoencoder } from './sparse-autoencoder.js';
export type { SparseAutoencoderOptions } from './sparse-autoencoder.js';
export { DenoisingAutoencoder } from './denoising-autoencoder.js';
export type { DenoisingAutoencoderOptions } from './denoising-autoencoder.js';
export { MaskedAutoencoder } from './masked-autoencoder.js';
export type { MaskedAutoencoderOptions, MaeReconstruction } from './masked-autoencoder.js';
export { ContextEncoder } from './context-encoder.js';
export type { ContextEncoderOptions, InpaintingMaskKind, InpaintingMaskSampler } from './context-encoder.js';
export { Colorization, annealedMean } from './colorization.js';
export type { ColorizationOptions, AnnealedMeanOptions } from './colorization.js';
export { SplitBrainAutoencoder } from './split-brain.js';
export type { SplitBrainAutoencoderOptions } from './split-brain.js';
// Classic discriminative pretext tasks (issue 7).
export { RotationPrediction } from './rotation-prediction.js';
export type { RotationPredictionOptions } from './rotation-prediction.js';
export { Jigsaw } from './jigsaw.js';
export type { JigsawOptions } from './jigsaw.js';
export { ContextPrediction } from './context-prediction.js';
export type { ContextPredictionOptions } from './context-prediction.js';
export { DeepCluster } from './deep-cluster.js';
export type { DeepClusterOptions, ClusteringResult } from './deep-cluster.js';
export { ExemplarCnn } from './exemplar-cnn.js';
export type { ExemplarCnnOptions } from './exemplar-cnn.js';
// Multimodal pretext tasks (issue 7).
export { Clip } from './clip.js';
export type { ClipOptions } from './clip.js';
export { zeroShotClassifier } from './zero-shot.js';
export type { ZeroShotClassifier, ZeroShotOptions } from './zero-shot.js';
export { CrossModalCorrespondence } from './cross-modal-correspondence.js';
export type { CrossModalCorrespondenceOptions, CorrespondencePairs } from './cross-modal-correspondence.js';
export * from '../train/index.js';
