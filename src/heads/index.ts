/**
 * Heads and reference encoders, as tfjs-layers builders: projection and prediction MLPs (SimCLR,
 * BYOL, SimSiam), prototype and DINO heads, classification heads, the decoders of the generative
 * tasks, and the small encoders the examples and benchmarks train (an MLP, a conv net for 28×28 and
 * 32×32 images, and a functional tiny ViT that MAE, iBOT / DINOv2, MSN and I-JEPA can mask) with MAE's
 * decoder and I-JEPA's predictor.
 *
 * `import { projectionMlp, convEncoder } from 'selfsup/heads'`
 *
 * @module heads
 */
export { projectionMlp } from './projection-mlp.js';
export type { ProjectionMlpOptions } from './projection-mlp.js';
export { predictionMlp } from './prediction-mlp.js';
export type { PredictionMlpOptions } from './prediction-mlp.js';
export { classificationHead } from './classification-head.js';
export type { ClassificationHeadOptions } from './classification-head.js';
export { l2NormalizeLayer } from './l2-normalize-layer.js';
export type { L2NormalizeLayer, L2NormalizeLayerOptions } from './l2-normalize-layer.js';
export { prototypeLayer } from './prototype-layer.js';
export type { PrototypeLayer, PrototypeLayerOptions } from './prototype-layer.js';
export { weightNormDense } from './weight-norm-dense.js';
export type { WeightNormDenseLayer, WeightNormDenseOptions } from './weight-norm-dense.js';
export { dinoHead } from './dino-head.js';
export type { DinoHeadOptions } from './dino-head.js';
export { registerHeadsLayers } from './register-layers.js';
export { mlpEncoder } from './mlp-encoder.js';
export type { MlpEncoderOptions } from './mlp-encoder.js';
export { convEncoder } from './conv-encoder.js';
export type { ConvEncoderOptions } from './conv-encoder.js';
export { tinyVit, VisionTransformer } from './vit.js';
export type { TinyVitConfig, TinyVitOptions, VitEncodeOptions } from './vit.js';
export { maeDecoder, MaeDecoder } from './mae-decoder.js';
export type { MaeDecoderConfig, MaeDecoderOptions, MaeEncoderGeometry } from './mae-decoder.js';
export { jepaPredictor } from './jepa-predictor.js';
export type { JepaPredictor, JepaPredictorOptions } from './jepa-predictor.js';
export { convDecoder } from './conv-decoder.js';
export type { ConvDecoderOptions } from './conv-decoder.js';
export { patchDiscriminator } from './patch-discriminator.js';
export type { PatchDiscriminatorOptions } from './patch-discriminator.js';
export { pixelClassifier } from './pixel-classifier.js';
export type { PixelClassifierOptions } from './pixel-classifier.js';
export { siameseHead } from './siamese-head.js';
export type { SiameseHeadOptions } from './siamese-head.js';
export { tokenEncoder } from './token-encoder.js';
export type { TokenEncoderOptions } from './token-encoder.js';
export { correspondenceHead } from './correspondence-head.js';
export type { CorrespondenceHeadOptions } from './correspondence-head.js';
export { featureMapModel } from './feature-map.js';
