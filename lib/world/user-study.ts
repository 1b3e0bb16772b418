// A simulated user study (the paper's Fig. 3b): the annotator panel compares a candidate
// generator's video with the base generator's video of the same prompt and seed, pairwise, along
// the three human dimensions. The benchmark's Total can rise while people see no improvement (a
// generator can learn what the benchmark counts); the study is the other reading of the same videos.
import { jackknifeGain } from '../core/paired-gain';
import { panelPairwiseOfViews, type Annotator, type PanelView } from './annotators';
import { HUMAN_DIMENSIONS, type HumanDimension } from './assessment';
import type { PromptSpec } from './spec';

export interface StudyPair {
  spec: PromptSpec;
  candidate: PanelView;
  base: PanelView;
  /** The pairs of one prompt share its noise: the standard error treats a prompt as one unit. */
  cluster: number;
}

export interface WinLossTie {
  wins: number;
  losses: number;
  ties: number;
}

export interface UserStudyResult extends WinLossTie {
  pairs: number;
  /**
   * (wins - losses) / pairs, in [-1, 1]: the mean over pairs of +1 (the panel prefers the
   * candidate), 0 (tie) or -1 (it prefers the base).
   */
  net: number;
  /** Jackknife over prompts of `net` (lib/core/paired-gain.ts); absent with fewer than 2 prompts. */
  standardError?: number;
  /** The panel's majority per dimension, counted from the candidate's side. */
  dimensions: Record<HumanDimension, WinLossTie>;
}

/**
 * One verdict per pair: the video the panel prefers on more of the three dimensions wins; as many
 * for each (including all ties) is a tie. The paper reports the dimensions separately; they are
 * kept in `dimensions`, and one overall verdict is what a score difference needs.
 */
export function userStudy(panel: Annotator[], pairs: readonly StudyPair[]): UserStudyResult {
  if (!pairs.length) throw new Error('userStudy: no pairs');
  const dimensions = Object.fromEntries(HUMAN_DIMENSIONS.map((d) => [d, { wins: 0, losses: 0, ties: 0 }])) as Record<HumanDimension, WinLossTie>;
  const verdicts = pairs.map((p) => {
    const { labels } = panelPairwiseOfViews(panel, p.spec, p.candidate, p.base);
    let balance = 0;
    for (const d of HUMAN_DIMENSIONS) {
      const l = labels[d];
      if (l === 'A') dimensions[d].wins++;
      else if (l === 'B') dimensions[d].losses++;
      else dimensions[d].ties++;
      balance += l === 'A' ? 1 : l === 'B' ? -1 : 0;
    }
    return Math.sign(balance);
  });
  const wins = verdicts.filter((v) => v > 0).length;
  const losses = verdicts.filter((v) => v < 0).length;
  const clusters = [...new Set(pairs.map((p) => p.cluster))];
  const index = new Map(clusters.map((c, i) => [c, i]));
  const net = (leftOut?: number) => {
    let sum = 0;
    let n = 0;
    verdicts.forEach((v, i) => {
      if (index.get(pairs[i]!.cluster) === leftOut) return;
      sum += v;
      n++;
    });
    return sum / n;
  };
  const standardError = clusters.length >= 2 ? jackknifeGain(clusters.length, net).standardError : undefined;
  return { pairs: pairs.length, wins, losses, ties: pairs.length - wins - losses, net: net(), ...(standardError !== undefined ? { standardError } : {}), dimensions };
}
