// The builtin backend: every stage of the Dual-IPO loop run by the reference models (lib/models) on
// the reference world (lib/world), one file per stage.
import type { StageImpl, StageName } from '../contract';
import { bootstrapStage } from './bootstrap';
import { sampleStage } from './sample';
import { labelStage } from './label';
import { pceFilterStage } from './pce-filter';
import { criticTrainStage } from './critic-train';
import { validateStage } from './validate';
import { generatorTrainStage } from './generator-train';
import { evaluateStage } from './evaluate';

export const builtinStages: Record<StageName, StageImpl> = {
  bootstrap: bootstrapStage,
  sample: sampleStage,
  label: labelStage,
  pceFilter: pceFilterStage,
  criticTrain: criticTrainStage,
  validate: validateStage,
  generatorTrain: generatorTrainStage,
  evaluate: evaluateStage,
};
