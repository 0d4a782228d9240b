/**
 * Self-supervised methods and pretext tasks that train a given encoder: the joint-embedding methods
 * (SimCLR, MoCo v2, BYOL, SimSiam, Barlow Twins, VICReg, DINO, SwAV, NNCLR, DCL / DCLW, MMCR, TiCo,
 * FastSiam, VICRegL, DINOv2, I-JEPA, MSN, PMSN), the generative tasks (autoencoders, masked
 * autoencoders, SimMIM, inpainting, colorization, split-brain), the classic
 * discriminative tasks (rotation, jigsaw, context prediction, DeepCluster, Exemplar-CNN) and the
 * multimodal ones (CLIP, zero-shot classification, audio-visual correspondence). Each has
 * `step(images)` → loss, and exposes its pieces for users who write their own loop; the shared
 * training utilities (EMA, schedules, memory bank, training loop) live here too.
 *
 * `import { SimCLR } from 'selfsup/tasks'`
 *
 * @module tasks
 */
export { BasePretextTask, embedImages, encodeImages } from './pretext-task.js';
export type { EmbedOptions, ImageEncoder, PretextTask, StepGuardOptions, StepState } from './pretext-task.js';
export { disposeTaskState } from './task-state.js';
export type { JsonValue, StatefulObject, StatefulTask, TaskState } from './task-state.js';
// Joint-embedding methods (issue 6).
export { cloneEncoder } from './clone-encoder.js';
export { TargetNetwork } from './target-network.js';
export type { OnlineNetwork, TargetNetworkOptions } from './target-network.js';
export { grayscaleAugment } from './grayscale-augment.js';
export type { GrayscaleAugmentOptions } from './grayscale-augment.js';
export { JointEmbeddingTask } from './joint-embedding.js';
export type { JointEmbeddingOptions, MethodDefaults } from './joint-embedding.js';
export { SimCLR } from './simclr.js';
export type { SimCLROptions } from './simclr.js';
export { MoCoV2 } from './moco.js';
export type { MoCoV2Options } from './moco.js';
export { BYOL } from './byol.js';
export type { BYOLOptions } from './byol.js';
export { SimSiam } from './simsiam.js';
export type { SimSiamOptions } from './simsiam.js';
export { BarlowTwins } from './barlow-twins.js';
export type { BarlowTwinsTaskOptions } from './barlow-twins.js';
export { VICReg } from './vicreg.js';
export type { VICRegTaskOptions } from './vicreg.js';
export { DINO } from './dino.js';
export type { DINOOptions } from './dino.js';
export { SwAV } from './swav.js';
export type { SwAVOptions } from './swav.js';
export { NNCLR } from './nnclr.js';
export type { NNCLROptions } from './nnclr.js';
export { DCL } from './dcl.js';
export type { DCLOptions } from './dcl.js';
export { MMCR } from './mmcr.js';
export type { MMCROptions } from './mmcr.js';
export { TiCo } from './tico.js';
export type { TiCoOptions } from './tico.js';
export { FastSiam } from './fast-siam.js';
export type { FastSiamOptions } from './fast-siam.js';
export { VICRegL } from './vicregl.js';
export type { VICRegLOptions, VICRegLViews } from './vicregl.js';
// Methods of issue 14: DINOv2, I-JEPA, MSN / PMSN.
export { DINOv2 } from './dinov2.js';
export type { DINOv2Options, DINOv2TeacherOutput, DINOv2Terms } from './dinov2.js';
export { IJEPA } from './ijepa.js';
export type { IJEPAOptions, IJEPAMasks } from './ijepa.js';
export { MSN, PMSN } from './msn.js';
export type { MSNOptions } from './msn.js';
export type { TaskOptions } from './task-options.js';
export type { ModalityEncoder } from './internal/common.js';
// Generative pretext tasks (issue 7).
export { SparseAutoencoder } from './sparse-autoencoder.js';
export type { SparseAutoencoderOptions } from './sparse-autoencoder.js';
export { DenoisingAutoencoder } from './denoising-autoencoder.js';
export type { DenoisingAutoencoderOptions } from './denoising-autoencoder.js';
export { MaskedAutoencoder } from './masked-autoencoder.js';
export type { MaskedAutoencoderOptions, MaeReconstruction } from './masked-autoencoder.js';
export { SimMIM } from './simmim.js';
export type { SimMIMOptions, SimMIMReconstruction } from './simmim.js';
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
