// The critic (Dual-IPO's reward model, paper section 3.2): a frozen pixel-statistics vision tower,
// a trainable head that states a rationale and then its verdicts (pointwise Good/Normal/Bad and
// pairwise A/B/tie on semantic consistency, motion smoothness and video faithfulness), multi-path
// self-consistency voting, warm start on the human seed set, SRPO with the PCE filter, ONNX serving.
// docs/critic.md describes the design and the measured figures.
export { videoFeatures, pixelStatistics, featureSize, CRITIC_VISIONS, FEATURE_SIZE, FEATURE_VERSION, FEATURE_LAYOUT, PALETTE } from './features';
export type { CriticVision } from './features';
export { criticView, detectorReadings, READINGS_SIZE, semanticReadings } from './detector';
export {
  RATIONALE_GROUPS,
  RATIONALE_SHAPE,
  RATIONALE_SIZE,
  MISMATCH_ATTRIBUTES,
  FLAW_KINDS,
  rationaleTarget,
  rationaleClasses,
  rationaleOneHot,
  summarizeRationale,
} from './rationale';
export type { RationaleGroup, RationaleTarget, RationaleSummary } from './rationale';
export {
  CRITIC_KIND,
  DEFAULT_CRITIC,
  TINY_CRITIC,
  DIMENSIONS,
  GRADE_CLASSES,
  GRADE_VALUE,
  PAIR_CLASSES,
  criticParamShapes,
  initCritic,
  criticGraph,
  colourPointers,
  isFrozen,
} from './model';
export type { CriticConfig, CriticModel, GraphInputs, GraphOutputs } from './model';
export { criticExample, criticExamples, assertTrainableExamples, featurePace, FEATURE_CHUNK } from './data';
export type { CriticExample, VideoExample } from './data';
export { warmStartCritic, srpoTrainCritic, pseudoLogProbs, WARM_START_DEFAULTS } from './train';
export type { WarmStartOptions, SrpoOptions, SrpoMetrics, TrainMetrics, PseudoLabel, SupervisedWeights } from './train';
export { judgeVideos, comparePairs, judgeCandidatePairs, pseudoLabelPairs, criticAgreement } from './infer';
export type { CriticInput, CriticPairInput, InferenceOptions, VideoJudgment, PairJudgment, PairPath, CriticAgreement, CandidatePairVotes } from './infer';
export { exportCriticOnnx, CriticOnnx, CriticTf } from './onnx';
export type { CriticExecutor, CriticFeed, CriticOutputs } from './onnx';
export { encodeCritic, decodeCritic, saveCritic, loadCritic, referenceCritic } from './checkpoint';
