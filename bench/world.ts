// The reference world's speed: rendering and the VBench-style evaluator, per video. A round renders
// and scores thousands of videos, so these bound the quickstart's wall time (docs/world.md).
import { evaluateVideos, renderVideo, samplePrompts } from '../lib/world';

export async function benchWorld(opts: { quick?: boolean } = {}): Promise<Record<string, number>> {
  const prompts = samplePrompts({ count: opts.quick ? 100 : 300, seed: 'render-speed' });
  for (const p of prompts.slice(0, 50)) renderVideo(p.spec, { seed: 0 });
  let start = performance.now();
  const videos = prompts.map((p) => renderVideo(p.spec, { seed: 1 }));
  const renderMs = (performance.now() - start) / prompts.length;
  const items = prompts.map((p, k) => ({ spec: p.spec, video: videos[k]! }));
  start = performance.now();
  evaluateVideos([...items, ...items]);
  const evaluateMs = (performance.now() - start) / (2 * items.length);
  return { renderMsPerVideo: renderMs, evaluateMsPerVideo: evaluateMs };
}
