// The activities a worker registers: the Temporal adapter of the stage layer (lib/stages). Stage
// activities share one runner; the activity type name is the stage name, so the Web UI and
// histories read as the paper's pipeline.
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { stageBackends } from '../lib/stages/backends';
import type { StageName, StageRequest, StageResult } from '../lib/stages/contract';
import { mergeShardsImpl, type ShardLedgerLike, type ShardPlanLike } from '../lib/stages/shards';
import { runStageActivity } from './stage-activity';
import { measureStage } from './metrics';
import { promoteChampion, rollbackChampion, writeCampaignRecord, writeRoundManifest } from './champions';
import { exportHumanTestPairs, ingestHumanTestLabels, simulatedHumanLabels } from './annotation';

export interface ActivityOptions {
  jobsDir?: string;
  scratchRoot?: string;
  /** The worker's identity (default as Temporal's: pid@host): recorded for each shard it finishes. */
  identity?: string;
}

export function createActivities(options: ActivityOptions = {}) {
  const resolveImpl = stageBackends({ jobsDir: options.jobsDir });
  const worker = options.identity ?? `${process.pid}@${hostname()}`;
  // A shard's result says which attempt finished it and where: the round's audit of the fan-out.
  const stage = (name: StageName) => async (request: StageRequest): Promise<StageResult> => {
    const named = { ...request, stage: name };
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
