// The activities a worker registers. Stage activities share one runner; the activity type name is
// the stage name, so the Web UI and histories read as the paper's pipeline.
import { commandStage } from './backends/command';
import { builtinStage } from './backends/builtin';
import { runStage, type StageRunnerDeps } from './stage-runner';
import { promoteChampion, rollbackChampion, writeCampaignRecord, writeRoundManifest } from './champions';
import type { StageName, StageRequest, StageResult } from './types';

export interface ActivityOptions {
  jobsDir?: string;
  scratchRoot?: string;
}

export function createActivities(options: ActivityOptions = {}) {
  const command = commandStage({ jobsDir: options.jobsDir });
  const deps: StageRunnerDeps = {
    scratchRoot: options.scratchRoot,
    async resolveImpl(request) {
      return request.backend === 'command' ? command : builtinStage(request.stage);
    },
  };
  const stage = (name: StageName) => (request: StageRequest): Promise<StageResult> => runStage({ ...request, stage: name }, deps);
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
