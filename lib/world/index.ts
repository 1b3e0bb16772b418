// The reference world: a small synthetic text-to-video world where ground truth is known, so the
// whole Dual-IPO loop runs for real on one CPU and can be measured. docs/world.md describes it.
//
//   prompts      samplePrompts, promptText, validateSpec, filterSpec, summarizePrompts
//   videos       renderVideo (ground truth, the paper's D_real), renderCorrupted (realistic defects)
//   perception   perceive: objects, colours, sizes, paths, motions, scene, style from pixels alone
//   annotators   makePanel, panelPointwise, panelPairwise (+ rationales) and the datasets built
//                with them: buildHumanSeedSet / humanSeedPairs, buildHumanTestSet
//   benchmark    evaluateVideos: VBench's 16 dimensions and Total / Quality / Semantic
//   files        writeVideoFile / readVideoFile (raw tensors), writeGif, writeVideoWithPreview

export type { Prompt, PromptSpec, SubjectSpec, RelationSpec, Video } from './spec';
export { validateSpec, validateVideo, cloneSpec, MAX_SUBJECTS } from './spec';

export * from './vocabulary';

export { Rng, deriveSeed, hashString } from './rng';
export type { Seed } from './rng';

export {
  samplePrompts,
  samplePrompt,
  promptText,
  promptId,
  filterSpec,
  specDifficulty,
  specCategory,
  resolveWeights,
  resolveDifficulty,
  summarizePrompts,
  formatSummary,
  DEFAULT_WEIGHTS,
  DEFAULT_DIFFICULTY,
} from './prompts';
export type { PromptWeights, DifficultyWeights, DifficultySchedule, SampleOptions, FilterResult, PromptSummary, FacetShare } from './prompts';

export { renderVideo, renderPoses, emptyVideo, background, DEFAULT_FRAMES, DEFAULT_SIZE, FPS } from './render';
export type { RenderOptions } from './render';
export { layoutRegions, motionFits, trajectory, GROW_SCALE, SHRINK_SCALE } from './trajectories';
export type { Pose, Region } from './trajectories';
export { SHAPES, rasterize } from './sprites';

export { renderCorrupted, shake, flicker, blur, addNoise, CORRUPTIONS, CORRUPTION_EFFECTS } from './corruptions';
export type { Corruption, CorruptionOptions, CorruptedVideo } from './corruptions';

export { perceive, gaussianBlur, PERCEPTION_VERSION } from './perception';
export type { Perception, PerceivedObject, Detection } from './perception';
export { classifyMotion } from './motion-classifier';
export type { MotionReading, Path } from './motion-classifier';
export { measurePerception, matchSubjects, perceivedRelation } from './accuracy';
export type { PerceptionAccuracy } from './accuracy';

export { assess, gradeOf, HUMAN_DIMENSIONS, HUMAN_DIMENSION_NAMES, HUMAN_EVIDENCE, GRADES, GRADE_THRESHOLDS } from './assessment';
export type { Assessment, AttributeCheck, Flaw, Grade, HumanDimension, HumanEvidence } from './assessment';
export { pointwiseRationale, pairwiseRationale } from './rationale';
export type { Rationale, PairRationale, PairLabel } from './rationale';
export {
  makePanel,
  panelPointwise,
  panelPairwise,
  panelPairwiseOfViews,
  panelView,
  annotatePointwise,
  annotatePairwise,
  truthPointwise,
  truthPairwise,
  videoFingerprint,
  DEFAULT_PANEL_SIZE,
  DEFAULT_NOISE_RANGE,
  TIE_MARGIN,
} from './annotators';
export type { Annotator, PanelOptions, PointwiseJudgment, PairwiseJudgment, PanelPointwise, PanelPairwise, PanelView, ViewedVideo } from './annotators';
export { userStudy } from './user-study';
export type { StudyPair, UserStudyResult, WinLossTie } from './user-study';

export { defaultVideoSource, humanSeedPairs, buildHumanSeedSet, buildHumanTestSet, assertTrainable, DEFAULT_SOURCE_MIX, DEFAULT_SEED_PAIRS, DEFAULT_TEST_VIDEOS } from './datasets';
export type { VideoSource, VideoSample, SourceMix, DefaultSourceOptions, PairRecord, AnnotatedVideo, HumanDataset, DatasetStats, BuildOptions, Split } from './datasets';

export { evaluateVideos, evaluationOfParts, videoParts, totalOfParts, pairedTotalGain, temporalFlickering, motionSmoothness, isDynamic, imagingQuality, aestheticQuality } from './evaluator';
export type { EvalItem, EvalResult, EvalOptions, VideoParts } from './evaluator';

export { encodeVideos, decodeVideos, writeVideoFile, readVideoFile, encodeGif, writeGif, writeVideoWithPreview, writeFileAtomic, VIDEO_EXTENSION } from './video-io';
export type { VideoFileHeader, EncodeOptions, GifOptions } from './video-io';
