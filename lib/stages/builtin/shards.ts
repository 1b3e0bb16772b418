// Joining a sharded builtin stage: what the next stage reads. sample and label write a manifest of
// their shards' sets (read set by set by loadSamples / loadLabels); evaluate joins its shards' per-video
// parts into one scores file, figures recomputed in the same order as an unsharded evaluation.
import type { ArtifactRef, ArtifactStore } from '../../artifacts';
import type { StageContext, StageOutput, StageResult } from '../contract';
import { evaluationOfParts, type VideoParts } from '../../world';
import { DIMENSIONS } from '../../models/critic';
import { getManifest, type EvalPromptSet, type LabelSet, type SampleSet } from '../../models/datasets';
import { finiteMetrics, input, mean } from './common';
import type { SampleShardSet } from './samples';
import { baselineParts, evaluationMetrics, scoresHead } from './evaluate';

/** What a sharded label stage's merge writes: each shard's label set, in prompt order. */
export interface LabelShardSet {
  format: 'dual-ipo/label-shards@1';
  samples: ArtifactRef;
  critic: string;
  paths: number;
  rankBy?: LabelSet['rankBy'];
  ranking?: LabelSet['ranking'];
  shards: { from: number; to: number; items: number; labels: ArtifactRef }[];
}

/** A label set, or a sharded label stage's manifest read as one (items in prompt order). */
export async function loadLabels(store: ArtifactStore, ref: ArtifactRef): Promise<LabelSet> {
  const head = await store.getJson<{ format?: string }>(ref);
  if (head?.format !== 'dual-ipo/label-shards@1') return getManifest<LabelSet>(store, ref, 'dual-ipo/labels@1', 'labels');
  const manifest = head as LabelShardSet;
  const items: LabelSet['items'] = [];
  for (const s of manifest.shards) items.push(...(await getManifest<LabelSet>(store, s.labels, 'dual-ipo/labels@1', 'labels')).items);
  return { format: 'dual-ipo/labels@1', samples: manifest.samples, critic: manifest.critic, paths: manifest.paths, ...(manifest.rankBy ? { rankBy: manifest.rankBy } : {}), ...(manifest.ranking ? { ranking: manifest.ranking } : {}), items };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function mergeSample(ctx: StageContext, shards: StageResult[]): Promise<StageOutput> {
  const parts: SampleShardSet['shards'] = [];
  let round = ctx.request.round;
  let generator = '';
  for (const [i, r] of shards.entries()) {
    const ref = r.outputs['samples'];
    if (!ref) throw new Error(`sample shard ${i} has no output "samples"`);
    const set = await getManifest<SampleSet>(ctx.store, ref, 'dual-ipo/samples@1', `samples of shard ${i}`);
    const from = i === 0 ? 0 : parts[i - 1]!.to;
    parts.push({ from, to: from + set.prompts.length, candidates: set.candidates.length, samples: ref });
    round = set.round;
    generator = set.generator;
  }
  const manifest: SampleShardSet = { format: 'dual-ipo/sample-shards@1', round, generator, prompts: parts.at(-1)?.to ?? 0, candidates: sum(parts.map((p) => p.candidates)), shards: parts };
  const samples = await ctx.store.putJson(ctx.outputKey('samples.json'), manifest, { summary: { prompts: manifest.prompts, candidates: manifest.candidates, shards: parts.length } });
  const seconds = sum(shards.map((r) => r.metrics['seconds'] ?? 0));
  return { outputs: { samples }, metrics: { prompts: manifest.prompts, videos: manifest.candidates, seconds, videosPerSecond: manifest.candidates / Math.max(1e-9, seconds), shards: shards.length } };
}

async function mergeLabel(ctx: StageContext, shards: StageResult[]): Promise<StageOutput> {
  const parts: LabelShardSet['shards'] = [];
  const sets: LabelSet[] = [];
  for (const [i, r] of shards.entries()) {
    const ref = r.outputs['labels'];
    if (!ref) throw new Error(`label shard ${i} has no output "labels"`);
    const set = await getManifest<LabelSet>(ctx.store, ref, 'dual-ipo/labels@1', `labels of shard ${i}`);
    const prompts = set.items.map((it) => it.prompt);
    parts.push({ from: prompts.length ? Math.min(...prompts) : (parts.at(-1)?.to ?? 0), to: prompts.length ? Math.max(...prompts) + 1 : (parts.at(-1)?.to ?? 0), items: set.items.length, labels: ref });
    sets.push(set);
  }
  const first = sets[0];
  if (!first) throw new Error('label: no shards to merge');
  const manifest: LabelShardSet = { format: 'dual-ipo/label-shards@1', samples: input(ctx, 'samples'), critic: first.critic, paths: first.paths, ...(first.rankBy ? { rankBy: first.rankBy } : {}), ...(first.ranking ? { ranking: first.ranking } : {}), shards: parts };
  const labels = await ctx.store.putJson(ctx.outputKey('labels.json'), manifest, { summary: { videos: sum(parts.map((p) => p.items)), paths: first.paths, shards: parts.length } });
  // The unsharded stage's figures, recomputed from the items in the same order and arithmetic.
  const items = sets.flatMap((s) => s.items);
  const D = DIMENSIONS.length;
  const critic = items.map((it) => DIMENSIONS.reduce((s, name) => s + it.scores[name], 0) / D);
  const share = mean(items.map((it) => mean(DIMENSIONS.map((d) => it.shares[d]))));
  const seconds = sum(shards.map((r) => r.metrics['seconds'] ?? 0));
  return {
    outputs: { labels },
    metrics: finiteMetrics({
      videos: items.length,
      paths: first.paths,
      meanScore: mean(critic),
      meanVoteShare: share,
      seconds,
      videoPathsPerSecond: (items.length * first.paths) / Math.max(1e-9, seconds),
      ...(first.ranking ? { pairsJudged: sum(shards.map((r) => r.metrics['pairsJudged'] ?? 0)), pairwiseSeconds: sum(shards.map((r) => r.metrics['pairwiseSeconds'] ?? 0)) } : {}),
      shards: shards.length,
    }),
  };
}

interface ScoresFile {
  format: 'dual-ipo/scores@1';
  generator: string;
  evalPrompts: string;
  videoTotals: number[];
  videoParts: VideoParts;
  gifs: ArtifactRef[];
  prompts: string[];
}

async function mergeEvaluate(ctx: StageContext, shards: StageResult[]): Promise<StageOutput> {
  const evalSet = await getManifest<EvalPromptSet>(ctx.store, input(ctx, 'evalPrompts'), 'dual-ipo/eval-prompts@1', 'evalPrompts');
  const files: ScoresFile[] = [];
  const shardScores: ArtifactRef[] = [];
  const gifs: Record<string, ArtifactRef> = {};
  for (const [i, r] of shards.entries()) {
    const ref = r.outputs['scores'];
    if (!ref) throw new Error(`evaluate shard ${i} has no output "scores"`);
    files.push(await ctx.store.getJson<ScoresFile>(ref));
    shardScores.push(ref);
    for (const [name, gif] of Object.entries(r.outputs)) if (name.startsWith('gif')) gifs[name] = gif;
  }
  const parts: VideoParts = { values: files.flatMap((f) => f.videoParts.values), weights: files.flatMap((f) => f.videoParts.weights) };
  const result = evaluationOfParts(parts);
  const videos = parts.values.length;
  const scores = await ctx.store.putJson(ctx.outputKey('scores.json'), {
    ...scoresHead(ctx, input(ctx, 'generator'), result, videos),
    videoTotals: files.flatMap((f) => f.videoTotals),
    videoParts: parts,
    gifs: Object.values(gifs),
    prompts: files.flatMap((f) => f.prompts),
    shards: shardScores,
  });
  const baseline = await baselineParts(ctx, evalSet, videos);
  const extra = { samplingSeconds: sum(shards.map((r) => r.metrics['samplingSeconds'] ?? 0)), shards: shards.length };
  return { outputs: { scores, ...gifs }, metrics: evaluationMetrics(result, videos, parts, baseline, evalSet.samplesPerPrompt, extra) };
}

export const builtinMerges: Partial<Record<StageContext['request']['stage'], (ctx: StageContext, shards: StageResult[]) => Promise<StageOutput>>> = {
  sample: mergeSample,
  label: mergeLabel,
  evaluate: mergeEvaluate,
};
