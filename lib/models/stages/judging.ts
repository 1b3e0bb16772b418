// The critic's stages (paper section 3.2, appendix C):
//
//   label        every sampled video judged along k reasoning paths on onnxruntime, voted per
//                dimension (selfConsistencyVote): grades, a score, the rationale (diagnostics, with
//                param rankBy: 'evaluator' scores by the benchmark's per-video Total, an oracle of
//                what perfect preferences would give; 'human-evidence' by the share of the prompt a
//                careful viewer sees, a critic that reads the panel's checks perfectly; 'random' a
//                uniform draw per candidate, the control: pairs that carry no preference)
//   pceFilter    top-1 / bottom-1 pairs per prompt by that score (buildPreferencePairs), each kept
//                iff the critic's certainty PCE = sigma(beta (R(y_w|x) - Q)) > 0.5, where R is its
//                implicit reward (log-ratio to its frozen reference) for "the top video is better";
//                plus pointwise data for KTO and the exports in TRL / Pick-a-Pic formats; and,
//                as a diagnostic that decides nothing, how often the world's benchmark agrees with
//                the kept pairs (each video's own Total: chosen above rejected)
//   criticTrain  SRPO: the critic's voted pseudo-labels on the kept pairs, PCE-filtered again per
//                label, learnt with srpoLoss (or dpoLoss) against the frozen reference, mixed with
//                the human seed set
//   validate     agreement with the held-out human test set (the gate's figure)
import * as tf from '@tensorflow/tfjs';
import { buildPreferencePairs, meanReward, preferenceCertainty, splitForKto, type PromptCandidates } from '../../core';
import type { StageContext, StageOutput } from '../../../activities/types';
import type { ArtifactRef } from '../../artifacts';
import {
  comparePairs,
  criticAgreement,
  CriticOnnx,
  exportCriticOnnx,
  judgeVideos,
  loadCritic,
  pseudoLabelPairs,
  pseudoLogProbs,
  referenceCritic,
  saveCritic,
  srpoTrainCritic,
  DIMENSIONS,
  type CriticModel,
  type PseudoLabel,
} from '../critic';
import { assess, evaluateVideos, perceive, type PromptSpec, type Video } from '../../world';
import { readTensor } from '../nn/tf-ops';
import { getManifest, getVideos, RANK_BY, toPairRecords, type HumanSet, type LabelSet, type PreferencePairRecord, type PreferencePointRecord, type PreferenceSet } from '../datasets';
import { pickAPicCsv, trlPreferenceJsonl, trlUnpairedJsonl, videoLocator } from '../exports';
import { Random } from '../nn/random';
import { finiteMetrics, input, mean, paramsOf, prepare, runtimeOptions, throwIfCancelled } from './common';
import { loadSamples } from './generation';
import { cachedCriticExamples, cachedVideoFeatures } from './critic-features';

/** The world's benchmark on one video alone: its Total (0-100) over that video (the oracle ranking, and the pairs' check). */
function benchmarkTotal(spec: PromptSpec, video: Video): number {
  return evaluateVideos([{ spec, video }]).total;
}

/** The share of the prompt's weighted attributes a careful viewer sees in the video (the panel's semantic evidence before its grading). */
function promptShown(spec: PromptSpec, video: Video): number {
  const { checks } = assess(spec, perceive(video));
  const all = checks.reduce((s, c) => s + c.weight, 0);
  return all ? checks.reduce((s, c) => s + (c.ok ? c.weight : 0), 0) / all : 1;
}

export async function labelStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const paths = p.int('paths', 8, 1);
  const rankBy = p.oneOf('rankBy', RANK_BY, 'critic');
  const criticRef = input(ctx, 'critic');
  const samplesRef = input(ctx, 'samples');
  const critic = await loadCritic(ctx.store, criticRef);
  const { set, videos } = await loadSamples(ctx, samplesRef);
  const started = performance.now();
  const features = await cachedVideoFeatures(ctx.store, samplesRef, videos.length, () => videos, critic.config.featureVersion);
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let judged;
  try {
    judged = await judgeVideos(
      exec,
      set.candidates.map((c, i) => ({ prompt: set.prompts[c.prompt]!.text, features: features[i]! })),
      { paths, seed: `${p.seed()}/label/${ctx.request.round}/${ctx.request.step ?? 'round'}`, batch: p.int('batch', 1024, 1) },
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
          ? set.candidates.map((c) => new Random(p.seed(), 'random-rank', ctx.request.round, ctx.request.step ?? 'round', c.id).next())
          : undefined;
  const labels: LabelSet = {
    format: 'dual-ipo/labels@1',
    samples: samplesRef,
    critic: criticRef.sha256,
    paths,
    ...(oracle ? { rankBy } : {}),
    items: judged.map((j, i) => ({
      id: set.candidates[i]!.id,
      prompt: set.candidates[i]!.prompt,
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

/** R(y_w|x) and R(y_l|x) per pair: the critic's log-ratio to its reference for "A is better" / "B is better", mean over dimensions. */
async function pairRewards(critic: CriticModel, exec: CriticOnnx, pairs: { prompt: string; a: Float32Array; b: Float32Array }[], paths: number, seed: string): Promise<{ chosen: number[]; rejected: number[] }> {
  if (!pairs.length) return { chosen: [], rejected: [] };
  const judged = await comparePairs(exec, pairs, { paths, seed, keepPaths: true });
  const labels: PseudoLabel[] = [];
  judged.forEach((j, i) => {
    // The response scored is the path that says "A" most often (ties: the first), with its rationale.
    const best = j.paths!.reduce((b, path) => (path.answers.filter((x) => x === 'A').length > b.answers.filter((x) => x === 'A').length ? path : b));
    DIMENSIONS.forEach((name, d) => labels.push({ id: `pair-${i}`, prompt: pairs[i]!.prompt, a: pairs[i]!.a, b: pairs[i]!.b, dimension: d, chosen: 'A', rationaleA: best.rationaleA, rationaleB: best.rationaleB, vote: j.votes[name] }));
  });
  const policy = pseudoLogProbs(critic, labels);
  const reference = pseudoLogProbs(referenceCritic(critic), labels);
  const D = DIMENSIONS.length;
  const per = (which: 'chosen' | 'rejected') => pairs.map((_, i) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += policy[which][i * D + d]! - reference[which][i * D + d]!;
    return s / D;
  });
  return { chosen: per('chosen'), rejected: per('rejected') };
}

export async function pceFilterStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const beta = p.number('beta', 0.1, { min: Number.MIN_VALUE });
  const usePce = p.boolean('usePce', true);
  const threshold = p.number('pceThreshold', 0.5, { min: 0, max: 1 });
  const minGap = p.number('minScoreGap', 0, { min: 0 });
  const paths = p.int('paths', 8, 1);
  const labelsRef = input(ctx, 'labels');
  const criticRef = input(ctx, 'critic');
  const labels = await getManifest<LabelSet>(ctx.store, labelsRef, 'dual-ipo/labels@1', 'labels');
  const { set, videos } = await loadSamples(ctx, labels.samples);
  const critic = await loadCritic(ctx.store, criticRef);
  const index = new Map(set.candidates.map((c, i) => [c.id, i]));

  // Section 4.1: per prompt, top-1 and bottom-1 by the label set's score (the critic's, unless rankBy).
  const byPrompt = set.prompts.map(() => [] as { id: string; score: number }[]);
  for (const item of labels.items) byPrompt[item.prompt]!.push({ id: item.id, score: item.score });
  const groups: PromptCandidates[] = set.prompts.map((pr, i) => ({ prompt: pr.id, candidates: byPrompt[i]! }));
  const pairs = buildPreferencePairs(groups, { minGap });
  const promptOf = new Map(set.prompts.map((pr) => [pr.id, pr]));
  const features = await cachedVideoFeatures(ctx.store, labels.samples, videos.length, () => videos, critic.config.featureVersion);
  const featuresOf = (id: string) => features[index.get(id)!]!;
  throwIfCancelled(ctx);
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let rewards;
  try {
    rewards = await pairRewards(critic, exec, pairs.map((pr) => ({ prompt: promptOf.get(pr.prompt)!.text, a: featuresOf(pr.chosen), b: featuresOf(pr.rejected) })), paths, `${p.seed()}/pce/${ctx.request.round}`);
  } finally {
    await exec.release();
  }
  // Q over every response, chosen and rejected (docs/algorithms.md section 2); PCE per pair.
  const q = pairs.length ? meanReward([...rewards.chosen, ...rewards.rejected]) : 0;
  const pce = pairs.length ? Array.from(readTensor(() => preferenceCertainty(tf.tensor1d(rewards.chosen), q, beta))) : [];
  const records: PreferencePairRecord[] = pairs.map((pr, i) => ({
    prompt: promptOf.get(pr.prompt)!.text,
    promptId: pr.prompt,
    chosen: pr.chosen,
    rejected: pr.rejected,
    chosenScore: pr.chosenScore,
    rejectedScore: pr.rejectedScore,
    gap: pr.gap,
    reward: rewards.chosen[i]!,
    pce: pce[i]!,
    // Strict, as the paper's "PCE > 0.5": at policy = reference every PCE is 0.5 and nothing passes.
    kept: !usePce || pce[i]! > threshold,
  }));
  const kept = records.filter((r) => r.kept);

  // Pointwise data for Diffusion-KTO: every candidate of a prompt whose pair passed, desirable above
  // the mean score of those candidates and undesirable below it (at the mean: no label).
  const keptPrompts = new Set(kept.map((r) => r.promptId));
  const candidates = labels.items.filter((it) => keptPrompts.has(set.prompts[it.prompt]!.id)).map((it) => ({ id: it.id, score: it.score, prompt: set.prompts[it.prompt]!.text, promptId: set.prompts[it.prompt]!.id }));
  const split = candidates.length ? splitForKto(candidates, { threshold: mean(candidates.map((c) => c.score)) }) : { desirable: [], undesirable: [], neutral: [] };
  const points: PreferencePointRecord[] = [
    ...split.desirable.map((s) => ({ ...(s as (typeof candidates)[number]), desirable: true })),
    ...split.undesirable.map((s) => ({ ...(s as (typeof candidates)[number]), desirable: false })),
  ];

  // Diagnostic only (never used to choose): does the world's benchmark agree with the kept pairs?
  // Each video is scored alone (its per-video Total); a deployment has no such oracle, this world does.
  const totalOf = (id: string, promptId: string) => benchmarkTotal(promptOf.get(promptId)!.spec, videos[index.get(id)!]!);
  const checked = p.boolean('benchmarkCheck', true) ? kept.map((r) => ({ chosen: totalOf(r.chosen, r.promptId), rejected: totalOf(r.rejected, r.promptId) })) : [];

  const locator = (id: string) => videoLocator(set.videos.uri, id);
  const exports: Record<string, ArtifactRef> = {
    trlPreference: await ctx.store.put(ctx.outputKey('exports/trl-preference.jsonl'), trlPreferenceJsonl(kept.map((r) => ({ prompt: r.prompt, chosen: locator(r.chosen), rejected: locator(r.rejected), chosenScore: r.chosenScore, rejectedScore: r.rejectedScore })))),
    trlUnpaired: await ctx.store.put(ctx.outputKey('exports/trl-unpaired.jsonl'), trlUnpairedJsonl(points.map((pt) => ({ prompt: pt.prompt, completion: locator(pt.id), label: pt.desirable })))),
    pickAPic: await ctx.store.put(ctx.outputKey('exports/pick-a-pic.csv'), pickAPicCsv(kept.map((r) => ({ prompt: r.prompt, chosen: locator(r.chosen), rejected: locator(r.rejected) })))),
  };
  const preferenceSet: PreferenceSet = { format: 'dual-ipo/preferences@1', samples: labels.samples, labels: labelsRef, critic: criticRef.sha256, beta, usePce, q, pairs: records, points, exports };
  const ref = await ctx.store.putJson(ctx.outputKey('preferences.json'), preferenceSet, { summary: { kept: kept.length, total: records.length, points: points.length } });
  return {
    outputs: { preferences: ref, ...exports },
    metrics: finiteMetrics({
      kept: kept.length,
      total: records.length,
      keptShare: records.length ? kept.length / records.length : Number.NaN,
      q,
      pceMean: mean(pce),
      rewardChosenMean: mean(rewards.chosen),
      gapMean: mean(records.map((r) => r.gap)),
      points: points.length,
      desirable: split.desirable.length,
      ...(checked.length
        ? {
            benchmarkAgreement: checked.filter((c) => c.chosen > c.rejected).length / checked.length,
            benchmarkChosenTotal: mean(checked.map((c) => c.chosen)),
            benchmarkRejectedTotal: mean(checked.map((c) => c.rejected)),
          }
        : {}),
    }),
  };
}

/** The held-out or seed human set as critic examples (frozen features of its videos, cached per feature version). */
async function humanExamples(ctx: StageContext, ref: ArtifactRef, name: string, featureVersion: number) {
  const set = await getManifest<HumanSet>(ctx.store, ref, 'dual-ipo/human-set@1', name);
  return cachedCriticExamples(ctx.store, ref, toPairRecords(set, await getVideos(ctx.store, set.videos)), featureVersion);
}

export async function criticTrainStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const seed = `${p.seed()}/srpo/${ctx.request.round}`;
  const critic = await loadCritic(ctx.store, input(ctx, 'critic'));
  const preferences = await getManifest<PreferenceSet>(ctx.store, input(ctx, 'pseudo'), 'dual-ipo/preferences@1', 'pseudo');
  const seedExamples = await humanExamples(ctx, input(ctx, 'humanSeed'), 'humanSeed', critic.config.featureVersion);
  const { set, videos } = await loadSamples(ctx, preferences.samples);
  const features = await cachedVideoFeatures(ctx.store, preferences.samples, videos.length, () => videos, critic.config.featureVersion);
  const index = new Map(set.candidates.map((c, i) => [c.id, i]));
  const kept = preferences.pairs.filter((r) => r.kept);
  throwIfCancelled(ctx);

  // Pseudo-labels: the critic's own vote on each kept pair (section 3.2), one per decided dimension.
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let pseudo: PseudoLabel[];
  try {
    pseudo = await pseudoLabelPairs(
      exec,
      kept.map((r) => ({ id: `${r.chosen}|${r.rejected}`, prompt: r.prompt, a: features[index.get(r.chosen)!]!, b: features[index.get(r.rejected)!]! })),
      { paths: p.int('paths', 8, 1), seed },
    );
  } finally {
    await exec.release();
  }
  const limit = p.int('pseudoLabelsPerIteration', 20_000, 1);
  if (pseudo.length > limit) pseudo = new Random(seed, 'pseudo-subset').shuffle(pseudo).slice(0, limit);
  await ctx.progress(1, 3, undefined, `${pseudo.length} pseudo-labels from ${kept.length} pairs`);

  let model = critic;
  let metrics: Record<string, number> = { pseudoLabels: pseudo.length, pairs: kept.length, kept: 0, total: pseudo.length };
  if (pseudo.length) {
    const trained = await srpoTrainCritic(critic, referenceCritic(critic), pseudo, seedExamples, {
      beta: p.number('beta', 0.1, { min: Number.MIN_VALUE }),
      usePce: p.boolean('usePce', true),
      loss: p.oneOf('loss', ['srpo', 'dpo'] as const, 'srpo'),
      epochs: p.int('epochs', 2, 1),
      lr: p.number('learningRate', 5e-4, { min: 0 }),
      seedMix: p.number('humanSeedMix', 1, { min: 0 }),
      seed,
      signal: ctx.signal,
      onProgress: async ({ step, steps, loss }) => {
        if (step % 5 === 0) await ctx.progress(2, 3, undefined, `SRPO step ${step}/${steps}, loss ${loss.toFixed(4)}`);
      },
    });
    model = trained.model;
    metrics = { ...metrics, ...trained.metrics };
  } else {
    ctx.log('criticTrain: no pseudo-labels (no kept pair had a decided vote); the critic is unchanged');
  }
  const key = ctx.outputKey('critic.ckpt');
  await ctx.store.put(`${key}.onnx`, exportCriticOnnx(model));
  const ref = await saveCritic(ctx.store, key, model, { createdBy: 'criticTrain', round: ctx.request.round }, { round: ctx.request.round });
  return { outputs: { critic: ref }, metrics: finiteMetrics(metrics) };
}

export async function validateStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const critic = await loadCritic(ctx.store, input(ctx, 'critic'));
  const test = await humanExamples(ctx, input(ctx, 'humanTest'), 'humanTest', critic.config.featureVersion);
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  try {
    const a = await criticAgreement(exec, test, { paths: p.int('paths', 8, 1), seed: `${p.seed()}/validate` });
    const metrics: Record<string, number> = { agreementPairwise: a.pairwise.agreement, agreementPointwise: a.pointwise.agreement, pairsCounted: a.pairwise.counted, videosCounted: a.pointwise.counted };
    for (const d of DIMENSIONS) {
      metrics[`agreementPairwise_${d}`] = a.perDimension[d].pairwise;
      metrics[`agreementPointwise_${d}`] = a.perDimension[d].pointwise;
    }
    return { outputs: {}, metrics: finiteMetrics(metrics) };
  } finally {
    await exec.release();
  }
}
