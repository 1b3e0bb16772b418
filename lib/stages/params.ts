// One typed parameter schema per stage. Each default is written here once: the campaign config's
// sections (config/schema.ts) are built from the same field definitions, and a builtin stage reads
// its parameters through its schema, so config, workflow and stage cannot disagree on a value.
//
// A stage's parameters come from two places (config/stage-params.ts joins them):
//   - the paper's settings in the config's sections (generation, critic, generator), the same for
//     every backend;
//   - `stages.<stage>.params`: the builtin backend's own knobs (batch sizes, model sizes, the
//     critic's vision...), validated here for a builtin stage; passed as they are to a command job.
import { z } from 'zod';
import { HUMAN_EVIDENCE } from '../world';
import { RANK_BY } from '../models/datasets';
import { CRITIC_VISIONS, type CriticVision } from '../models/critic/features';
import { SIZE_FIELDS, SIZE_PRESETS, type SizePreset } from '../models/sizes';
import type { StageContext, StageName } from './contract';

/** The paper's settings (section 4.1, appendices C and D), shared by the config and the stages. */
export const paper = {
  generation: {
    promptsPerRound: z.number().int().min(1).default(64),
    /** Section 4.1: 8 candidates per caption. */
    candidatesPerPrompt: z.number().int().min(2).default(8),
    /** Section 4.1: top-1 and bottom-1 by critic ranking form the pair. */
    pairing: z.literal('top1-bottom1').default('top1-bottom1'),
    minScoreGap: z.number().min(0).default(0),
    /**
     * What ranks each prompt's candidates: the critic (the paper), or, as diagnostics (builtin
     * backend; not in the paper), 'evaluator', the benchmark's per-video Total (what the
     * benchmark rewards: not a ceiling for a critic, since ranking by it can game the benchmark
     * without pleasing people; the Goodhart check in docs/results.md), 'human-evidence', the share of the prompt's weighted
     * attributes the world's careful viewer sees (a critic that reads the panel's checks perfectly),
     * 'panel', the simulated human panel's pairwise win rates among the prompt's candidates (human
     * preference data), or 'random', a uniform draw per candidate (the control: pairs that carry no
     * preference).
     */
    rankBy: z.enum(RANK_BY).default('critic'),
    evalPrompts: z.number().int().min(1).default(64),
  },
  critic: {
    /** Self-consistency: reasoning paths per judgment. */
    paths: z.number().int().min(1).default(8),
    /**
     * Section 3.3: what ranks each prompt's candidates into the top-1 / bottom-1 pair for DPO: the
     * critic's pairwise judgements ('pairwise', the paper's "pairwise data for DPO": each candidate's
     * win rate over every pair of the prompt's candidates, k paths each) or its pointwise expected
     * grade ('pointwise'). KTO's desirable / undesirable split is always at the mean pointwise score.
     */
    ranking: z.enum(['pairwise', 'pointwise']).default('pairwise'),
    /** Section 3.2: keep pseudo-labels with PCE > 0.5. */
    pceThreshold: z.number().gt(0).lt(1).default(0.5),
    usePce: z.boolean().default(true),
    /** 'srpo' = eq. 5 (PCE-weighted DPO); 'dpo' = plain DPO (Table 6 ablation). */
    loss: z.enum(['srpo', 'dpo']).default('srpo'),
    beta: z.number().positive().default(0.1),
    /** Section 4.1: 20K pseudo-labels per SRPO iteration (scaled down by the builtin world). */
    pseudoLabelsPerIteration: z.number().int().min(1).default(20_000),
    /** Appendix C: seed human data mixed with the filtered pseudo-labels. */
    humanSeedMix: z.number().min(0).default(1),
    epochs: z.number().int().min(1).default(5),
    learningRate: z.number().positive().default(2e-5),
  },
  generator: {
    /** 'real-sft': the "only real data SFT" ablation (paper Table 7): lambdaReal x the real-data NLL alone. */
    method: z.enum(['dpo', 'kto', 'real-sft']).default('dpo'),
    /** Diffusion-DPO beta as in the reference implementations (eq. 6). */
    betaDpo: z.number().positive().default(5000),
    /** Diffusion-KTO beta as in the reference implementation (eq. 8). */
    betaKto: z.number().positive().default(1000),
    /** Eq. 7 lambda_1: diffusion NLL on preferred samples. */
    lambdaPreferred: z.number().min(0).default(0),
    /** Eq. 7 lambda_2 / eq. 10 lambda: diffusion NLL on real videos. */
    lambdaReal: z.number().min(0).default(0.5),
    learningRate: z.number().positive().default(2e-6),
    steps: z.number().int().min(1).default(200),
  },
};

const G = paper.generation;
const C = paper.critic;
const T = paper.generator;

/** Every stage: the campaign seed and round (set by the workflow) and onnxruntime's threads (default: all cores). */
const common = {
  seed: z.union([z.number(), z.string()]).default(0),
  round: z.number().int().min(0).optional(),
  threads: z.number().int().min(1).optional(),
};

const sizeOverrides = Object.fromEntries(
  SIZE_FIELDS.map((key) => {
    const real = ['pretrainLearningRate', 'guidance', 'generatorShare', 'criticLearningRate'].includes(key);
    const min = key === 'humanSeedPairs' || key === 'humanTestVideos' ? 2 : 1;
    return [key, (real ? z.number().min(0) : z.number().int().min(min)).optional()];
  }),
) as Record<(typeof SIZE_FIELDS)[number], z.ZodOptional<z.ZodNumber>>;

/** The builtin backend's own knobs: `stages.<stage>.params` of a builtin stage, nothing else. */
export const builtinKnobs = {
  bootstrap: {
    /** Model and data sizes (lib/models/sizes.ts); each size field can also be set on its own. */
    size: z.enum(Object.keys(SIZE_PRESETS) as [SizePreset, ...SizePreset[]]).default('quickstart'),
    ...sizeOverrides,
    /** The critic's frozen tower (docs/critic.md): pixel statistics alone, or with a detector's readings. */
    criticVision: z.enum(Object.keys(CRITIC_VISIONS) as [CriticVision, ...CriticVision[]]).default('statistics'),
    /** How the human sets' panel scores what it sees (docs/world.md). */
    humanEvidence: z.enum(HUMAN_EVIDENCE).default('graded'),
    /** Paths of the warm-started critic's agreement check. */
    paths: C.paths,
    /**
     * The seed of the base models, human sets and evaluation prompts (default: the campaign seed). An
     * experiment sets one for every campaign, so its seeds vary the rounds over one shared base.
     */
    baseSeed: z.union([z.number().int(), z.string().min(1)]).optional(),
    /** Run the critic branch in-process after the generator instead of in a worker thread beside it. */
    sequential: z.boolean().optional(),
    threads: common.threads,
  },
  sample: { batch: z.number().int().min(1).default(64), threads: common.threads },
  label: { batch: z.number().int().min(1).default(1024), threads: common.threads },
  pceFilter: {
    /** Diagnostic only: score the kept pairs with the world's benchmark (never used to choose). */
    benchmarkCheck: z.boolean().default(true),
    threads: common.threads,
  },
  criticTrain: { threads: common.threads },
  /** The workflow passes validate no paths: the gate's figure uses its own (default 8). */
  validate: { paths: C.paths, threads: common.threads },
  generatorTrain: {
    /** Interim weights every this many steps: a crashed attempt resumes from the last. */
    interimEvery: z.number().int().min(1).default(50),
    /** 0: every denoiser weight trains; > 0: low-rank adapters of that rank, merged at the end. */
    loraRank: z.number().int().min(0).default(0),
    /** LoRA scale numerator (default: the rank). */
    loraAlpha: z.number().positive().optional(),
    batch: z.number().int().min(1).default(16),
    realBatch: z.number().int().min(1).default(16),
    threads: common.threads,
  },
  evaluate: { batch: z.number().int().min(1).default(64), threads: common.threads },
} satisfies Record<StageName, z.ZodRawShape>;

/** Each stage's whole parameter set: what it takes from the config's sections, plus its knobs. */
export const stageParamSchemas = {
  bootstrap: z.object({ ...common, promptsPerRound: G.promptsPerRound, candidatesPerPrompt: G.candidatesPerPrompt, evalPrompts: G.evalPrompts, ...builtinKnobs.bootstrap }),
  sample: z.object({ ...common, promptsPerRound: G.promptsPerRound, candidatesPerPrompt: G.candidatesPerPrompt, ...builtinKnobs.sample }),
  label: z.object({ ...common, paths: C.paths, ranking: C.ranking, rankBy: G.rankBy, ...builtinKnobs.label }),
  pceFilter: z.object({ ...common, paths: C.paths, beta: C.beta, usePce: C.usePce, pceThreshold: C.pceThreshold, minScoreGap: G.minScoreGap, ...builtinKnobs.pceFilter }),
  criticTrain: z.object({
    ...common,
    paths: C.paths,
    beta: C.beta,
    usePce: C.usePce,
    loss: C.loss,
    epochs: C.epochs,
    learningRate: C.learningRate,
    humanSeedMix: C.humanSeedMix,
    pseudoLabelsPerIteration: C.pseudoLabelsPerIteration,
    ...builtinKnobs.criticTrain,
  }),
  validate: z.object({ ...common, ...builtinKnobs.validate }),
  generatorTrain: z.object({
    ...common,
    method: T.method,
    betaDpo: T.betaDpo,
    betaKto: T.betaKto,
    lambdaPreferred: T.lambdaPreferred,
    lambdaReal: T.lambdaReal,
    learningRate: T.learningRate,
    steps: T.steps,
    ...builtinKnobs.generatorTrain,
  }),
  evaluate: z.object({ ...common, ...builtinKnobs.evaluate }),
} satisfies Record<StageName, z.ZodObject>;

export type StageParams<S extends StageName> = z.output<(typeof stageParamSchemas)[S]>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly nonRetryable = true;
}

/** `what: param "a.b" must be ..., got ...` per problem: the form every stage error takes. */
export function describeParamIssues(where: string, issues: z.core.$ZodIssue[], values: Record<string, unknown>): string {
  return issues
    .map((issue) => {
      const name = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return `${where}: unknown param${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const got = JSON.stringify(values[String(issue.path[0])]);
      if (issue.code === 'invalid_type' && issue.expected === 'number') return `${where}: param "${name}" must be a finite number, got ${got}`;
      return `${where}: param "${name}": ${issue.message} (got ${got})`;
    })
    .join('\n');
}

/** A builtin stage's parameters, typed and defaulted; a bad value is a configuration error (not retried). */
export function readParams<S extends StageName>(stage: S, ctx: Pick<StageContext, 'request'>): StageParams<S> {
  const values = ctx.request.params ?? {};
  const parsed = stageParamSchemas[stage].safeParse(values);
  const r = ctx.request;
  if (!parsed.success) throw new ConfigError(describeParamIssues(`${r.stage}${r.step ? `-${r.step}` : ''} (round ${r.round})`, parsed.error.issues, values));
  return parsed.data as StageParams<S>;
}
