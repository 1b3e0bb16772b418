// The builtin backend: every stage of the Dual-IPO loop run by the reference models of this package
// on the reference world (activities/backends/builtin.ts loads this module and reads builtinStages).
import type { StageImpl, StageName } from '../../activities/types';
import { bootstrapStage } from './stages/bootstrap';
import { evaluateStage, sampleStage } from './stages/generation';
import { generatorTrainStage } from './stages/generator-train';
import { criticTrainStage, labelStage, pceFilterStage, validateStage } from './stages/judging';

export const builtinStages: Partial<Record<StageName, StageImpl>> = {
  bootstrap: bootstrapStage,
  sample: sampleStage,
  label: labelStage,
  pceFilter: pceFilterStage,
  criticTrain: criticTrainStage,
  validate: validateStage,
  generatorTrain: generatorTrainStage,
  evaluate: evaluateStage,
};
