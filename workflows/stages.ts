// How workflows call stage activities: per-stage task queue, timeouts and retries from the config,
// the stage's parameters from the config (config/stage-params.ts), pause points between stages, and
// the stage position reported for status queries.
import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StageName, StageRequest } from '../lib/stages/contract';
import { stageParams } from '../config/stage-params';
import type { ArtifactRef, CampaignConfig, StageResult, StageTiming, StoreLocation } from './definitions';

type StageActivity = (request: StageRequest) => Promise<StageResult>;

export function stageActivity(config: CampaignConfig, stage: StageName): StageActivity {
  const cfg = config.stages[stage];
  const proxies = proxyActivities<Activities>({
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
  });
  return proxies[stage] as StageActivity;
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
        inputs,
        store: opts.store,
        params: stageParams(opts.config, stage, opts.round, step),
      };
      const result = await stageActivity(opts.config, stage)(request);
      timings.push({
        stage,
        ...(step ? { step } : {}),
        seconds: result.seconds,
        reused: result.reused,
        startedAt: result.startedAt,
        metrics: result.metrics,
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
