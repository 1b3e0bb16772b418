// The activities a worker registers: the Temporal adapter of the stage layer (lib/stages). Stage
// activities share one runner; the activity type name is the stage name, so the Web UI and
// histories read as the paper's pipeline.
import { stageBackends } from '../lib/stages/backends';
import type { StageName, StageRequest, StageResult } from '../lib/stages/contract';
import { runStageActivity } from './stage-activity';
import { measureStage } from './metrics';
import { promoteChampion, rollbackChampion, writeCampaignRecord, writeRoundManifest } from './champions';

export interface ActivityOptions {
  jobsDir?: string;
  scratchRoot?: string;
}

export function createActivities(options: ActivityOptions = {}) {
  const resolveImpl = stageBackends({ jobsDir: options.jobsDir });
  const stage = (name: StageName) => (request: StageRequest): Promise<StageResult> => {
    const named = { ...request, stage: name };
    return measureStage(named, () => runStageActivity(named, { scratchRoot: options.scratchRoot, resolveImpl }));
  };
  return {
    bootstrap: stage('bootstrap'),
    sample: stage('sample'),
    label: stage('label'),
    pceFilter: stage('pceFilter'),
    criticTrain: stage('criticTrain'),
    validate: stage('validate'),
    generatorTrain: stage('generatorTrain'),
    evaluate: stage('evaluate'),
    promoteChampion,
    rollbackChampion,
    writeRoundManifest,
    writeCampaignRecord,
  };
}

export type Activities = ReturnType<typeof createActivities>;
