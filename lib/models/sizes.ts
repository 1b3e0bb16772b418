// Model and data sizes of the builtin backend. 'quickstart' is sized for the 3-round quickstart on
// 2 CPU cores (bootstrap in about 4-5 minutes, a round in 1-2; measured figures in docs/models.md);
// 'tiny' is the same pipeline at toy size, for tests and CI. Every field can be overridden by a
// bootstrap stage param of the same name (stages.bootstrap.params in the campaign config).
import { DEFAULT_CRITIC, TINY_CRITIC, type CriticConfig } from './critic';

export interface Sizes {
  /** Real (ground-truth) videos: the autoencoder's and the base model's training set. */
  realVideos: number;
  autoencoderChannels: number;
  autoencoderHidden: number;
  autoencoderSteps: number;
  autoencoderBatch: number;
  textEmbed: number;
  textHidden: number;
  textOut: number;
  maxTokens: number;
  denoiserHidden: number;
  denoiserBlocks: number;
  pretrainSteps: number;
  pretrainBatch: number;
  pretrainLearningRate: number;
  samplerSteps: number;
  guidance: number;
  /** Annotated pairs in the human seed set and videos in the held-out human test set. */
  humanSeedPairs: number;
  humanTestVideos: number;
  /** Share of human-set prompts whose two videos come from the base generator (the rest: renders with realistic defects). */
  generatorShare: number;
  /** Samples per evaluation prompt (fixed seeds). */
  evalSamplesPerPrompt: number;
  critic: CriticConfig;
  criticEpochs: number;
  criticLearningRate: number;
}

export const QUICKSTART: Sizes = {
  realVideos: 1500,
  autoencoderChannels: 8,
  autoencoderHidden: 256,
  autoencoderSteps: 500,
  autoencoderBatch: 1024,
  textEmbed: 16,
  textHidden: 256,
  textOut: 256,
  maxTokens: 48,
  denoiserHidden: 512,
  denoiserBlocks: 4,
  pretrainSteps: 1300,
  pretrainBatch: 64,
  pretrainLearningRate: 1e-3,
  samplerSteps: 20,
  guidance: 3,
  humanSeedPairs: 600,
  humanTestVideos: 400,
  generatorShare: 0.5,
  evalSamplesPerPrompt: 2,
  critic: DEFAULT_CRITIC,
  criticEpochs: 12,
  criticLearningRate: 2e-3,
};

export const TINY: Sizes = {
  realVideos: 48,
  autoencoderChannels: 4,
  autoencoderHidden: 32,
  autoencoderSteps: 20,
  autoencoderBatch: 128,
  textEmbed: 4,
  textHidden: 32,
  textOut: 32,
  maxTokens: 48,
  denoiserHidden: 64,
  denoiserBlocks: 1,
  pretrainSteps: 20,
  pretrainBatch: 16,
  pretrainLearningRate: 1e-3,
  samplerSteps: 4,
  guidance: 2,
  humanSeedPairs: 12,
  humanTestVideos: 12,
  generatorShare: 0.5,
  evalSamplesPerPrompt: 1,
  critic: TINY_CRITIC,
  criticEpochs: 2,
  criticLearningRate: 2e-3,
};

export const SIZE_PRESETS = { quickstart: QUICKSTART, tiny: TINY } as const;
export type SizePreset = keyof typeof SIZE_PRESETS;
