// The critic's frozen vision tower, part 1: fixed pixel statistics of a video (the analogue of a
// VLM's pretrained vision encoder, which the reward-model fine-tuning leaves frozen). Nothing here
// is learnt and nothing knows the world: no palette, no scene plates, no perception module. It
// measures what any video has: how colours are distributed (overall, over time and among the
// pixels that change), where each colour sits over time, how much and where pixels
// change between frames, how the picture as a whole shifts and brightens, and how sharp and how
// grainy it is (pixel-statistics.ts). Part 2 (a fixed random projection of these numbers) lives in
// the graph (model.ts).
// The 'detector' tower (feature version 2) appends a world-trained detector's readings (detector.ts);
// the 'semantic' tower (3) appends the same kind of readings taken through the critic's own
// lower-resolution eye, with errors the panel's and the evaluator's perception do not make.
//
// It runs in plain JS, once per video: both executors (tfjs for training, onnxruntime for serving)
// are fed the very same numbers, and training caches them (the tower is frozen, so a video's
// features never change). Values are scaled by fixed transforms (sqrt of shares, logs of energies)
// to be O(1); the head's first layer is followed by a LayerNorm, so no statistics are fitted.
import type { Video } from '../../world';
import { READINGS_SIZE, semanticReadings, videoReadings } from './detector';
import { FEATURE_SIZE, pixelStatistics } from './pixel-statistics';

export { FEATURE_LAYOUT, FEATURE_SIZE, PALETTE, pixelStatistics } from './pixel-statistics';

/** The default tower's version (pixel statistics). A checkpoint records the version it was trained on; a
 *  change to what a version computes needs a new version. */
export const FEATURE_VERSION = 1;

/**
 * The frozen towers a critic can have, by the feature version its checkpoint records: 'statistics'
 * (1) the pixel statistics alone; 'detector' (2) the same followed by a world-trained
 * detector's readings (detector.ts). The statistics come first in both, at the same offsets.
 */
export const CRITIC_VISIONS = { statistics: 1, detector: 2, semantic: 3 } as const;
export type CriticVision = keyof typeof CRITIC_VISIONS;

/** Length of the feature vector of a version; throws on a version this code does not compute. */
export function featureSize(version: number): number {
  if (version === 1) return FEATURE_SIZE;
  if (version === 2 || version === 3) return FEATURE_SIZE + READINGS_SIZE;
  throw new Error(`critic features: unknown feature version ${version} (this code computes ${Object.entries(CRITIC_VISIONS).map(([k, v]) => `${v} = ${k}`).join(', ')})`);
}

/**
 * What a critic's frozen tower reads in one video ([T, H, W, 3] in [0, 1]): the pixel statistics,
 * followed with version 2 by the detector's readings, with version 3 by the semantic tower's
 * (the detector through the critic's own eye). featureSize(version) values.
 */
export function videoFeatures(video: Video, version: number = FEATURE_VERSION): Float32Array {
  const size = featureSize(version);
  const statistics = pixelStatistics(video);
  if (version === 1) return statistics;
  const out = new Float32Array(size);
  out.set(statistics);
  out.set(version === 3 ? semanticReadings(video) : videoReadings(video), FEATURE_SIZE);
  return out;
}
