// pceFilter (paper 3.2, section 4.1): top-1 / bottom-1 pairs per prompt by the label set's ranking
// (buildPreferencePairs): the critic's pairwise win rates when the label stage judged the pairs
// (ranking 'pairwise'), else its pointwise score (or a diagnostic rankBy's); each kept iff the
// critic's certainty PCE = sigma(beta (R(y_w|x) - Q)) > 0.5, with Q = averageRewardQ of the pairs'
// R, where R is its implicit reward (log-ratio to its frozen reference) for "the top video is better";
// plus pointwise data for KTO and the exports in TRL / Pick-a-Pic formats; and, as a diagnostic that
// decides nothing, how often the world's benchmark agrees with the kept pairs.
import * as tf from '@tensorflow/tfjs';
import { averageRewardQ, buildPreferencePairs, preferenceCertainty, splitForKto, type PromptCandidates } from '../../core';
import type { StageContext, StageOutput } from '../contract';
import type { ArtifactRef } from '../../artifacts';
import { comparePairs, CriticOnnx, loadCritic, pseudoLogProbs, referenceCritic, DIMENSIONS, type CriticModel, type PseudoLabel } from '../../models/critic';
import { readTensor } from '../../models/nn/tf-ops';
import { type PreferencePairRecord, type PreferencePointRecord, type PreferenceSet } from '../../models/datasets';
import { pickAPicCsv, trlPreferenceJsonl, trlUnpairedJsonl, videoLocator } from '../../models/exports';
import { readParams } from '../params';
import { finiteMetrics, input, mean, prepare, runtimeOptions, throwIfCancelled } from './common';
import { loadSamples } from './samples';
import { loadLabels } from './shards';
import { benchmarkTotal } from './world-readings';

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
  const p = readParams('pceFilter', ctx);
  const { beta, usePce, paths } = p;
  const threshold = p.pceThreshold;
  const minGap = p.minScoreGap;
  const labelsRef = input(ctx, 'labels');
  const criticRef = input(ctx, 'critic');
  const labels = await loadLabels(ctx.store, labelsRef);
  const loaded = await loadSamples(ctx, labels.samples);
  const { set, videos } = loaded;
  const critic = await loadCritic(ctx.store, criticRef);
  const index = new Map(set.candidates.map((c, i) => [c.id, i]));

  // Section 4.1: per prompt, top-1 and bottom-1 by the critic's ranking (its pairwise win rates, or
  // its pointwise score), or by a diagnostic rankBy's score.
  const rankedBy = labels.rankBy ?? (labels.ranking === 'pairwise' ? 'pairwise' : 'pointwise');
  const rankOf = (item: (typeof labels.items)[number]): number => {
    if (rankedBy !== 'pairwise') return item.score;
    if (typeof item.wins !== 'number') throw new Error(`pceFilter: the labels are ranked pairwise but item "${item.id}" has no "wins"`);
    return item.wins;
  };
  const byPrompt = set.prompts.map(() => [] as { id: string; score: number }[]);
  for (const item of labels.items) byPrompt[item.prompt]!.push({ id: item.id, score: rankOf(item) });
  const groups: PromptCandidates[] = set.prompts.map((pr, i) => ({ prompt: pr.id, candidates: byPrompt[i]! }));
  const pairs = buildPreferencePairs(groups, { minGap });
  const promptOf = new Map(set.prompts.map((pr) => [pr.id, pr]));
  const features = await loaded.features(critic.config.featureVersion);
  const featuresOf = (id: string) => features[index.get(id)!]!;
  throwIfCancelled(ctx);
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let rewards;
  try {
    rewards = await pairRewards(critic, exec, pairs.map((pr) => ({ prompt: promptOf.get(pr.prompt)!.text, a: featuresOf(pr.chosen), b: featuresOf(pr.rejected) })), paths, `${p.seed}/pce/${ctx.request.round}`);
  } finally {
    await exec.release();
  }
  // Q over the pairs' chosen responses, as in SRPO training (averageRewardQ, eqs. 3-4); PCE per pair.
  const q = pairs.length ? averageRewardQ(rewards.chosen) : 0;
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

  // Pointwise data for Diffusion-KTO (section 3.3: pointwise grades for KTO): every candidate of a
  // prompt whose pair passed, desirable above the mean of those candidates' pointwise scores and
  // undesirable below it (at the mean: no label), whatever ranked the pairs.
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
  const checked = p.benchmarkCheck ? kept.map((r) => ({ chosen: totalOf(r.chosen, r.promptId), rejected: totalOf(r.rejected, r.promptId) })) : [];

  const locator = (id: string) => videoLocator(loaded.videosUri(index.get(id)!), id);
  const exports: Record<string, ArtifactRef> = {
    trlPreference: await ctx.store.put(ctx.outputKey('exports/trl-preference.jsonl'), trlPreferenceJsonl(kept.map((r) => ({ prompt: r.prompt, chosen: locator(r.chosen), rejected: locator(r.rejected), chosenScore: r.chosenScore, rejectedScore: r.rejectedScore })))),
    trlUnpaired: await ctx.store.put(ctx.outputKey('exports/trl-unpaired.jsonl'), trlUnpairedJsonl(points.map((pt) => ({ prompt: pt.prompt, completion: locator(pt.id), label: pt.desirable })))),
    pickAPic: await ctx.store.put(ctx.outputKey('exports/pick-a-pic.csv'), pickAPicCsv(kept.map((r) => ({ prompt: r.prompt, chosen: locator(r.chosen), rejected: locator(r.rejected) })))),
  };
  const preferenceSet: PreferenceSet = { format: 'dual-ipo/preferences@1', samples: labels.samples, labels: labelsRef, critic: criticRef.sha256, beta, usePce, q, rankedBy, pairs: records, points, exports };
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
