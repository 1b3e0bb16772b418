// The audit's simulated user study: each audited generator's videos against the base's, judged by
// the panel (lib/world/user-study.ts). The videos are the ones the evaluate stage scores (same
// prompts, same seeds, same sampler), sampled again here because that stage keeps only scores.
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import type { EvalPromptSet } from '../models/datasets';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator } from '../models/generator-serving';
import { makePanel, panelView, userStudy, type Annotator, type PanelView, type UserStudyResult } from '../world';

/** The study's panel reads the evidence graded (ties only where two videos are alike; docs/world.md). */
export const USER_STUDY_EVIDENCE = 'graded' as const;

export function userStudyPanel(): Annotator[] {
  return makePanel({ seed: 'user-study', evidence: USER_STUDY_EVIDENCE });
}

/** Videos sampled and looked at per chunk: the panel's views are kept, the pixels are not. */
const CHUNK = 256;

/** The panel's view of each of a generator's audit videos, in the evaluate stage's order. */
export async function studyViews(store: ArtifactStore, generator: ArtifactRef, set: EvalPromptSet, panel: Annotator[], opts: { batch?: number } = {}): Promise<PanelView[]> {
  const requests = set.prompts.flatMap((pr) => Array.from({ length: set.samplesPerPrompt }, (_, k) => ({ prompt: pr.text, seed: `${set.seed}/${pr.id}/${k}`, spec: pr.spec })));
  const model = await loadGenerator(store, generator);
  const sampler = await OnnxGenerator.create(model, await generatorOnnxBytes(store, generator, model));
  const views: PanelView[] = [];
  try {
    for (let start = 0; start < requests.length; start += CHUNK) {
      const chunk = requests.slice(start, start + CHUNK);
      const { videos } = await sampler.sample(chunk, { batch: opts.batch ?? 64 });
      videos.forEach((video, i) => views.push(panelView(panel, chunk[i]!.spec, { video })));
    }
  } finally {
    await sampler.release();
  }
  return views;
}

/** The study of one generator's views against the base's (both from studyViews on one prompt set). */
export function studyAgainstBase(panel: Annotator[], set: EvalPromptSet, candidate: readonly PanelView[], base: readonly PanelView[]): UserStudyResult {
  if (candidate.length !== base.length) throw new Error(`user study: ${candidate.length} candidate videos against ${base.length} of the base`);
  return userStudy(
    panel,
    candidate.map((c, i) => {
      const prompt = Math.floor(i / set.samplesPerPrompt);
      return { spec: set.prompts[prompt]!.spec, candidate: c, base: base[i]!, cluster: prompt };
    }),
  );
}
