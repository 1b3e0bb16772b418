// Preference data from the critic (paper sections 3.3 and 4.1): a ranking of each prompt's candidates
// from the critic's pairwise judgements, top-1 vs bottom-1 pairs for Diffusion-DPO, and a pointwise
// desirable/undesirable split for Diffusion-KTO.
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

/** One pair of a prompt's candidates as the critic judged it: its answers counted over paths (and dimensions). */
export interface PairwiseJudgement {
  a: string;
  b: string;
  /** Answers "a is better", "b is better" and "tie". */
  aWins: number;
  bWins: number;
  ties: number;
}

// Section 3.3 ("pairwise data for DPO") with 4.1's "top-1 and bottom-1 by critic ranking": each
// candidate's win rate over every answer about the pairs it is in, a tie counting half:
// score(c) = (wins(c) + ties(c) / 2) / answers(c), in [0, 1]. A lone candidate (no pair) scores 0.5.
export function pairwiseWinRates(prompt: string, ids: readonly string[], judgements: readonly PairwiseJudgement[]): ScoredCandidate[] {
  const fn = 'pairwiseWinRates';
  const won = new Map<string, number>();
  const answered = new Map<string, number>();
  for (const id of ids) {
    if (won.has(id)) throw new Error(`${fn}: duplicate candidate id "${id}" for prompt "${prompt}"`);
    won.set(id, 0);
    answered.set(id, 0);
  }
  judgements.forEach((j, i) => {
    const where = `judgement ${i} ("${j.a}" vs "${j.b}") of prompt "${prompt}"`;
    for (const id of [j.a, j.b]) if (!won.has(id)) throw new Error(`${fn}: ${where} names "${id}", which is not a candidate of the prompt`);
    if (j.a === j.b) throw new Error(`${fn}: ${where} compares a candidate with itself`);
    for (const [name, n] of [['aWins', j.aWins], ['bWins', j.bWins], ['ties', j.ties]] as const) {
      if (!Number.isFinite(n) || n < 0) throw new Error(`${fn}: ${where} has ${name} ${n}; counts must be finite and >= 0`);
    }
    const total = j.aWins + j.bWins + j.ties;
    if (total === 0) throw new Error(`${fn}: ${where} has no answers`);
    won.set(j.a, won.get(j.a)! + j.aWins + j.ties / 2);
    won.set(j.b, won.get(j.b)! + j.bWins + j.ties / 2);
    answered.set(j.a, answered.get(j.a)! + total);
    answered.set(j.b, answered.get(j.b)! + total);
  });
  return ids.map((id) => {
    const n = answered.get(id)!;
    if (n === 0 && ids.length > 1) throw new Error(`${fn}: candidate "${id}" of prompt "${prompt}" is in no judged pair`);
    return { id, score: n === 0 ? 0.5 : won.get(id)! / n };
  });
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
