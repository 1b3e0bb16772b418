// What the reference world itself says of a video: diagnostics and oracle rankings a deployment
// does not have (the benchmark's score of one video; the share of the prompt a careful viewer sees).
import { assess, evaluateVideos, HUMAN_DIMENSIONS, makePanel, panelPairwiseOfViews, panelView, perceive, type PromptSpec, type Video } from '../../world';

/** The world's benchmark on one video alone: its Total (0-100) over that video (the oracle ranking, and the pairs' check). */
export function benchmarkTotal(spec: PromptSpec, video: Video): number {
  return evaluateVideos([{ spec, video }]).total;
}

/** The share of the prompt's weighted attributes a careful viewer sees in the video (the panel's semantic evidence before its grading). */
export function promptShown(spec: PromptSpec, video: Video): number {
  const { checks } = assess(spec, perceive(video));
  const all = checks.reduce((s, c) => s + c.weight, 0);
  return all ? checks.reduce((s, c) => s + (c.ok ? c.weight : 0), 0) / all : 1;
}

/**
 * The simulated human panel's ranking of one prompt's candidates (rankBy 'panel'): every pair judged
 * pairwise, the video preferred on more of the three dimensions wins (the user study's verdict), and
 * each candidate's score is its win rate, a tie counting half. Its own annotators (seed
 * 'ranking-panel'), not the user study's, so its noise is not the study's.
 */
export function panelWinRates(spec: PromptSpec, videos: readonly Video[]): number[] {
  const panel = makePanel({ seed: 'ranking-panel', evidence: 'graded' });
  const views = videos.map((video) => panelView(panel, spec, { video }));
  const wins = videos.map(() => 0);
  for (let a = 0; a < videos.length; a++) {
    for (let b = a + 1; b < videos.length; b++) {
      const { labels } = panelPairwiseOfViews(panel, spec, views[a]!, views[b]!);
      const balance = HUMAN_DIMENSIONS.reduce((s, d) => s + (labels[d] === 'A' ? 1 : labels[d] === 'B' ? -1 : 0), 0);
      const share = balance > 0 ? 1 : balance < 0 ? 0 : 0.5;
      wins[a] += share;
      wins[b] += 1 - share;
    }
  }
  return wins.map((w) => (videos.length > 1 ? w / (videos.length - 1) : 0.5));
}
