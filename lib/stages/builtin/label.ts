// label: every sampled video judged along k reasoning paths on onnxruntime, voted per dimension
// (selfConsistencyVote, paper 3.2): grades, a score, the rationale. As diagnostics (not in the
// paper), param rankBy scores by 'evaluator', the benchmark's per-video Total (an oracle of what
// perfect preferences would give); 'human-evidence', the share of the prompt a careful viewer sees
// (a critic that reads the panel's checks perfectly); or 'random', a uniform draw per candidate
// (the control: pairs that carry no preference).
import type { StageContext, StageOutput } from '../contract';
import { CriticOnnx, judgeVideos, loadCritic, DIMENSIONS } from '../../models/critic';
import type { LabelSet } from '../../models/datasets';
import { Random } from '../../models/nn/random';
import { readParams } from '../params';
import { finiteMetrics, input, mean, prepare, runtimeOptions } from './common';
import { loadSamples } from './samples';
import { benchmarkTotal, promptShown } from './world-readings';

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
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let judged;
  try {
    judged = await judgeVideos(
      exec,
      set.candidates.map((c, i) => ({ prompt: set.prompts[c.prompt]!.text, features: features[i]! })),
      { paths, seed: `${p.seed}/label/${ctx.request.round}/${ctx.request.step ?? 'round'}`, batch: p.batch, indexOffset: loaded.candidateOffset },
    );
  } finally {
    await exec.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const oracle =
    rankBy === 'evaluator'
      ? set.candidates.map((c, i) => benchmarkTotal(set.prompts[c.prompt]!.spec, videos[i]!) / 100)
      : rankBy === 'human-evidence'
        ? set.candidates.map((c, i) => promptShown(set.prompts[c.prompt]!.spec, videos[i]!))
        : rankBy === 'random'
          ? set.candidates.map((c) => new Random(String(p.seed), 'random-rank', ctx.request.round, ctx.request.step ?? 'round', c.id).next())
          : undefined;
  const labels: LabelSet = {
    format: 'dual-ipo/labels@1',
    samples: samplesRef,
    critic: criticRef.sha256,
    paths,
    ...(oracle ? { rankBy } : {}),
    items: judged.map((j, i) => ({
      id: set.candidates[i]!.id,
      prompt: loaded.promptOffset + set.candidates[i]!.prompt,
      score: oracle ? oracle[i]! : j.score,
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
    metrics: finiteMetrics({ videos: judged.length, paths, meanScore: mean(judged.map((j) => j.score)), meanVoteShare: share, seconds, videoPathsPerSecond: (judged.length * paths) / Math.max(1e-9, seconds) }),
  };
}
