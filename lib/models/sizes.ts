// Model and data sizes of the builtin backend. 'quickstart' is sized for the 3-round quickstart on
// 2 CPU cores (bootstrap in about 4-5 minutes, a round in 1-2; measured figures in docs/models.md);
// 'tiny' is the same pipeline at toy size, for tests and CI. Every field can be overridden by a
// bootstrap stage param of the same name (stages.bootstrap.params in the campaign config).
import type { AutoencoderConfig } from './autoencoder';
import { DEFAULT_CRITIC, TINY_CRITIC, type CriticConfig } from './critic/model';
import { DEFAULT_SCHEDULE } from './diffusion';
import type { GeneratorConfig } from './generator';

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
  /** How the human sets' panel scores the evidence (absent: 'graded', lib/world assessment.ts). */
  humanEvidence?: 'clipped';
  /** Warm-start epochs and learning rate (unset: the critic's own defaults, docs/critic.md). */
  criticEpochs?: number;
  criticLearningRate?: number;
}

/** The fields a bootstrap param of the same name overrides (numbers). */
export const SIZE_FIELDS = [
  'realVideos',
  'autoencoderChannels',
  'autoencoderHidden',
  'autoencoderSteps',
  'autoencoderBatch',
  'textEmbed',
  'textHidden',
  'textOut',
  'maxTokens',
  'denoiserHidden',
  'denoiserBlocks',
  'pretrainSteps',
  'pretrainBatch',
  'pretrainLearningRate',
  'samplerSteps',
  'guidance',
  'humanSeedPairs',
  'humanTestVideos',
  'generatorShare',
  'evalSamplesPerPrompt',
  'criticEpochs',
  'criticLearningRate',
] as const satisfies readonly (keyof Sizes)[];

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
  // The critic clears the 0.75 gate from ~5,000 seed pairs (docs/critic.md: 0.74 at 3,000, 0.80 at 6,000).
  humanSeedPairs: 5000,
  // The paper's test set: 1,000 videos.
  humanTestVideos: 1000,
  // 0: the human sets are the world's clean and defective renders, and the critic branch runs beside
  // the generator's training. > 0 adds base-generator samples (the paper's data source), sequentially.
  generatorShare: 0,
  evalSamplesPerPrompt: 2,
  critic: DEFAULT_CRITIC,
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
  generatorShare: 0,
  evalSamplesPerPrompt: 1,
  critic: TINY_CRITIC,
  criticEpochs: 2,
  criticLearningRate: 2e-3,
};

export const SIZE_PRESETS = { quickstart: QUICKSTART, tiny: TINY } as const;
export type SizePreset = keyof typeof SIZE_PRESETS;

/** The base generator's config at these sizes: its text encoder, denoiser and sampler over a frozen autoencoder. */
export function baseGeneratorConfig(autoencoder: AutoencoderConfig, vocab: string[], sizes: Sizes): GeneratorConfig {
  return {
    autoencoder,
    text: { vocab, maxTokens: sizes.maxTokens, embed: sizes.textEmbed, hidden: sizes.textHidden, out: sizes.textOut },
    denoiser: { hidden: sizes.denoiserHidden, blocks: sizes.denoiserBlocks, timeEmbed: 128 },
    schedule: DEFAULT_SCHEDULE,
    sampler: { steps: sizes.samplerSteps, guidance: sizes.guidance, clipLatent: 4 },
  };
}
