// The simulated annotator panel (paper appendix A): a configurable number of annotators (default
// 10), each with its own noise level, judging from perception of the pixels. Pointwise, each
// grades semantic consistency, motion smoothness and video faithfulness Good / Normal / Bad;
// pairwise, each prefers A or B per dimension, with a tie only when the two are indistinguishable.
// Every judgment carries a chain-of-thought rationale. The panel's label is the majority.
//
// Noise model: an annotator reads the evidence like everyone else, and with probability equal to
// its noise level gives another label than the evidence supports: a neighbouring grade pointwise
// (Good <-> Normal <-> Bad), the other video pairwise (or a side, when the truth is a tie). So an
// annotator's disagreement with the evidence equals its configured noise level.
import { assess, gradeOf, GRADES, HUMAN_DIMENSIONS, HUMAN_EVIDENCE, type Assessment, type Grade, type HumanDimension, type HumanEvidence } from './assessment';
import { perceive, type Perception } from './perception';
import { pairwiseRationale, pointwiseRationale, type PairLabel, type PairRationale, type Rationale } from './rationale';
import { deriveSeed, hashString, Rng, type Seed } from './rng';
import type { PromptSpec, Video } from './spec';

export interface Annotator {
  id: string;
  /** Probability of giving a label other than the one the evidence supports. */
  noise: number;
  seed: number;
  /** How the evidence becomes a score (assessment.ts); absent (annotators made by hand) = 'graded'. The whole panel reads it alike. */
  evidence?: HumanEvidence;
}

export interface PanelOptions {
  /** Number of annotators (default 10, as in the paper). */
  size?: number;
  seed?: Seed;
  /** Noise levels: one for all, one per annotator, or a range drawn from uniformly (default 0.04-0.16). */
  noise?: number | number[] | { min: number; max: number };
  /** How the evidence becomes a score (default 'graded'; assessment.ts). */
  evidence?: HumanEvidence;
}

export const DEFAULT_PANEL_SIZE = 10;
export const DEFAULT_NOISE_RANGE = { min: 0.04, max: 0.16 } as const;
/** Two videos whose scores on a dimension differ by less than this are indistinguishable: a tie. */
export const TIE_MARGIN = 0.03;

export function makePanel(options: PanelOptions = {}): Annotator[] {
  const size = options.size ?? DEFAULT_PANEL_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new Error(`panel size must be an integer >= 1, got ${size}`);
  const seed = options.seed ?? 'panel';
  const rng = new Rng(seed, 'noise');
  const noise = options.noise ?? DEFAULT_NOISE_RANGE;
  const evidence = options.evidence ?? 'graded';
  if (!HUMAN_EVIDENCE.includes(evidence)) throw new Error(`panel evidence must be one of ${HUMAN_EVIDENCE.join(', ')}, got ${JSON.stringify(evidence)}`);
  return Array.from({ length: size }, (_, i) => {
    const level = typeof noise === 'number' ? noise : Array.isArray(noise) ? noise[i] : rng.uniform(noise.min, noise.max);
    if (level === undefined || !(level >= 0 && level <= 1)) throw new Error(`annotator ${i}: noise level must be in [0, 1], got ${level}`);
    return { id: `annotator-${i + 1}`, noise: level, seed: deriveSeed(seed, 'annotator', i), evidence };
  });
}

// ---------------------------------------------------------------------------------------------
// What the evidence supports

export function truthPointwise(a: Assessment): Record<HumanDimension, Grade> {
  return Object.fromEntries(HUMAN_DIMENSIONS.map((d) => [d, gradeOf(a.scores[d])])) as Record<HumanDimension, Grade>;
}

export function truthPairwise(a: Assessment, b: Assessment): Record<HumanDimension, PairLabel> {
  return Object.fromEntries(
    HUMAN_DIMENSIONS.map((d) => {
      const diff = a.scores[d] - b.scores[d];
      return [d, Math.abs(diff) < TIE_MARGIN ? 'tie' : diff > 0 ? 'A' : 'B'];
    }),
  ) as Record<HumanDimension, PairLabel>;
}

// ---------------------------------------------------------------------------------------------
// One annotator

export interface PointwiseJudgment {
  annotator: string;
  labels: Record<HumanDimension, Grade>;
  rationale: Rationale;
}

export interface PairwiseJudgment {
  annotator: string;
  labels: Record<HumanDimension, PairLabel>;
  rationale: PairRationale;
}

function slipGrade(g: Grade, rng: Rng): Grade {
  if (g === 'Good') return 'Normal';
  if (g === 'Bad') return 'Normal';
  return rng.bool() ? 'Good' : 'Bad';
}

function slipPair(l: PairLabel, rng: Rng): PairLabel {
  if (l === 'A') return 'B';
  if (l === 'B') return 'A';
  return rng.bool() ? 'A' : 'B';
}

/** An annotator's pointwise grades of one video, given the assessment of its pixels. `key` names the item (for reproducible noise). */
export function annotatePointwise(annotator: Annotator, spec: PromptSpec, assessment: Assessment, key: string): PointwiseJudgment {
  const truth = truthPointwise(assessment);
  const labels = { ...truth };
  for (const d of HUMAN_DIMENSIONS) {
    const rng = new Rng(annotator.seed, 'pointwise', key, d);
    if (rng.next() < annotator.noise) labels[d] = slipGrade(truth[d], rng);
  }
  return { annotator: annotator.id, labels, rationale: pointwiseRationale(spec, assessment, labels) };
}

/** An annotator's pairwise preferences between two videos of one prompt. */
export function annotatePairwise(annotator: Annotator, spec: PromptSpec, a: Assessment, b: Assessment, key: string): PairwiseJudgment {
  const truth = truthPairwise(a, b);
  const labels = { ...truth };
  for (const d of HUMAN_DIMENSIONS) {
    const rng = new Rng(annotator.seed, 'pairwise', key, d);
    if (rng.next() < annotator.noise) labels[d] = slipPair(truth[d], rng);
  }
  const ra = pointwiseRationale(spec, a, truthPointwise(a));
  const rb = pointwiseRationale(spec, b, truthPointwise(b));
  return { annotator: annotator.id, labels, rationale: pairwiseRationale(spec, ra, rb, labels) };
}

// ---------------------------------------------------------------------------------------------
// The panel

export interface PanelPointwise {
  /** Majority grade per dimension (ties between grades go to the middle of the votes). */
  labels: Record<HumanDimension, Grade>;
  /** Share of annotators who gave the majority grade. */
  agreement: Record<HumanDimension, number>;
  /** The evidence scores the grades come from (0-1 per dimension). */
  scores: Record<HumanDimension, number>;
  rationale: Rationale;
  judgments: PointwiseJudgment[];
}

export interface PanelPairwise {
  /** Majority per dimension; as many votes for A as for B is a tie. */
  labels: Record<HumanDimension, PairLabel>;
  agreement: Record<HumanDimension, number>;
  rationale: PairRationale;
  judgments: PairwiseJudgment[];
}

/** A stable name for a video's pixels, so the same video always draws the same annotator noise. */
export function videoFingerprint(video: Video): string {
  let text = `${video.frames}x${video.height}x${video.width}:`;
  const step = Math.max(1, Math.floor(video.data.length / 4096));
  for (let i = 0; i < video.data.length; i += step) text += String.fromCharCode(Math.round(video.data[i]! * 255) & 0xff);
  return hashString(text).toString(36);
}

/** A video as the panel sees it: pixels, optionally their perception (computed once and shared), and a key. */
export interface ViewedVideo {
  video: Video;
  perception?: Perception;
  key?: string;
}

/** How the panel reads evidence: its members must agree (one assessment serves them all). */
function panelEvidence(panel: Annotator[]): HumanEvidence {
  const evidence = panel[0]?.evidence ?? 'graded';
  const other = panel.find((a) => (a.evidence ?? 'graded') !== evidence);
  if (other) throw new Error(`panel: annotator ${other.id} has evidence "${other.evidence ?? 'graded'}", ${panel[0]!.id} "${evidence}": a panel reads the evidence alike`);
  return evidence;
}

/** What the panel keeps of a video it has looked at: its assessment and its key (small, unlike the pixels). */
export interface PanelView {
  assessment: Assessment;
  key: string;
}

/** The panel's look at a video; a view can be judged against many others without perceiving it again. */
export function panelView(panel: Annotator[], spec: PromptSpec, v: ViewedVideo): PanelView {
  const perception = v.perception ?? perceive(v.video);
  return { assessment: assess(spec, perception, panelEvidence(panel)), key: v.key ?? videoFingerprint(v.video) };
}

function majorityGrade(votes: Grade[]): { label: Grade; share: number } {
  const counts = GRADES.map((g) => votes.filter((v) => v === g).length);
  const top = Math.max(...counts);
  const leaders = GRADES.filter((_, i) => counts[i] === top);
  // A split vote goes to the median grade of all votes.
  const label = leaders.length === 1 ? leaders[0]! : GRADES[Math.round(votes.map((v) => GRADES.indexOf(v)).reduce((a, b) => a + b, 0) / votes.length)]!;
  return { label, share: votes.filter((v) => v === label).length / votes.length };
}

function majorityPair(votes: PairLabel[]): { label: PairLabel; share: number } {
  const a = votes.filter((v) => v === 'A').length;
  const b = votes.filter((v) => v === 'B').length;
  const t = votes.length - a - b;
  const label: PairLabel = t > a && t > b ? 'tie' : a > b ? 'A' : b > a ? 'B' : 'tie';
  return { label, share: votes.filter((v) => v === label).length / votes.length };
}

export function panelPointwise(panel: Annotator[], spec: PromptSpec, video: ViewedVideo): PanelPointwise {
  const { assessment, key } = panelView(panel, spec, video);
  const judgments = panel.map((a) => annotatePointwise(a, spec, assessment, key));
  const labels = {} as Record<HumanDimension, Grade>;
  const agreement = {} as Record<HumanDimension, number>;
  for (const d of HUMAN_DIMENSIONS) {
    const m = majorityGrade(judgments.map((j) => j.labels[d]));
    labels[d] = m.label;
    agreement[d] = m.share;
  }
  return { labels, agreement, scores: assessment.scores, rationale: pointwiseRationale(spec, assessment, labels), judgments };
}

export function panelPairwise(panel: Annotator[], spec: PromptSpec, a: ViewedVideo, b: ViewedVideo): PanelPairwise {
  return panelPairwiseOfViews(panel, spec, panelView(panel, spec, a), panelView(panel, spec, b));
}

/** panelPairwise of two videos the panel has already looked at (panelView, with this panel's evidence). */
export function panelPairwiseOfViews(panel: Annotator[], spec: PromptSpec, va: PanelView, vb: PanelView): PanelPairwise {
  const key = `${va.key}|${vb.key}`;
  const judgments = panel.map((annotator) => annotatePairwise(annotator, spec, va.assessment, vb.assessment, key));
  const labels = {} as Record<HumanDimension, PairLabel>;
  const agreement = {} as Record<HumanDimension, number>;
  for (const d of HUMAN_DIMENSIONS) {
    const m = majorityPair(judgments.map((j) => j.labels[d]));
    labels[d] = m.label;
    agreement[d] = m.share;
  }
  const ra = pointwiseRationale(spec, va.assessment, truthPointwise(va.assessment));
  const rb = pointwiseRationale(spec, vb.assessment, truthPointwise(vb.assessment));
  return { labels, agreement, rationale: pairwiseRationale(spec, ra, rb, labels), judgments };
}
