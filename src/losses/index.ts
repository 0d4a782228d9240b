/**
 * The self-supervised objectives: contrastive (NT-Xent, InfoNCE, CLIP, DCL / DCLW), siamese (BYOL,
 * SimSiam, FastSiam), redundancy reduction and covariance (Barlow Twins, VICReg, TiCo), manifold
 * capacity (MMCR), clustering and distillation (DINO, DINOv2's iBOT and KoLeo, SwAV, MSN / PMSN,
 * k-means pseudo-labels), I-JEPA's representation regression and the pretext-task losses
 * (rotation, MAE, SimMIM, inpainting, colorization, sparsity).
 * Each is a pure, differentiable function over tfjs tensors, verified against PyTorch.
 *
 * `import { ntXentLoss } from 'selfsup/losses'`
 *
 * @module losses
 */
export { ntXentLoss } from './nt-xent.js';
export type { NtXentOptions } from './nt-xent.js';
export { infoNCELoss } from './info-nce.js';
export type { InfoNCEOptions } from './info-nce.js';
export { clipLoss, clampLogScale } from './clip.js';
export type { ClipLossOptions, ClampLogScaleOptions } from './clip.js';
export { negativeCosineSimilarity, simSiamLoss, byolLoss } from './negative-cosine.js';
export type { NegativeCosineOptions } from './negative-cosine.js';
export { barlowTwinsLoss } from './barlow-twins.js';
export type { BarlowTwinsOptions, BarlowStandardization } from './barlow-twins.js';
export { vicregLoss, vicregTerms } from './vicreg.js';
export type { VicregOptions, VicregTermsOptions, VicregTerms } from './vicreg.js';
export { dinoLoss, updateDinoCenter } from './dino.js';
export type { DinoLossOptions, DinoCenterOptions } from './dino.js';
export { sinkhornKnopp, swavLoss } from './swav.js';
export type { SinkhornKnoppOptions, SwavLossOptions } from './swav.js';
export { ibotPatchLoss } from './ibot.js';
export type { IbotPatchLossOptions } from './ibot.js';
export { koleoLoss } from './koleo.js';
export type { KoleoLossOptions } from './koleo.js';
export { msnLoss, powerLawPrior } from './msn.js';
export type { MsnLossOptions, MsnPrior } from './msn.js';
export { ijepaLoss } from './ijepa.js';
export type { IjepaLossOptions } from './ijepa.js';
export { rotationLoss } from './rotation.js';
export { maeLoss } from './mae.js';
export type { MaeLossOptions } from './mae.js';
export {
  reconstructionLoss,
  generatorAdversarialLoss,
  discriminatorAdversarialLoss,
  inpaintingLoss,
} from './reconstruction.js';
export type { ReconstructionLossOptions, InpaintingLossOptions } from './reconstruction.js';
export { sparsityPenalty } from './sparsity.js';
export type { SparsityPenaltyOptions, SparsityKind } from './sparsity.js';
export { colorizationLoss, colorizationBins, estimateAbPrior } from './colorization.js';
export type { ColorizationLossOptions, AbPriorOptions } from './colorization.js';
export { kMeans } from './k-means.js';
export type { KMeansOptions, KMeansResult, KMeansInit } from './k-means.js';
export { pseudoLabelLoss } from './pseudo-label.js';
export type { PseudoLabelLossOptions, PseudoLabelBalance } from './pseudo-label.js';
export { dclLoss, dclwLoss } from './dcl.js';
export type { DclLossOptions, DclwLossOptions } from './dcl.js';
export { mmcrLoss } from './mmcr.js';
export type { MmcrLossOptions } from './mmcr.js';
export { ticoLoss, updateTicoCovariance } from './tico.js';
export type { TicoLossOptions, TicoCovarianceOptions } from './tico.js';
export { fastSiamLoss } from './fast-siam.js';
export { simMIMLoss } from './simmim.js';
export { vicreglLoss } from './vicregl.js';
export type { VicreglLossOptions, VicreglView } from './vicregl.js';
