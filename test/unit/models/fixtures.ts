// Small real models for the tests: the same code as the quickstart, at toy sizes.
import { autoencoderParamShapes, type AutoencoderConfig } from '../../../lib/models/autoencoder';
import { DEFAULT_SCHEDULE } from '../../../lib/models/diffusion';
import { initGenerator, type GeneratorConfig } from '../../../lib/models/generator';
import type { GeneratorModel } from '../../../lib/models/generator-serving';
import { initParams } from '../../../lib/models/nn/params';
import { fitVocabulary } from '../../../lib/models/text';
import { samplePrompts } from '../../../lib/world';

export const TINY_AE: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: 4, hidden: 32 };

export function tinyGeneratorConfig(vocabTexts: string[] = samplePrompts({ count: 50, seed: 'fixture-vocab' }).map((p) => p.text)): GeneratorConfig {
  return {
    autoencoder: TINY_AE,
    text: { vocab: fitVocabulary(vocabTexts), maxTokens: 48, embed: 4, hidden: 16, out: 16 },
    denoiser: { hidden: 32, blocks: 1, timeEmbed: 16 },
    schedule: DEFAULT_SCHEDULE,
    sampler: { steps: 4, guidance: 2, clipLatent: 4 },
  };
}

/** An untrained generator (random autoencoder, unit latent statistics); denoiser outputs made non-zero. */
export function tinyGenerator(seed = 'fixture'): GeneratorModel {
  const config = tinyGeneratorConfig();
  const ae = initParams(autoencoderParamShapes(config.autoencoder), `${seed}/ae`);
  ae['ae.norm.std']!.data.fill(1);
  const params = initGenerator(config, ae, seed);
  // The zero-initialised output layer would make every sample ignore the prompt; give it weights.
  const out = params['den.out.w']!;
  out.data.set(initParams({ x: out.shape }, `${seed}/out`).x!.data.map((v) => v * 0.5));
  return { config, params, meta: { fixture: true } };
}
