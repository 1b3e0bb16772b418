// The stage contract: what the workflows ask of a stage (request), what every backend is given
// (context) and returns (output), and what the runner records (result). Parameters: params.ts.
import type { ArtifactRef } from '../artifacts/types';
import type { ArtifactStore } from '../artifacts/store';

export type { ArtifactRef };

export const STAGE_NAMES = ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'] as const;
export type StageName = (typeof STAGE_NAMES)[number];
export type BackendName = 'builtin' | 'command';

export interface StoreLocation {
  root: string;
  s3?: { region?: string; endpoint?: string; forcePathStyle?: boolean };
}

export interface StageRequest {
  campaignId: string;
  /** 1-based round; 0 is the bootstrap (world datasets, base models). */
  round: number;
  stage: StageName;
  /** Tells apart two calls of one stage in a round, e.g. 'pseudo' for the critic's own labelling. */
  step?: string;
  backend: BackendName;
  /** argv of the external program, for backend 'command'. */
  command?: string[];
  inputs: Record<string, ArtifactRef>;
  /** Where outputs go: the campaign's artifact store (file:///… or s3://bucket/prefix). */
  store: StoreLocation;
  /** Small stage parameters from the config; never bulk data. */
  params: Record<string, unknown>;
  /**
   * One shard of a sharded stage (config stages.<stage>.shardSize): prompts [from, to) of the
   * stage's deterministic prompt list. Its outputs go to `<stage folder>/shards/<index>/`.
   */
  shard?: ShardSpec;
  /** Command backend: slots (GPUs on a GPU queue) one job holds (config stages.<stage>.gpusPerJob). */
  gpusPerJob?: number;
  /** Command backend: the job's environment beyond the default allowlist (config stages.<stage>.env). */
  env?: { allow?: string[]; set?: Record<string, string> };
  /**
   * Set by workflows that restart a stage whose worker drained (workflows/stages.ts): the drained
   * attempt then fails without retry, and the workflow schedules the stage again with a fresh attempts
   * budget. Without it a drain is an ordinary retryable failure.
   */
  drainRestarts?: boolean;
}

export interface ShardSpec {
  index: number;
  count: number;
  from: number;
  to: number;
}

export interface StageResult {
  stage: StageName;
  step?: string;
  outputKeyPrefix: string;
  outputs: Record<string, ArtifactRef>;
  metrics: Record<string, number>;
  startedAt: string;
  seconds: number;
  /** True when a finished, verified output was found and returned instead of redoing the work. */
  reused: boolean;
  /** Set for a shard by the activity adapter: which attempt finished it, on which worker. */
  attempt?: number;
  worker?: string;
}

export interface StageContext {
  request: StageRequest;
  store: ArtifactStore;
  outputKey(name: string): string;
  /** Resume state left by an earlier attempt of this same stage (heartbeat details, else the store). */
  checkpoint: unknown | undefined;
  /** Heartbeats progress; a checkpoint given here is also persisted to the store (throttled). */
  progress(done: number, total: number, checkpoint?: unknown, message?: string): Promise<void>;
  signal: AbortSignal;
  /** Local temp folder for this stage attempt, removed after success. */
  scratchDir: string;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface StageOutput {
  outputs: Record<string, ArtifactRef>;
  metrics: Record<string, number>;
}

export type StageImpl = (ctx: StageContext) => Promise<StageOutput>;

/**
 * Outputs every backend must return for a stage: what the workflows read with requireOutput
 * (workflows/campaign.ts, round.ts, critic-refinement.ts). Checked before a result is committed, so a
 * result missing one is never written to the store and never reused.
 */
export const STAGE_OUTPUTS: Record<StageName, readonly string[]> = {
  bootstrap: ['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'],
  sample: ['samples'],
  label: ['labels'],
  pceFilter: ['preferences'],
  criticTrain: ['critic'],
  validate: [],
  generatorTrain: ['generator'],
  evaluate: ['scores'],
};

/** Names of the required outputs `outputs` lacks. */
export function missingOutputs(stage: StageName, outputs: Record<string, unknown>): string[] {
  return STAGE_OUTPUTS[stage].filter((name) => !outputs[name]);
}

/**
 * The reason a stage's signal carries when its host lost contact (heartbeat timed out, server no
 * longer knows the attempt) rather than being asked to stop: work running outside the worker (an
 * external job) is left running for the next attempt to re-attach to, not stopped.
 */
export class StageDetached extends Error {
  override name = 'StageDetached';
  constructor(readonly reason: string) {
    super(`the stage's attempt was abandoned (${reason}); its external work is kept for the next attempt`);
  }
}

/** True when `signal` was aborted because contact was lost, not because of a cancel request. */
export const keepsExternalWork = (signal: AbortSignal): boolean => signal.aborted && signal.reason instanceof StageDetached;
