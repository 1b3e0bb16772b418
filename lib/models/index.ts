// The reference models (docs/models.md): a latent video diffusion generator and a video-language
// critic, trained with tfjs and served on onnxruntime-node. The stages that run them: lib/stages.
export { initTf, describeBackend } from './backend';
export type { BackendChoice } from './backend';
export { CheckpointError, encodeCheckpoint, decodeCheckpoint, saveCheckpoint, loadCheckpoint } from './checkpoint';
export type { Checkpoint, CheckpointHeader } from './checkpoint';
export { DEFAULT_AUTOENCODER, fitAutoencoder, encodeVideos, decodeLatents, latentSize, autoencoderParamShapes } from './autoencoder';
export type { AutoencoderConfig } from './autoencoder';
export { DEFAULT_SCHEDULE, alphaBars, ddimSteps, timestepEmbedding } from './diffusion';
export type { ScheduleConfig } from './diffusion';
export { generatorParamShapes, initGenerator, denoise, sampler, pretrainGenerator, denoiserMacs, samplerMacs, GENERATOR_KIND } from './generator';
export type { GeneratorConfig, DenoiserConfig, SamplerConfig } from './generator';
export {
  encodeGenerator,
  decodeGenerator,
  saveGenerator,
  loadGenerator,
  exportGeneratorOnnx,
  generatorOnnxBytes,
  OnnxGenerator,
  sampleWithTf,
  candidateNoise,
  weightsDigest,
} from './generator-serving';
export type { GeneratorModel, SampleRequest, SampleResult } from './generator-serving';
export { alignGenerator, implicitAccuracy } from './generator-align';
export type { AlignOptions, AlignMetrics, AlignRecord, LatentPair, LatentPoint } from './generator-align';
export { fitVocabulary, tokenize, encodeText } from './text';
export type { TextConfig } from './text';
export { trlPreferenceJsonl, trlUnpairedJsonl, pickAPicCsv, parsePickAPicCsv, videoLocator } from './exports';
export { QUICKSTART, TINY, SIZE_PRESETS } from './sizes';
export type { Sizes } from './sizes';
export * as critic from './critic';
