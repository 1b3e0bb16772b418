// The campaign config: one schema, defaults from the paper (section 4.1, appendices C and D).
// Workflows receive the parsed, fully defaulted object; it must stay small and JSON-serialisable.
import { z } from 'zod';

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

const stage = z
  .object({
    backend: z.enum(['builtin', 'command']).default('builtin'),
    /** argv of the external job for the 'command' backend (docs/command-backend.md). */
    command: z.array(z.string().min(1)).min(1).optional(),
    taskQueue: z.string().min(1).default('cpu'),
    startToCloseTimeout: duration.default('24h'),
    heartbeatTimeout: duration.default('2m'),
    maxAttempts: z.number().int().min(1).max(100).default(5),
    /** Stage-specific parameters handed to the backend as they are. */
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .refine((s) => s.backend !== 'command' || s.command !== undefined, {
    message: 'backend "command" needs a "command" (argv array, e.g. ["node", "examples/jobs/stage-job.mjs"])',
    path: ['command'],
  });

export const STAGE_CONFIG_NAMES = [
  'bootstrap',
  'sample',
  'label',
  'pceFilter',
  'criticTrain',
  'validate',
  'generatorTrain',
  'evaluate',
] as const;

const stageDefault = () => stage.prefault({} as z.input<typeof stage>);
const stages = z
  .object({
    bootstrap: stageDefault(),
    sample: stageDefault(),
    label: stageDefault(),
    pceFilter: stageDefault(),
    criticTrain: stageDefault(),
    validate: stageDefault(),
    generatorTrain: stageDefault(),
    evaluate: stageDefault(),
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
        /** Continue-as-new after this many rounds in one run, whatever the server suggests. */
        roundsPerRun: z.number().int().min(1).default(50),
      })
      .strict()
      .prefault({}),
    generation: z
      .object({
        promptsPerRound: z.number().int().min(1).default(64),
        /** Section 4.1: 8 candidates per caption. */
        candidatesPerPrompt: z.number().int().min(2).default(8),
        /** Section 4.1: top-1 and bottom-1 by critic ranking form the pair. */
        pairing: z.literal('top1-bottom1').default('top1-bottom1'),
        minScoreGap: z.number().min(0).default(0),
        /**
         * What ranks each prompt's candidates: the critic (the paper), or, as diagnostics (builtin
         * backend; not in the paper), 'evaluator', the benchmark's per-video Total (an oracle upper
         * bound on the critic's ranking), 'human-evidence', the share of the prompt's weighted
         * attributes the world's careful viewer sees (a critic that reads the panel's checks perfectly),
         * or 'random', a uniform draw per candidate (the control: pairs that carry no preference).
         */
        rankBy: z.enum(['critic', 'evaluator', 'human-evidence', 'random']).default('critic'),
        evalPrompts: z.number().int().min(1).default(64),
        /**
         * Ablation of Fig. 3a: build the preference data once (round 1) and train on it every round,
         * with no new samples and no critic update (requires campaign.criticRefinement: never).
         */
        staticPreferences: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    critic: z
      .object({
        /** Self-consistency: reasoning paths per judgment. */
        paths: z.number().int().min(1).default(8),
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
      })
      .strict()
      .prefault({}),
    generator: z
      .object({
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
  .refine((c) => !c.generation.staticPreferences || c.campaign.criticRefinement === 'never', {
    message: 'staticPreferences (the static-data ablation) keeps the critic fixed: set campaign.criticRefinement to "never"',
    path: ['generation', 'staticPreferences'],
  });

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;
export type StageConfigName = (typeof STAGE_CONFIG_NAMES)[number];
export type StageConfig = z.output<typeof stage>;
export type ApprovalConfig = z.output<typeof approval>;
type ParsedConfig = z.output<typeof campaignConfigSchema>;
export type CampaignConfig = Omit<ParsedConfig, 'stages'> & { stages: Record<StageConfigName, StageConfig> };
