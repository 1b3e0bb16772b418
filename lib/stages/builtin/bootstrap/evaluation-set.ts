// Step 4: the evaluation prompts (held out, fixed seeds) and the ground truth's evaluator score on
// them, cached per prompt count below the bootstrap's folder: changing the count retrains nothing.
import type { ArtifactRef } from '../../../artifacts';
import { evaluateVideos, renderVideo, samplePrompts } from '../../../world';
import { promptRecord, type EvalPromptSet } from '../../../models/datasets';
import { finiteMetrics } from '../common';
import type { BootstrapRun } from './run';

const evalSeeds = (seed: string, promptId: string, k: number) => `${seed}/eval/${promptId}/${k}`;

export async function evaluationSet(run: BootstrapRun, count: number): Promise<{ ref: ArtifactRef; metrics: Record<string, number> }> {
  const { store, seed, sizes } = run;
  const key = `${run.prefix}eval-${count}/`;
  const done = await store.head(`${key}ground-truth.json`);
  const setRef = await store.head(`${key}eval-prompts.json`);
  if (done && setRef) return { ref: setRef, metrics: await store.getJson<Record<string, number>>(done) };
  const evalPrompts = samplePrompts({ count, seed: `${seed}/eval` });
  const evalSet: EvalPromptSet = { format: 'dual-ipo/eval-prompts@1', prompts: evalPrompts.map(promptRecord), samplesPerPrompt: sizes.evalSamplesPerPrompt, seed: `${seed}/eval` };
  const ref = await store.putJson(`${key}eval-prompts.json`, evalSet, { summary: { prompts: count } });
  const groundTruth = await run.phase('ground-truth-eval', async () =>
    evaluateVideos(evalPrompts.flatMap((pr) => Array.from({ length: sizes.evalSamplesPerPrompt }, (_, k) => ({ spec: pr.spec, video: renderVideo(pr.spec, { seed: evalSeeds(seed, pr.id, k) }) })))),
  );
  const metrics = finiteMetrics({ groundTruthTotal: groundTruth.total, groundTruthQuality: groundTruth.quality, groundTruthSemantic: groundTruth.semantic });
  await store.putJson(`${key}ground-truth.json`, metrics);
  return { ref, metrics };
}
