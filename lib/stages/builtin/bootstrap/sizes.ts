// The bootstrap's model and data sizes (a preset, each field overridable by a param of its name)
// and the id of its cache folder.
import { sha256Hex, stableStringify } from '../../../artifacts/stable-json';
import { PERCEPTION_VERSION } from '../../../world';
import { criticParamShapes, CRITIC_VISIONS, featureSize, FEATURE_VERSION } from '../../../models/critic';
import { SIZE_FIELDS, SIZE_PRESETS, type Sizes } from '../../../models/sizes';
import { ConfigError, type StageParams } from '../../params';

/**
 * Bumped when a change to the models makes cached bootstraps invalid. 2: decoded videos interpolate
 * the tubelets' keyframes (lib/models/video.ts decodedVideo), which changes the generator samples
 * in the human sets, and the panel reads the evidence graded by default.
 */
export const MODELS_VERSION = 2;

/** The preset named by param `size` (default quickstart), with any field overridden by a param of that name. */
export function resolveSizes(p: Pick<StageParams<'bootstrap'>, 'size' | 'criticVision' | 'humanEvidence' | (typeof SIZE_FIELDS)[number]>): Sizes {
  const sizes: Sizes = { ...SIZE_PRESETS[p.size] };
  for (const key of SIZE_FIELDS) {
    const value = p[key];
    if (value !== undefined) (sizes as unknown as Record<string, number>)[key] = value;
  }
  // The critic's frozen tower (docs/critic.md): pixel statistics alone, or with a detector's readings.
  const featureVersion = CRITIC_VISIONS[p.criticVision];
  if (featureVersion !== sizes.critic.featureVersion) sizes.critic = { ...sizes.critic, featureVersion, features: featureSize(featureVersion) };
  // How the panel of the human sets scores what it sees (lib/world assessment.ts); the default is
  // left out of the sizes, so that default settings keep one cache id.
  if (p.humanEvidence === 'clipped') sizes.humanEvidence = 'clipped';
  if (sizes.humanTestVideos % 2) throw new ConfigError(`bootstrap: param "humanTestVideos" must be even (pairs of videos), got ${sizes.humanTestVideos}`);
  return sizes;
}

/** The seed of the base models and human sets: the campaign's, unless param baseSeed names one (an experiment's seeds sharing one base). */
export function bootstrapSeed(p: { seed: number | string; baseSeed?: number | string | undefined }): string {
  return String(p.baseSeed ?? p.seed);
}

/**
 * The bootstrap cache's folder name: everything the cached models depend on, including the shapes of
 * the critic's parameters and its tower (another engineer's architecture change must not reuse old
 * files), and the version of the world's perception (the human sets' labels depend on it). Default
 * settings keep their id unless one of those versions changes, or every user's cache is silently
 * rebuilt (tested).
 */
export function bootstrapCacheId(seed: string, sizes: Sizes): string {
  return sha256Hex(stableStringify({ version: MODELS_VERSION, perception: PERCEPTION_VERSION, seed, sizes, critic: criticParamShapes({ ...sizes.critic, text: { ...sizes.critic.text, vocab: ['<pad>', '<unk>'] } }), features: FEATURE_VERSION })).slice(0, 20);
}
