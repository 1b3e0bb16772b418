// The activities a worker registers: the Temporal adapter of the stage layer (lib/stages). Stage
// activities share one runner; the activity type name is the stage name, so the Web UI and
// histories read as the paper's pipeline.
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { join } from 'node:path';
import { stageBackends } from '../lib/stages/backends';
import { defaultJobsDir, type Drain } from '../lib/stages/command/backend';
import { slotPools } from '../lib/stages/command/slots';
import type { StageName, StageRequest, StageResult } from '../lib/stages/contract';
import { mergeShardsImpl, type ShardLedgerLike, type ShardPlanLike } from '../lib/stages/shards';
import { runStageActivity } from './stage-activity';
import { measureStage } from './metrics';
import { promoteChampion, rollbackChampion, writeCampaignRecord, writeRoundManifest } from './champions';
import { exportHumanTestPairs, ingestHumanTestLabels, simulatedHumanLabels } from './annotation';

export interface ActivityOptions {
  jobsDir?: string;
  /**
   * Where this host's slot leases live (`--slots-dir`); default `<jobs dir>/.slots/<hostname>`, so a
   * jobs folder shared by several hosts (launchers, a shared file system) never pools their GPUs.
   */
  slotsDir?: string;
  scratchRoot?: string;
  /** The worker's identity (default as Temporal's: pid@host): recorded for each shard it finishes. */
  identity?: string;
  /** The worker's stage queues: their concurrency is their slots (lib/stages/command/slots.ts). */
  slotQueues?: Array<{ name: string; concurrency: number }>;
  /** Device ids behind the GPU queues' slots (`--gpus`); default: CUDA_VISIBLE_DEVICES or 0..N-1. */
  gpus?: string[];
  /** The worker's drain: command jobs get SIGTERM and this grace to checkpoint. */
  drain?: Drain;
}

function currentTaskQueue(): string | undefined {
  try {
    return Context.current().info.taskQueue;
  } catch {
    return undefined; // called outside an activity
  }
}

export function createActivities(options: ActivityOptions = {}) {
  const backends = { jobsDir: options.jobsDir, ...(options.drain ? { drain: options.drain } : {}) };
  const resolveImplDefault = stageBackends(backends);
  // Slot leases are the host's: shared by every worker process there, never by other hosts.
  const slotsDir = options.slotsDir ?? join(options.jobsDir ?? defaultJobsDir(), '.slots', hostname());
  const slots = options.slotQueues ? slotPools(options.slotQueues, slotsDir, options.gpus) : undefined;
  const worker = options.identity ?? `${process.pid}@${hostname()}`;
  // A shard's result says which attempt finished it and where: the round's audit of the fan-out.
  const stage = (name: StageName) => async (request: StageRequest): Promise<StageResult> => {
    const named = { ...request, stage: name };
    // A command job holds slots of the queue its activity came from.
    const pool = slots?.get(currentTaskQueue() ?? '');
    const resolveImpl = pool ? stageBackends({ ...backends, slots: pool }) : resolveImplDefault;
    const result = await measureStage(named, () => runStageActivity(named, { scratchRoot: options.scratchRoot, resolveImpl }));
    return request.shard ? { ...result, attempt: Context.current().info.attempt, worker } : result;
  };
  /** The merge step of a sharded stage (workflows/sharded-stage.ts), on the stage's queue. */
  const mergeShards = (input: { request: StageRequest; plan: ShardPlanLike; ledger: ShardLedgerLike }): Promise<StageResult> =>
    runStageActivity(input.request, { scratchRoot: options.scratchRoot, resolveImpl: () => mergeShardsImpl(input.plan, input.ledger) });
  return {
    bootstrap: stage('bootstrap'),
    sample: stage('sample'),
    label: stage('label'),
    pceFilter: stage('pceFilter'),
    criticTrain: stage('criticTrain'),
    validate: stage('validate'),
    generatorTrain: stage('generatorTrain'),
    evaluate: stage('evaluate'),
    mergeShards,
    promoteChampion,
    rollbackChampion,
    writeRoundManifest,
    writeCampaignRecord,
    exportHumanTestPairs,
    simulatedHumanLabels,
    ingestHumanTestLabels,
  };
}

export type Activities = ReturnType<typeof createActivities>;
