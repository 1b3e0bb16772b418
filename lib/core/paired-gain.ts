// How much a generator gains over a baseline on the same prompts and seeds, with the uncertainty of
// that figure. Not in the paper: the eval gate (eq. 8's ordering of rounds) compares two Totals, and
// a held-out audit that reports a gain should also say whether that gain is larger than its noise.
// Both generators sample video i from the same prompt and the same seed, so the per-video
// differences share most of their noise and the paired standard error is the honest one.

export interface PairedGain {
  /** Mean of candidate[i] - baseline[i]. */
  gain: number;
  /** Standard error of that mean: sample standard deviation of the differences / sqrt(n). */
  standardError: number;
  n: number;
}

/** Paired gain of per-video scores `candidate` over `baseline` (same videos, same order). */
export function pairedGain(baseline: readonly number[], candidate: readonly number[]): PairedGain {
  if (baseline.length !== candidate.length) throw new Error(`pairedGain: baseline has ${baseline.length} scores, candidate ${candidate.length}; both must score the same videos`);
  const n = baseline.length;
  if (n < 2) throw new Error(`pairedGain: need at least 2 paired scores, got ${n}`);
  const diffs = baseline.map((b, i) => {
    const d = candidate[i]! - b;
    if (!Number.isFinite(d)) throw new Error(`pairedGain: score ${i} is not a finite number (baseline ${b}, candidate ${candidate[i]})`);
    return d;
  });
  const gain = diffs.reduce((a, d) => a + d, 0) / n;
  const variance = diffs.reduce((a, d) => a + (d - gain) ** 2, 0) / (n - 1);
  return { gain, standardError: Math.sqrt(variance / n), n };
}
