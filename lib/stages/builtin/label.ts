// label: every sampled video judged along k reasoning paths on onnxruntime, voted per dimension
// (selfConsistencyVote, paper 3.2): grades, a pointwise score, the rationale; and, with param ranking
// 'pairwise' (the default, paper 3.3: pairwise data for DPO), every pair of a prompt's candidates
// judged by the critic's pair head along the same k paths, each candidate's win rate over them
// (pairwiseWinRates) the ranking the pairs are built from. As diagnostics (not in the paper), param
// rankBy scores by 'evaluator', the benchmark's per-video Total (what the benchmark rewards, which
// can be gamed: not a ceiling for a critic); 'human-evidence', the share of the prompt a careful
// viewer sees (a critic that reads the panel's checks perfectly); 'panel', the simulated panel's
// pairwise win rates over the prompt's candidates (human preference data, what the user study
// asks); or 'random', a uniform draw per candidate (the control: pairs that carry no preference).
import type { StageContext, StageOutput } from '../contract';
import type { PromptSpec, Video } from '../../world';
import { pairwiseWinRates } from '../../core';
import { CriticOnnx, judgeCandidatePairs, judgeVideos, loadCritic, DIMENSIONS } from '../../models/critic';
import type { LabelSet } from '../../models/datasets';
import { Random } from '../../models/nn/random';
import { readParams } from '../params';
import { finiteMetrics, input, mean, prepare, runtimeOptions, throwIfCancelled } from './common';
import { loadSamples } from './samples';
import { benchmarkTotal, panelWinRates, promptShown } from './world-readings';

export async function labelStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('label', ctx);
  const { paths, rankBy } = p;
  const criticRef = input(ctx, 'critic');
  const samplesRef = input(ctx, 'samples');
  const critic = await loadCritic(ctx.store, criticRef);
  // A shard labels its prompts only; prompt and candidate indices stay the round's.
  const shard = ctx.request.shard;
  const loaded = await loadSamples(ctx, samplesRef, shard);
  const { set, videos } = loaded;
  const started = performance.now();
  const features = await loaded.features(critic.config.featureVersion);
  const seed = `${p.seed}/label/${ctx.request.round}/${ctx.request.step ?? 'round'}`;
  // The oracle rankings replace the critic's; only the critic's own ranking needs its pair head.
  const pairwise = p.ranking === 'pairwise' && rankBy === 'critic';
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let judged;
  const wins: number[] = [];
  let pairsJudged = 0;
  let pairwiseSeconds = 0;
  try {
    judged = await judgeVideos(
      exec,
      set.candidates.map((c, i) => ({ prompt: set.prompts[c.prompt]!.text, features: features[i]! })),
      { paths, seed, batch: p.batch, indexOffset: loaded.candidateOffset },
    );
    if (pairwise) {
      const pairStarted = performance.now();
      const byPrompt = set.prompts.map(() => [] as number[]);
      set.candidates.forEach((c, i) => byPrompt[c.prompt]!.push(i));
      for (const [k, rows] of byPrompt.entries()) {
        throwIfCancelled(ctx);
        // Seeded by the round's prompt index, so a shard judges its prompts as the whole stage would.
        const votes = await judgeCandidatePairs(exec, set.prompts[k]!.text, rows.map((i) => features[i]!), { paths, seed: `${seed}/pairs/${loaded.promptOffset + k}`, batch: p.batch });
        const ids = rows.map((i) => set.candidates[i]!.id);
        const rates = pairwiseWinRates(set.prompts[k]!.id, ids, votes.map((v) => ({ ...v, a: ids[v.a]!, b: ids[v.b]! })));
        rates.forEach((r, j) => (wins[rows[j]!] = r.score));
        pairsJudged += votes.length;
        if (k % 16 === 15) await ctx.progress(k + 1, byPrompt.length, undefined, `pairwise judgements: ${k + 1}/${byPrompt.length} prompts`);
      }
      pairwiseSeconds = (performance.now() - pairStarted) / 1000;
    }
  } finally {
    await exec.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const oracle =
    rankBy === 'evaluator'
      ? set.candidates.map((c, i) => benchmarkTotal(set.prompts[c.prompt]!.spec, videos[i]!) / 100)
      : rankBy === 'human-evidence'
        ? set.candidates.map((c, i) => promptShown(set.prompts[c.prompt]!.spec, videos[i]!))
        : rankBy === 'panel'
          ? panelScores(set, videos)
          : rankBy === 'random'
            ? set.candidates.map((c) => new Random(String(p.seed), 'random-rank', ctx.request.round, ctx.request.step ?? 'round', c.id).next())
            : undefined;
  const labels: LabelSet = {
    format: 'dual-ipo/labels@1',
    samples: samplesRef,
    critic: criticRef.sha256,
    paths,
    ...(oracle ? { rankBy } : {}),
    ...(pairwise ? { ranking: 'pairwise' as const } : {}),
    items: judged.map((j, i) => ({
      id: set.candidates[i]!.id,
      prompt: loaded.promptOffset + set.candidates[i]!.prompt,
      score: oracle ? oracle[i]! : j.score,
      ...(pairwise ? { wins: wins[i]! } : {}),
      scores: j.scores,
      grades: j.grades,
      shares: Object.fromEntries(DIMENSIONS.map((d) => [d, j.votes[d].share])) as LabelSet['items'][number]['shares'],
      rationale: { ...j.rationale },
    })),
  };
  const ref = await ctx.store.putJson(ctx.outputKey('labels.json'), labels, { summary: { videos: labels.items.length, paths } });
  const share = mean(judged.map((j) => mean(DIMENSIONS.map((d) => j.votes[d].share))));
  return {
    outputs: { labels: ref },
    metrics: finiteMetrics({
      videos: judged.length,
      paths,
      meanScore: mean(judged.map((j) => j.score)),
      meanVoteShare: share,
      seconds,
      videoPathsPerSecond: (judged.length * paths) / Math.max(1e-9, seconds),
      ...(pairwise ? { pairsJudged, pairwiseSeconds } : {}),
    }),
  };
}

/** rankBy 'panel': each candidate's win rate among its prompt's candidates, in the candidates' order. */
function panelScores(set: { prompts: { spec: PromptSpec }[]; candidates: { prompt: number }[] }, videos: readonly Video[]): number[] {
  const scores: number[] = [];
  const byPrompt = new Map<number, number[]>();
  set.candidates.forEach((c, i) => byPrompt.set(c.prompt, [...(byPrompt.get(c.prompt) ?? []), i]));
  for (const [prompt, rows] of byPrompt) {
    const rates = panelWinRates(set.prompts[prompt]!.spec, rows.map((i) => videos[i]!));
    rows.forEach((i, j) => (scores[i] = rates[j]!));
  }
  return scores;
}
