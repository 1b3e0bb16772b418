// The campaign config: one schema, defaults from the paper (section 4.1, appendices C and D).
// Workflows receive the parsed, fully defaulted object; it must stay small and JSON-serialisable.
import { z } from 'zod';
import { builtinKnobs, paper } from '../lib/stages/params';
import { STAGE_NAMES, type StageName } from '../lib/stages/contract';
import { SHARDABLE_STAGES } from './stage-params';

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as "500ms", "30s", "10m", "2h" or "7d"');

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)');

const approval = z
  .object({
    /** 'auto' decides from the figures alone; 'manual' waits for an `approve` update. */
    mode: z.enum(['auto', 'manual']).default('auto'),
    timeout: duration.default('24h'),
    /** What happens when nobody answers before the timeout. */
    onTimeout: z.enum(['accept', 'reject', 'auto']).default('auto'),
  })
  .strict();

const stageFor = (name: StageName) => z
  .object({
    backend: z.enum(['builtin', 'command']).default('builtin'),
    /** argv of the external job for the 'command' backend (docs/command-backend.md). */
    command: z.array(z.string().min(1)).min(1).optional(),
    taskQueue: z.string().min(1).default('cpu'),
    startToCloseTimeout: duration.default('24h'),
    heartbeatTimeout: duration.default('2m'),
    maxAttempts: z.number().int().min(1).max(100).default(5),
    /**
     * Sharding (sample, label, evaluate): prompts per shard. Each shard is its own activity (own
     * retries, own output folder); a merge step lists the shards' outputs. Absent: one activity.
     */
    shardSize: z.number().int().min(1).optional(),
    /** Shards in flight at once (a sliding window); needs shardSize. */
    maxParallel: z.number().int().min(1).max(10_000).optional(),
    /**
     * The stage's own knobs. A builtin stage's are checked against its schema (lib/stages/params.ts)
     * and defaulted there, when the stage runs; a command job gets them as they are.
     */
    params: z.record(z.string(), z.unknown()).default({}),
    /**
     * Command backend: slots one job holds on its queue; on a GPU queue (`gpu`, `gpu-*`) its GPUs,
     * e.g. 8 for a training job taking a whole 8-GPU host. At most the queue's concurrency.
     */
    gpusPerJob: z.number().int().min(1).max(64).optional(),
    /**
     * Command backend: the job's environment beyond the default allowlist (docs/command-backend.md):
     * `allow` names or PREFIX* patterns of the worker's variables (a secret only by its exact name),
     * `set` explicit values (they travel in the config: never secrets).
     */
    env: z
      .object({
        allow: z.array(z.string().regex(/^\*?[A-Za-z0-9_]+\*?$/, 'a variable name or a PREFIX*, *SUFFIX or *PART* pattern')).optional(),
        set: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name'), z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => s.backend !== 'command' || s.command !== undefined, {
    message: 'backend "command" needs a "command" (argv array, e.g. ["node", "examples/jobs/stage-job.mjs"])',
    path: ['command'],
  })
  .superRefine((s, ctx) => {
    if ((s.shardSize !== undefined || s.maxParallel !== undefined) && !SHARDABLE_STAGES.includes(name)) {
      ctx.addIssue({ code: 'custom', path: [s.shardSize !== undefined ? 'shardSize' : 'maxParallel'], message: `the ${name} stage cannot be sharded (only ${SHARDABLE_STAGES.join(', ')} split their prompts into shards)` });
    }
    if (s.maxParallel !== undefined && s.shardSize === undefined) {
      ctx.addIssue({ code: 'custom', path: ['maxParallel'], message: 'maxParallel bounds the shards in flight: set shardSize (prompts per shard) too' });
    }
    if (s.backend !== 'command' && (s.gpusPerJob !== undefined || s.env !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [s.gpusPerJob !== undefined ? 'gpusPerJob' : 'env'], message: 'only a command job (backend "command") has slots and an environment of its own' });
    }
    for (const name of Object.keys(s.env?.set ?? {})) {
      if (name.startsWith('DUAL_IPO_') || name === 'CUDA_VISIBLE_DEVICES') ctx.addIssue({ code: 'custom', path: ['env', 'set', name], message: 'set by the worker for every job' });
    }
    if (s.backend !== 'builtin') return;
    const checked = z.object(builtinKnobs[name]).strict().safeParse(s.params);
    if (checked.success) return;
    const known = Object.keys(builtinKnobs[name]).join(', ');
    for (const issue of checked.error.issues) {
      const message = issue.code === 'unrecognized_keys' ? `the builtin ${name} stage has no knob ${issue.keys.map((k) => `"${k}"`).join(', ')} (its knobs: ${known}; the paper's settings go in the generation, critic and generator sections)` : issue.message;
      ctx.addIssue({ code: 'custom', path: ['params', ...issue.path], message });
    }
  });

export const STAGE_CONFIG_NAMES = STAGE_NAMES;

const stageDefault = (name: StageName) => stageFor(name).prefault({} as z.input<ReturnType<typeof stageFor>>);
const stages = z
  .object({
    bootstrap: stageDefault('bootstrap'),
    sample: stageDefault('sample'),
    label: stageDefault('label'),
    pceFilter: stageDefault('pceFilter'),
    criticTrain: stageDefault('criticTrain'),
    validate: stageDefault('validate'),
    generatorTrain: stageDefault('generatorTrain'),
    evaluate: stageDefault('evaluate'),
  })
  .strict();

export const campaignConfigSchema = z
  .object({
    campaign: z
      .object({
        /** Stable id: running `dual-ipo run` again with the same id resumes that campaign. */
        id: identifier.optional(),
        name: z.string().min(1).default('dual-ipo'),
        seed: z.number().int().min(0).default(0),
        maxRounds: z.number().int().min(1).max(10_000).default(3),
        /** Appendix D: stop once Total improves by less than epsilon for `patience` accepted rounds in a row. */
        saturation: z
          .object({ epsilon: z.number().min(0).default(0.1), patience: z.number().int().min(1).default(2) })
          .strict()
          .prefault({}),
        /** Stop after this many rejected rounds in a row. */
        maxConsecutiveRejected: z.number().int().min(1).default(2),
        /** Section 3.3 / appendix C: when to run SRPO critic refinement. Degradation always schedules one. */
        criticRefinement: z.enum(['every-round', 'on-degradation', 'never']).default('every-round'),
        /**
         * Appendix C: when the eval gate rejects a round whose critic update passed the critic gate,
         * 'rollback' discards the update (the next round labels with the critic of before it, and a
         * refinement from that critic is scheduled as for any rejected round: the paper's "retrain");
         * 'keep' keeps the updated critic.
         */
        criticOnEvalFailure: z.enum(['rollback', 'keep']).default('rollback'),
        /** Continue-as-new after this many rounds in one run, whatever the server suggests. */
        roundsPerRun: z.number().int().min(1).default(50),
      })
      .strict()
      .prefault({}),
    generation: z
      .object({
        promptsPerRound: paper.generation.promptsPerRound,
        candidatesPerPrompt: paper.generation.candidatesPerPrompt,
        pairing: paper.generation.pairing,
        minScoreGap: paper.generation.minScoreGap,
        rankBy: paper.generation.rankBy,
        evalPrompts: paper.generation.evalPrompts,
        /**
         * Ablation of Fig. 3a: build the preference data once (round 1) and train on it every round,
         * with no new samples and no critic update (requires campaign.criticRefinement: never).
         */
        staticPreferences: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    critic: z
      .object(paper.critic)
      .strict()
      .prefault({}),
    generator: z
      .object({
        ...paper.generator,
        /** Abnormal-loss rule (section 3.3): any NaN/Inf always counts. */
        divergence: z
          .object({
            maxLoss: z.number().positive().optional(),
            factor: z.number().gt(1).optional(),
            window: z.number().int().min(1).default(10),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    gates: z
      .object({
        critic: z
          .object({ threshold: z.number().min(0).max(1).default(0.75), approval: approval.prefault({}) })
          .strict()
          .prefault({}),
        eval: z
          .object({
            /** Reject when Total falls more than this many points below the champion's. */
            tolerance: z.number().min(0).default(0),
            /**
             * Also require the gain to reach this many standard errors (the champion and the candidate
             * score the same prompts and seeds; jackknife over prompts of the Total difference). 0 = the
             * paper's gate; the error is still recorded.
             */
            minStandardErrors: z.number().min(0).default(0),
            approval: approval.prefault({}),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * The held-out human test set of the critic gate (appendix C, docs/annotation.md). Absent: the
     * bootstrap's set for every round. `source: champion` refreshes it from the champion generator's
     * candidates whenever the champion changes (before a critic refinement): a fixed share of the
     * bootstrap's pairs is kept, the rest are new pairs of this round's candidates, labelled by the
     * simulated panel or by people (exported for annotation; the round waits for the labels).
     */
    humanTest: z
      .object({
        source: z.enum(['renders', 'champion']).default('champion'),
        /** New pairs per refresh (the paper's test set is 1,000 videos: 250 new + 250 fixed pairs by default). */
        pairs: z.number().int().min(1).max(100_000).default(250),
        /** Share of the bootstrap's test pairs kept in every refreshed set (comparable across rounds). */
        fixedShare: z.number().min(0).max(1).default(0.5),
        annotators: z.enum(['simulated', 'external']).default('simulated'),
        /** How long a round waits for external labels; then `onTimeout`. */
        timeout: duration.default('7d'),
        /** keep-previous: the gate uses the test set it used before; fail-gate: the critic update is rejected. */
        onTimeout: z.enum(['keep-previous', 'fail-gate']).default('keep-previous'),
        /** A waiting round logs a reminder this often (the wait always shows in `dual-ipo status`). */
        reminderEvery: duration.default('24h'),
        /** URL prefix of the exported videos in the Label Studio tasks (default: the export folder's store URI). */
        videoBaseUrl: z.string().min(1).optional(),
        /** Task queue of the export, simulated panel and ingest activities (default: the validate stage's). */
        taskQueue: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    stages: stages.prefault({} as z.input<typeof stages>),
    artifacts: z
      .object({
        /** file:///abs, a path (relative to the config file), or s3://bucket/prefix. */
        root: z.string().min(1).default('.data/artifacts'),
        s3: z
          .object({
            region: z.string().optional(),
            endpoint: z.string().url().optional(),
            forcePathStyle: z.boolean().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    temporal: z
      .object({
        namespace: z.string().min(1).default('default'),
        /** Task queue of the workflows themselves. */
        taskQueue: z.string().min(1).default('dual-ipo'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.humanTest?.source !== 'champion' || c.stages.sample.backend === 'builtin', {
    message: 'source "champion" exports the builtin sample stage\'s candidates for annotation: use the builtin sample backend, or source "renders"',
    path: ['humanTest', 'source'],
  })
  .refine((c) => !c.generation.staticPreferences || c.campaign.criticRefinement === 'never', {
    message: 'staticPreferences (the static-data ablation) keeps the critic fixed: set campaign.criticRefinement to "never"',
    path: ['generation', 'staticPreferences'],
  });

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;
export type StageConfigName = (typeof STAGE_CONFIG_NAMES)[number];
export type StageConfig = z.output<ReturnType<typeof stageFor>>;
export type ApprovalConfig = z.output<typeof approval>;
export type HumanTestConfig = NonNullable<z.output<typeof campaignConfigSchema>['humanTest']>;
type ParsedConfig = z.output<typeof campaignConfigSchema>;
export type CampaignConfig = Omit<ParsedConfig, 'stages'> & { stages: Record<StageConfigName, StageConfig> };
