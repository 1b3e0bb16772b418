// What a careful viewer concludes from perception, along the paper's three human dimensions
// (appendix A.2): semantic consistency (does the video show what the prompt says), motion smoothness
// (smooth, coherent, plausible motion) and video faithfulness (clean, undistorted pictures). The
// annotators grade from this; the evaluator's overall consistency counts its attribute checks.
import { matchSubjects, perceivedRelation } from './accuracy';
import type { Perception } from './perception';
import type { PromptSpec } from './spec';
import { ACTION_INFO, RELATION_AXIS, SUBJECTS, motionPhrase } from './vocabulary';

export const HUMAN_DIMENSIONS = ['semantic', 'motion', 'faithfulness'] as const;
export type HumanDimension = (typeof HUMAN_DIMENSIONS)[number];
export const HUMAN_DIMENSION_NAMES: Readonly<Record<HumanDimension, string>> = { semantic: 'semantic consistency', motion: 'motion smoothness', faithfulness: 'video faithfulness' };

export type Grade = 'Good' | 'Normal' | 'Bad';
export const GRADES: readonly Grade[] = ['Bad', 'Normal', 'Good'];

/** Appendix A.2: Good = no observable flaw, Normal = minor imperfections, Bad = significant violations. */
export const GRADE_THRESHOLDS = { good: 0.85, normal: 0.6 } as const;

export function gradeOf(score: number): Grade {
  return score >= GRADE_THRESHOLDS.good ? 'Good' : score >= GRADE_THRESHOLDS.normal ? 'Normal' : 'Bad';
}

export interface AttributeCheck {
  attribute: 'objects' | 'subject' | 'colour' | 'size' | 'action' | 'relation' | 'scene' | 'style' | 'speed';
  /** Index of the spec subject the check is about. */
  subject?: number;
  /** What the check is about, in words: "the cat", "the scene". */
  about: string;
  expected: string;
  observed: string;
  ok: boolean;
  weight: number;
}

export interface Flaw {
  kind: 'shake' | 'flicker' | 'popping' | 'erratic' | 'blur' | 'noise' | 'deformed' | 'muddy colour' | 'artefacts' | 'background';
  /** 0 (invisible) to 1 (as bad as it gets). */
  severity: number;
  text: string;
}

export interface Assessment {
  checks: AttributeCheck[];
  motionFlaws: Flaw[];
  qualityFlaws: Flaw[];
  /** Per dimension in [0, 1]: 1 = nothing wrong. */
  scores: Record<HumanDimension, number>;
}

const WEIGHTS = { objects: 2, subject: 2, colour: 1.5, size: 0.5, action: 1.5, relation: 1.5, scene: 1, style: 0.75, speed: 0.75 } as const;

function semanticChecks(spec: PromptSpec, p: Perception): AttributeCheck[] {
  const checks: AttributeCheck[] = [];
  const add = (attribute: AttributeCheck['attribute'], about: string, expected: string, observed: string, subject?: number) =>
    checks.push({ attribute, about, expected, observed, ok: expected === observed, weight: WEIGHTS[attribute], ...(subject === undefined ? {} : { subject }) });
  const count = (n: number) => (n === 1 ? 'one subject' : `${n} subjects`);
  add('objects', 'the number of subjects', count(spec.subjects.length), count(p.objects.length));
  const matched = matchSubjects(spec, p);
  // Subjects are named as the prompt names them; two of one kind are told apart by colour.
  const sameKind = spec.subjects.length > 1 && spec.subjects.every((s) => s.kind === spec.subjects[0]!.kind);
  spec.subjects.forEach((s, i) => {
    const o = matched[i];
    const about = `the ${sameKind ? `${s.color} ` : ''}${SUBJECTS[s.kind].noun}`;
    const which = spec.subjects.length === 1 ? 'the subject' : `the ${i === 0 ? 'first' : 'second'} subject`;
    add('subject', which, SUBJECTS[s.kind].noun, o ? SUBJECTS[o.kind].noun : 'nothing', i);
    add('colour', `the colour of ${about}`, s.color, o ? o.colour : 'nothing', i);
    add('size', `the size of ${about}`, s.size, o ? o.size : 'nothing', i);
    add('action', `what ${about} does`, motionPhrase(s.action, s.kind), o ? motionPhrase(o.motion.motion, s.kind) : 'nothing', i);
  });
  if (spec.relation) {
    const a = matched[spec.relation.subject];
    const b = matched[spec.relation.object];
    const rel = a && b ? perceivedRelation(a, b, RELATION_AXIS[spec.relation.type]) : undefined;
    const nounA = SUBJECTS[spec.subjects[spec.relation.subject]!.kind].noun;
    const nounB = SUBJECTS[spec.subjects[spec.relation.object]!.kind].noun;
    add('relation', `where the ${nounA} is`, `${spec.relation.type} the ${nounB}`, rel ? `${rel} the ${nounB}` : 'not both visible');
  }
  add('scene', 'the scene', spec.scene, p.scene);
  add('style', 'the style', spec.style, p.style);
  const travelling = spec.subjects.map((s, i) => [s, matched[i]] as const).filter(([s]) => ACTION_INFO[s.action].translational);
  if (travelling.length) {
    const speeds = travelling.map(([, o]) => o?.motion.speed ?? 'none');
    add('speed', 'the speed', spec.speed, speeds.every((v) => v === speeds[0]) ? speeds[0]! : 'mixed');
  }
  return checks;
}

function motionFlaws(p: Perception): Flaw[] {
  const flaws: Flaw[] = [];
  const { shake, flicker, popping } = p.temporal;
  if (shake > 0.3) flaws.push({ kind: 'shake', severity: Math.min(1, shake / 2.5), text: `the camera shakes (about ${shake.toFixed(1)} px per frame)` });
  if (flicker > 0.03) flaws.push({ kind: 'flicker', severity: Math.min(1, flicker / 0.4), text: `the brightness flickers (${Math.round(100 * flicker)}% per frame)` });
  if (popping > 0) flaws.push({ kind: 'popping', severity: Math.min(1, popping * 2.5), text: 'an object vanishes and reappears' });
  for (const o of p.objects) {
    if (o.motion.motion === 'unknown') flaws.push({ kind: 'erratic', severity: 0.5, text: `the ${o.colour} ${SUBJECTS[o.kind].noun} moves erratically` });
  }
  return flaws;
}

function qualityFlaws(p: Perception): Flaw[] {
  const flaws: Flaw[] = [];
  const q = p.quality;
  const blur = Math.max(q.blur, q.edgeSoftness > 1.3 ? (q.edgeSoftness - 1) / 2 : 0);
  if (blur > 0.4) flaws.push({ kind: 'blur', severity: Math.min(1, blur / 1.6), text: 'the picture is blurry' });
  if (q.noise > 0.012) flaws.push({ kind: 'noise', severity: Math.min(1, q.noise / 0.08), text: 'the picture is grainy with noise' });
  for (const o of p.objects) {
    if (o.kindScore < 0.7) flaws.push({ kind: 'deformed', severity: Math.min(1, (0.7 - o.kindScore) / 0.4), text: `the ${SUBJECTS[o.kind].noun} looks deformed` });
    if (o.purity < 0.85) flaws.push({ kind: 'muddy colour', severity: Math.min(1, (0.85 - o.purity) / 0.4), text: `the ${o.colour} ${SUBJECTS[o.kind].noun} has muddy colours` });
  }
  if (q.artefacts > 0.2) flaws.push({ kind: 'artefacts', severity: Math.min(1, q.artefacts / 2), text: 'stray blobs appear' });
  if (q.backgroundError > 0.03) flaws.push({ kind: 'background', severity: Math.min(1, q.backgroundError / 0.15), text: 'the background is distorted' });
  return flaws;
}

const MOTION_WEIGHT: Partial<Record<Flaw['kind'], number>> = { shake: 0.8, flicker: 0.7, popping: 0.6, erratic: 0.4 };
const QUALITY_WEIGHT: Partial<Record<Flaw['kind'], number>> = { blur: 0.7, noise: 0.7, deformed: 0.5, 'muddy colour': 0.3, artefacts: 0.4, background: 0.5 };

/**
 * How a viewer turns what is wrong into a score. 'clipped': penalties add up and the score stops at 0, so a video that misses about 60% of
 * the prompt's weighted attributes, or shows blur plus a deformed, muddy subject, scores 0 however
 * much more it gets wrong, and two such videos are a tie. 'graded': the same flaws and checks, but
 * penalties multiply and the semantic score falls with the square of the share shown, so the score
 * reaches 0 only when nothing is right, and a viewer still prefers the video that shows more of the
 * prompt, as human raters of weak models do (the default: on the quickstart's base-generator samples
 * the clipped panel graded 93% of them 0 on semantics and 99.9% 0 on faithfulness, and tied 13.6% of
 * pairwise labels; graded, 3.5%). Both agree where little is wrong (the subject's colour
 * wrong in a one-subject prompt of weight 10: 0.71 clipped, 0.69 graded).
 */
export const HUMAN_EVIDENCE = ['clipped', 'graded'] as const;
export type HumanEvidence = (typeof HUMAN_EVIDENCE)[number];

function penalty(flaws: Flaw[], weights: Partial<Record<Flaw['kind'], number>>, evidence: HumanEvidence): number {
  if (evidence === 'graded') return flaws.reduce((s, f) => s * Math.max(0, 1 - f.severity * (weights[f.kind] ?? 0.5)), 1);
  return Math.max(0, 1 - flaws.reduce((s, f) => s + f.severity * (weights[f.kind] ?? 0.5), 0));
}

/** Checks a video's perception against its prompt spec along the three human dimensions. */
export function assess(spec: PromptSpec, p: Perception, evidence: HumanEvidence = 'graded'): Assessment {
  const checks = semanticChecks(spec, p);
  const motion = motionFlaws(p);
  const quality = qualityFlaws(p);
  // Any attribute the video gets wrong is an observable flaw (so never Good); the score falls with
  // the weight of what is wrong.
  const total = checks.reduce((s, c) => s + c.weight, 0);
  const failed = checks.filter((c) => !c.ok);
  const wrong = total ? failed.reduce((s, c) => s + c.weight, 0) / total : 0;
  const semantic = evidence === 'graded' ? (1 - wrong) ** 2 * 0.95 ** failed.length : Math.max(0, 1 - 1.6 * wrong - 0.05 * failed.length);
  return {
    checks,
    motionFlaws: motion,
    qualityFlaws: quality,
    scores: { semantic: Math.min(semantic, failed.length ? GRADE_THRESHOLDS.good - 0.01 : 1), motion: penalty(motion, MOTION_WEIGHT, evidence), faithfulness: penalty(quality, QUALITY_WEIGHT, evidence) },
  };
}
