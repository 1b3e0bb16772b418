// How workflows call stage activities: per-stage task queue, timeouts and retries from the config,
// the stage's parameters from the config (config/stage-params.ts), pause points between stages, and
// the stage position reported for status queries.
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, ChildWorkflowCancellationType, ParentClosePolicy, executeChild, patched, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StageName, StageRequest } from '../lib/stages/contract';
import { shardPlan, stageParams } from '../config/stage-params';
import { shardWorkflowId, type ArtifactRef, type CampaignConfig, type ShardSummary, type StageResult, type StageTiming, type StoreLocation } from './definitions';
import type { shardedStage } from './sharded-stage';
import { CampaignIdKey, RoundKey } from './search-attributes';

type StageActivity = (request: StageRequest) => Promise<StageResult>;

/** A stage's queue, timeouts and retries (also its shards' and their merge's). */
export function stageActivityOptions(config: CampaignConfig, stage: StageName): ActivityOptions {
  const cfg = config.stages[stage];
  return {
    taskQueue: cfg.taskQueue,
    startToCloseTimeout: cfg.startToCloseTimeout as `${number}${string}`,
    heartbeatTimeout: cfg.heartbeatTimeout as `${number}${string}`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: cfg.maxAttempts,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      nonRetryableErrorTypes: ['ConfigError', 'InvalidStageOutput', 'ArtifactIntegrityError', 'InvalidArtifactKeyError'],
    },
  };
}

/** Restarts of one stage call after drained workers, at most: each adds a few events to the history. */
export const MAX_DRAIN_RESTARTS = 20;

const drained = (err: unknown) => err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'WorkerDrained';

/**
 * A stage's activity. A request with drainRestarts asks the command backend to fail a drained attempt
 * without retry (its job checkpointed; the worker is going away): the stage is scheduled again at
 * once, on another worker, with its attempts budget untouched, and resumes from the checkpoint.
 */
export function stageActivity(config: CampaignConfig, stage: StageName): StageActivity {
  const call = proxyActivities<Activities>(stageActivityOptions(config, stage))[stage] as StageActivity;
  return async (request) => {
    for (let restarts = 0; ; restarts++) {
      try {
        return await call(request);
      } catch (err) {
        if (!(request.drainRestarts && restarts < MAX_DRAIN_RESTARTS && drained(err))) throw err;
      }
    }
  };
}

/** Bookkeeping activities are small and fast; they run on the orchestration queue. */
export function bookkeeping(config: CampaignConfig) {
  return proxyActivities<Activities>({
    taskQueue: config.temporal.taskQueue,
    startToCloseTimeout: '5m',
    retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '1m' },
  });
}

export interface StageRunner {
  run(stage: StageName, inputs: Record<string, ArtifactRef>, step?: string): Promise<StageResult>;
  timings: StageTiming[];
}

export function stageRunner(opts: {
  campaignId: string;
  round: number;
  config: CampaignConfig;
  store: StoreLocation;
  beforeStage: (label: string) => Promise<void>;
}): StageRunner {
  const timings: StageTiming[] = [];
  return {
    timings,
    async run(stage, inputs, step) {
      await opts.beforeStage(step ? `${stage}-${step}` : stage);
      const cfg = opts.config.stages[stage];
      const request: StageRequest = {
        campaignId: opts.campaignId,
        round: opts.round,
        stage,
        ...(step ? { step } : {}),
        backend: cfg.backend,
        ...(cfg.command ? { command: cfg.command } : {}),
        // Only when set: activity inputs of configs without them stay as they were.
        ...(cfg.gpusPerJob !== undefined ? { gpusPerJob: cfg.gpusPerJob } : {}),
        ...(cfg.env !== undefined ? { env: cfg.env } : {}),
        // Command stages only, so builtin campaigns' histories carry no marker.
        ...(cfg.backend === 'command' && patched('drain-restarts') ? { drainRestarts: true } : {}),
        inputs,
        store: opts.store,
        params: stageParams(opts.config, stage, opts.round, step),
      };
      const plan = shardPlan(opts.config, stage);
      let result: StageResult;
      let shards: ShardSummary | undefined;
      // Only a config that asks for shards reaches the patch marker: histories without them replay as before.
      if (plan && patched('sharded-stages')) {
        const outcome = await executeChild<typeof shardedStage>('shardedStage', {
          workflowId: shardWorkflowId(opts.campaignId, opts.round, step ? `${stage}-${step}` : stage),
          taskQueue: opts.config.temporal.taskQueue,
          args: [{ config: opts.config, request, plan }],
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          typedSearchAttributes: [
            { key: CampaignIdKey, value: opts.campaignId },
            { key: RoundKey, value: opts.round },
          ],
        });
        result = outcome.result;
        shards = outcome.shards;
      } else {
        result = await stageActivity(opts.config, stage)(request);
      }
      timings.push({
        stage,
        ...(step ? { step } : {}),
        seconds: result.seconds,
        reused: result.reused,
        startedAt: result.startedAt,
        metrics: result.metrics,
        ...(shards ? { shards } : {}),
      });
      return result;
    },
  };
}

export function requireOutput(result: StageResult, name: string): ArtifactRef {
  const ref = result.outputs[name];
  if (!ref) {
    throw ApplicationFailure.nonRetryable(`stage ${result.stage}${result.step ? `-${result.step}` : ''} returned no output named "${name}" (got: ${Object.keys(result.outputs).join(', ') || 'none'})`, 'StageContractViolation');
  }
  return ref;
}

export function requireMetric(result: StageResult, name: string): number {
  const value = result.metrics[name];
  if (typeof value !== 'number') {
    throw ApplicationFailure.nonRetryable(`stage ${result.stage}${result.step ? `-${result.step}` : ''} returned no metric named "${name}" (got: ${Object.keys(result.metrics).join(', ') || 'none'})`, 'StageContractViolation');
  }
  return value;
}
