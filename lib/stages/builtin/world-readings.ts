// What the reference world itself says of a video: diagnostics and oracle rankings a deployment
// does not have (the benchmark's score of one video; the share of the prompt a careful viewer sees).
import { assess, evaluateVideos, perceive, type PromptSpec, type Video } from '../../world';

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
