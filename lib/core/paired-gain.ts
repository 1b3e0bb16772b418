// How much a generator gains over a baseline on the same prompts and seeds, with the uncertainty of
// that figure. Not in the paper: the eval gate (eq. 8's ordering of rounds) compares two Totals, and
// a gate or an audit that reports a gain should also say whether it is larger than its noise.
// VBench's Total is not a mean of per-video scores: each dimension is averaged over the whole set
// (over frames for some), then normalised and weighted. So the error comes from the delete-one-
// cluster jackknife of the Total difference itself: leave one prompt's videos out of both sets,
// recompute, and see how much the difference moves. Both generators sample video i from the same
// prompt and seed, so the differences share most of their noise: the paired error is the honest one.

export interface PairedGain {
  /** The statistic's difference, candidate - baseline, on all clusters. */
  gain: number;
  /** Its jackknife standard error. */
  standardError: number;
  /** Clusters (prompts) left out in turn. */
  n: number;
}

/** Jackknife over `clusters` of a paired difference; `difference(c)` recomputes it without cluster c. */
export function jackknifeGain(clusters: number, difference: (leftOut?: number) => number): PairedGain {
  if (!Number.isInteger(clusters) || clusters < 2) throw new Error(`jackknifeGain: need at least 2 clusters, got ${clusters}`);
  const gain = difference();
  if (!Number.isFinite(gain)) throw new Error(`jackknifeGain: the difference on all clusters is not a finite number (${gain})`);
  const partial = Array.from({ length: clusters }, (_, c) => {
    const d = difference(c);
    if (!Number.isFinite(d)) throw new Error(`jackknifeGain: the difference without cluster ${c} is not a finite number (${d})`);
    return d;
  });
  const mean = partial.reduce((a, d) => a + d, 0) / clusters;
  const variance = ((clusters - 1) / clusters) * partial.reduce((a, d) => a + (d - mean) ** 2, 0);
  return { gain, standardError: Math.sqrt(variance), n: clusters };
}
