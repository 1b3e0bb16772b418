// Preference data from critic scores (paper section 4.1): top-1 vs bottom-1 pairs for Diffusion-DPO
// and a pointwise desirable/undesirable split for Diffusion-KTO.
import { assertFiniteNumbers, assertFiniteScalar } from './tensor-checks';

export interface ScoredCandidate {
  id: string;
  score: number;
}

export interface PromptCandidates {
  prompt: string;
  candidates: readonly ScoredCandidate[];
}

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  chosenScore: number;
  rejectedScore: number;
  /** chosenScore - rejectedScore (> 0). */
  gap: number;
}

/** Score descending, then id ascending (code-unit order): independent of the input order. */
function rank(fn: string, prompt: string, candidates: readonly ScoredCandidate[]): ScoredCandidate[] {
  assertFiniteNumbers(fn, `scores of prompt "${prompt}"`, candidates.map((c) => c.score));
  const ids = new Set<string>();
  for (const c of candidates) {
    if (ids.has(c.id)) throw new Error(`${fn}: duplicate candidate id "${c.id}" for prompt "${prompt}"`);
    ids.add(c.id);
  }
  return [...candidates].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Section 4.1: per prompt, y_w = top-1 and y_l = bottom-1 by critic score; kept iff gap > 0 and gap >= minGap
export function buildPreferencePairs(groups: readonly PromptCandidates[], { minGap = 0 }: { minGap?: number } = {}): PreferencePair[] {
  const fn = 'buildPreferencePairs';
  assertFiniteScalar(fn, 'minGap', minGap);
  if (minGap < 0) throw new Error(`${fn}: minGap must be >= 0, got ${minGap}`);
  const pairs: PreferencePair[] = [];
  for (const { prompt, candidates } of groups) {
    const ranked = rank(fn, prompt, candidates);
    if (ranked.length < 2) continue; // nothing to compare
    // Ties: the tie-broken order puts the smallest id first and the largest last, so with >= 2
    // candidates the chosen and rejected videos always differ; an all-tied prompt has gap 0 and is dropped.
    const [w, l] = [ranked[0]!, ranked[ranked.length - 1]!];
    const gap = w.score - l.score;
    if (gap <= 0 || gap < minGap) continue;
    pairs.push({ prompt, chosen: w.id, rejected: l.id, chosenScore: w.score, rejectedScore: l.score, gap });
  }
  return pairs;
}

export interface ScoredSample extends ScoredCandidate {
  prompt: string;
}

export interface KtoSplit {
  desirable: ScoredSample[];
  undesirable: ScoredSample[];
  /** Within margin of the threshold: no clear label, left out (like the "Normal" pointwise grade). */
  neutral: ScoredSample[];
}

// Diffusion-KTO data (eq. 8's w(x0) = +-1): desirable iff score > threshold + margin, undesirable iff score < threshold - margin
export function splitForKto(samples: readonly ScoredSample[], { threshold, margin = 0 }: { threshold: number; margin?: number }): KtoSplit {
  const fn = 'splitForKto';
  assertFiniteScalar(fn, 'threshold', threshold);
  assertFiniteScalar(fn, 'margin', margin);
  if (margin < 0) throw new Error(`${fn}: margin must be >= 0, got ${margin}`);
  assertFiniteNumbers(fn, 'scores', samples.map((s) => s.score));
  // Input order is kept; a score exactly at the threshold carries no label, so it is neutral.
  const split: KtoSplit = { desirable: [], undesirable: [], neutral: [] };
  for (const s of samples) {
    if (s.score > threshold + margin) split.desirable.push(s);
    else if (s.score < threshold - margin) split.undesirable.push(s);
    else split.neutral.push(s);
  }
  return split;
}
