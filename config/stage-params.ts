// What a stage is given: the paper's settings it uses from the config's sections, then the stage's own
// knobs (`stages.<stage>.params`). The one place a workflow turns a config into stage parameters; the
// defaults live in lib/stages/params.ts. Pure and deterministic: workflows import it.
import type { StageName } from '../lib/stages/contract';
import type { CampaignConfig } from './schema';

/** The stages whose work is a list of prompts, split into shards by stages.<stage>.shardSize. */
export const SHARDABLE_STAGES: readonly StageName[] = ['sample', 'label', 'evaluate'];
/** Shards in flight when shardSize is set and maxParallel is not. */
export const DEFAULT_MAX_PARALLEL = 8;

/**
 * The parameters of `stage` in round `round` (0: the bootstrap and the base model's evaluation).
 * `step` 'pseudo' is the critic's own labelling inside its refinement: it is always the critic's
 * judgement, whatever ranks the generator's preference data (generation.rankBy).
 */
export function stageParams(config: CampaignConfig, stage: StageName, round: number, step?: string): Record<string, unknown> {
  const { generation: g, critic: c, generator: t } = config;
  const judging = { paths: c.paths, beta: c.beta, pceThreshold: c.pceThreshold, usePce: c.usePce, pairing: g.pairing, minScoreGap: g.minScoreGap };
  // Only when set, so the params of campaigns recorded before the diagnostic rankings are unchanged.
  const ranking = { method: t.method, ...(g.rankBy !== 'critic' ? { rankBy: g.rankBy } : {}) };
  const fromConfig: Record<StageName, Record<string, unknown>> = {
    bootstrap: { promptsPerRound: g.promptsPerRound, candidatesPerPrompt: g.candidatesPerPrompt, evalPrompts: g.evalPrompts },
    sample: { promptsPerRound: g.promptsPerRound, candidatesPerPrompt: g.candidatesPerPrompt },
    // Configs parsed before critic.ranking existed have none: the stage's default (pairwise) applies.
    label: { ...judging, ...(c.ranking ? { ranking: c.ranking } : {}), ...(step === 'pseudo' ? {} : ranking) },
    pceFilter: { ...judging, ...(step === 'pseudo' ? {} : ranking) },
    criticTrain: { ...judging, loss: c.loss, epochs: c.epochs, learningRate: c.learningRate, humanSeedMix: c.humanSeedMix, pseudoLabelsPerIteration: c.pseudoLabelsPerIteration },
    validate: {},
    generatorTrain: { method: t.method, betaDpo: t.betaDpo, betaKto: t.betaKto, lambdaPreferred: t.lambdaPreferred, lambdaReal: t.lambdaReal, learningRate: t.learningRate, steps: t.steps },
    evaluate: {},
  };
  return { seed: config.campaign.seed, round, ...fromConfig[stage], ...config.stages[stage].params };
}

export interface ShardPlan {
  /** Prompts the stage works through (its deterministic prompt list). */
  prompts: number;
  shardSize: number;
  maxParallel: number;
  shards: number;
}

/**
 * How a sharded stage splits its prompts, or undefined when it runs as one activity. sample and
 * label work through the round's prompts, evaluate through the evaluation prompts.
 */
export function shardPlan(config: CampaignConfig, stage: StageName): ShardPlan | undefined {
  const cfg = config.stages[stage];
  if (cfg.shardSize === undefined || !SHARDABLE_STAGES.includes(stage)) return undefined;
  const prompts = stage === 'evaluate' ? config.generation.evalPrompts : config.generation.promptsPerRound;
  return { prompts, shardSize: cfg.shardSize, maxParallel: cfg.maxParallel ?? DEFAULT_MAX_PARALLEL, shards: Math.ceil(prompts / cfg.shardSize) };
}

/** Shard `index` of a plan: its prompts [from, to). */
export function shardRange(plan: Pick<ShardPlan, 'prompts' | 'shardSize'>, index: number): { from: number; to: number } {
  return { from: index * plan.shardSize, to: Math.min(plan.prompts, (index + 1) * plan.shardSize) };
}
