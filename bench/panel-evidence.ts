// What the critic benchmarks measure against: fresh candidates of one generator, and the simulated
// panel's graded evidence on each (bench/critic-probe.ts, bench/critic-rounds.ts).
import type { ArtifactRef, ArtifactStore } from '../lib/artifacts';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator } from '../lib/models/generator-serving';
import { HUMAN_DIMENSIONS, makePanel, panelView, type Prompt, type Video } from '../lib/world';

/** C candidates per prompt from the generator at `ref`; candidate c of prompt i is seeded `${seed}/${i}/${c}`. */
export async function sampleCandidates(store: ArtifactStore, ref: ArtifactRef, prompts: Prompt[], C: number, seed: string): Promise<Video[][]> {
  const model = await loadGenerator(store, ref);
  const sampler = await OnnxGenerator.create(model, await generatorOnnxBytes(store, ref, model));
  const videos: Video[][] = [];
  try {
    for (const [i, p] of prompts.entries()) {
      const { videos: vs } = await sampler.sample(Array.from({ length: C }, (_, c) => ({ prompt: p.text, seed: `${seed}/${i}/${c}` })), { batch: C });
      videos.push(vs);
    }
  } finally {
    await sampler.release();
  }
  return videos;
}

/**
 * What the panel judges: the graded evidence of the user study's panel (its annotators only add
 * noise to it), mean over the three human dimensions; one number per candidate.
 */
export function panelEvidence(prompts: Prompt[], videos: Video[][]): number[][] {
  const panel = makePanel({ seed: 'user-study', evidence: 'graded' });
  return prompts.map((p, i) => videos[i]!.map((video) => {
    const { scores } = panelView(panel, p.spec, { video }).assessment;
    return HUMAN_DIMENSIONS.reduce((s, d) => s + scores[d], 0) / HUMAN_DIMENSIONS.length;
  }));
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Standard error of the mean. */
export const se = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length);

/** Centred cross-products of one prompt's scores and measure, so callers can pool them or take the per-prompt r. */
export function centredMoments(score: number[], measure: number[]): { xy: number; xx: number; yy: number; r: number | undefined } {
  const [ms, mm] = [mean(score), mean(measure)];
  let [xy, xx, yy] = [0, 0, 0];
  score.forEach((x, c) => {
    xy += (x - ms) * (measure[c]! - mm);
    xx += (x - ms) ** 2;
    yy += (measure[c]! - mm) ** 2;
  });
  return { xy, xx, yy, r: xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : undefined };
}
