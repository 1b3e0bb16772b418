// What ranking the candidates by the critic's pairwise judgements costs the label stage, next to
// the pointwise judging it always does: the quickstart critic (weights do not change the cost),
// features of rendered videos, k paths, every pair of each prompt's candidates. Usage:
//   npx tsx bench/label-ranking.ts [--prompts 32] [--candidates 8] [--paths 8]
import { parseArgs } from 'node:util';
import { pairwiseWinRates } from '../lib/core';
import { initTf } from '../lib/models/backend';
import { CriticOnnx, DEFAULT_CRITIC, initCritic, judgeCandidatePairs, judgeVideos, videoFeatures } from '../lib/models/critic';
import { fitVocabulary } from '../lib/models/text';
import { renderVideo, samplePrompts } from '../lib/world';

const { values } = parseArgs({ options: { prompts: { type: 'string', default: '32' }, candidates: { type: 'string', default: '8' }, paths: { type: 'string', default: '8' } } });
const [P, C, paths] = [Number(values.prompts), Number(values.candidates), Number(values.paths)];
await initTf(() => {});
const prompts = samplePrompts({ count: P, seed: 'bench-ranking' });
const critic = initCritic(DEFAULT_CRITIC, fitVocabulary(prompts.map((p) => p.text)), 'bench');
const groups = prompts.map((p, i) => ({ prompt: p.text, features: Array.from({ length: C }, (_, c) => videoFeatures(renderVideo(p.spec, { seed: i * C + c }))) }));
const exec = await CriticOnnx.create(critic);
const seconds = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};
const pointwise = await seconds(() => judgeVideos(exec, groups.flatMap((g) => g.features.map((features) => ({ prompt: g.prompt, features }))), { paths }));
const pairwise = await seconds(async () => {
  for (const [k, g] of groups.entries()) {
    const ids = g.features.map((_, c) => String(c));
    const votes = await judgeCandidatePairs(exec, g.prompt, g.features, { paths, seed: k });
    pairwiseWinRates(String(k), ids, votes.map((v) => ({ ...v, a: ids[v.a]!, b: ids[v.b]! })));
  }
});
await exec.release();
const pairs = (P * C * (C - 1)) / 2;
console.log(`${P} prompts x ${C} candidates, ${paths} paths: pointwise ${pointwise.toFixed(2)} s (${((1000 * pointwise) / (P * C)).toFixed(2)} ms per video); pairwise ${pairs} pairs ${pairwise.toFixed(2)} s (${((1000 * pairwise) / P).toFixed(1)} ms per prompt, x${(pairwise / pointwise).toFixed(1)} the pointwise judging)`);
