// Chain-of-thought rationales: the reasons behind each judgment as a plain structured object (what
// matches the prompt, what does not, which motion and picture flaws were seen) plus its text. They
// are what the critic is warm-started on (paper section 3.2, CoT-guided annotation).
import { HUMAN_DIMENSION_NAMES, HUMAN_DIMENSIONS, type Assessment, type Grade, type HumanDimension } from './assessment';
import { promptText } from './prompts';
import type { PromptSpec } from './spec';

export type PairLabel = 'A' | 'B' | 'tie';

export interface Rationale {
  /** Attributes the video shows as the prompt says, e.g. "the colour of the cat: red". */
  matched: string[];
  /** Attributes it gets wrong, e.g. "the colour of the cat: expected red, saw green". */
  mismatched: string[];
  motionFlaws: string[];
  qualityFlaws: string[];
  verdict: Record<HumanDimension, Grade>;
  text: string;
}

export interface PairRationale {
  a: Rationale;
  b: Rationale;
  /** Per dimension, why one video wins (or why they are indistinguishable). */
  comparison: Record<HumanDimension, string>;
  verdict: Record<HumanDimension, PairLabel>;
  text: string;
}

function list(items: string[], empty: string): string {
  return items.length ? items.join('; ') : empty;
}

export function pointwiseRationale(spec: PromptSpec, assessment: Assessment, verdict: Record<HumanDimension, Grade>): Rationale {
  const matched = assessment.checks.filter((c) => c.ok).map((c) => `${c.about}: ${c.expected}`);
  const mismatched = assessment.checks.filter((c) => !c.ok).map((c) => `${c.about}: expected ${c.expected}, saw ${c.observed}`);
  const motionFlaws = assessment.motionFlaws.map((f) => f.text);
  const qualityFlaws = assessment.qualityFlaws.map((f) => f.text);
  const text = [
    `The prompt asks for: ${promptText(spec)}`,
    `Matches: ${list(matched, 'nothing')}.`,
    `Mismatches: ${list(mismatched, 'none')}.`,
    `Motion: ${list(motionFlaws, 'smooth, no flaw seen')}.`,
    `Picture: ${list(qualityFlaws, 'clean, no flaw seen')}.`,
    `So: ${HUMAN_DIMENSIONS.map((d) => `${HUMAN_DIMENSION_NAMES[d]} ${verdict[d]}`).join(', ')}.`,
  ].join(' ');
  return { matched, mismatched, motionFlaws, qualityFlaws, verdict, text };
}

function why(d: HumanDimension, winner: 'A' | 'B', loser: Rationale): string {
  const flaws = d === 'semantic' ? loser.mismatched : d === 'motion' ? loser.motionFlaws : loser.qualityFlaws;
  const other = winner === 'A' ? 'B' : 'A';
  return flaws.length ? `${winner} is better: in ${other}, ${flaws.join('; ')}` : `${winner} is slightly better`;
}

export function pairwiseRationale(spec: PromptSpec, a: Rationale, b: Rationale, verdict: Record<HumanDimension, PairLabel>): PairRationale {
  const comparison = Object.fromEntries(
    HUMAN_DIMENSIONS.map((d) => [d, verdict[d] === 'tie' ? 'indistinguishable' : why(d, verdict[d] as 'A' | 'B', verdict[d] === 'A' ? b : a)]),
  ) as Record<HumanDimension, string>;
  const text = [
    `The prompt asks for: ${promptText(spec)}`,
    `Video A: matches ${list(a.matched, 'nothing')}; mismatches ${list(a.mismatched, 'none')}; motion ${list(a.motionFlaws, 'smooth')}; picture ${list(a.qualityFlaws, 'clean')}.`,
    `Video B: matches ${list(b.matched, 'nothing')}; mismatches ${list(b.mismatched, 'none')}; motion ${list(b.motionFlaws, 'smooth')}; picture ${list(b.qualityFlaws, 'clean')}.`,
    ...HUMAN_DIMENSIONS.map((d) => `${HUMAN_DIMENSION_NAMES[d]}: ${verdict[d] === 'tie' ? 'tie, indistinguishable' : comparison[d]}.`),
  ].join(' ');
  return { a, b, comparison, verdict, text };
}
