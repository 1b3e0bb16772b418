// Can a critic see what the panel judges on the generator's own samples (issue 18, item 4)? Fresh
// prompts, each with C candidates of a bootstrap's base generator; rankings of each prompt's
// candidates (the critic pointwise and by its pairwise win rates, the simulated panel's own
// pairwise win rates, a random draw) measured against what the panel judges: the graded evidence
// of the three human dimensions (mean of semantic, motion and faithfulness, before annotator noise).
// Prints per ranking the within-prompt correlation (scores and measure centred per prompt, pooled)
// and the best-of-C gain (the top-ranked candidate's measure over its prompt's mean), ± standard
// errors over prompts. The aims of item 4: r >= 0.3 and a best-of-C gain at least half the panel's.
// --train <vision>: first warm-start a critic with that frozen tower (criticVision: statistics,
// detector, ...) on the bootstrap's own human seed set, as the bootstrap does, and probe it instead.
// Usage:
//   npx tsx bench/critic-probe.ts --store .data/artifacts --bootstrap <cache id> [--prompts 128] [--candidates 8] [--paths 8] [--critic <key> | --train <vision>]
import { parseArgs } from 'node:util';
import { pairwiseWinRates } from '../lib/core';
import { openStore, type ArtifactRef } from '../lib/artifacts';
import { initTf } from '../lib/models/backend';
import { criticAgreement, criticExamples, CriticOnnx, CRITIC_VISIONS, DEFAULT_CRITIC, featureSize, initCritic, judgeCandidatePairs, judgeVideos, loadCritic, videoFeatures, warmStartCritic, type CriticModel, type CriticVision } from '../lib/models/critic';
import { getManifest, getVideos, toPairRecords, type HumanSet } from '../lib/models/datasets';
import { Random } from '../lib/models/nn/random';
import { panelWinRates } from '../lib/stages/builtin/world-readings';
import { HUMAN_DIMENSIONS, perceive, samplePrompts } from '../lib/world';
import { criticView } from '../lib/models/critic/detector';
import { centredMoments, mean, panelEvidence, sampleCandidates, se } from './panel-evidence';

const { values } = parseArgs({
  options: { store: { type: 'string', default: '.data/artifacts' }, bootstrap: { type: 'string' }, critic: { type: 'string' }, train: { type: 'string' }, prompts: { type: 'string', default: '128' }, candidates: { type: 'string', default: '8' }, paths: { type: 'string', default: '8' } },
});
if (!values.bootstrap) throw new Error('--bootstrap <cache id>: a folder under <store>/cache/bootstrap/');
const [P, C, paths] = [Number(values.prompts), Number(values.candidates), Number(values.paths)];
await initTf(() => {});
const store = openStore(values.store!);
const outputsRef = await store.head(`cache/bootstrap/${values.bootstrap}/outputs.json`);
if (!outputsRef) throw new Error(`no finished bootstrap at ${values.store}/cache/bootstrap/${values.bootstrap}/outputs.json`);
const boot = await store.getJson<{ outputs: Record<string, ArtifactRef> }>(outputsRef);
const criticRef = values.critic ? await store.head(values.critic) : boot.outputs['critic'];
if (!criticRef) throw new Error(`no critic at ${values.critic}`);

const started = performance.now();
const prompts = samplePrompts({ count: P, seed: 'critic-probe' });
const videos = await sampleCandidates(store, boot.outputs['generator']!, prompts, C, 'critic-probe');
const sampled = (performance.now() - started) / 1000;
const measure = panelEvidence(prompts, videos);

const critic = values.train ? await trainCritic(values.train as CriticVision) : await loadCritic(store, criticRef);
const exec = await CriticOnnx.create(critic);
const features = videos.map((vs) => vs.map((v) => videoFeatures(v, critic.config.featureVersion)));
const judged = await judgeVideos(exec, prompts.flatMap((p, i) => features[i]!.map((f) => ({ prompt: p.text, features: f }))), { paths, seed: 'critic-probe' });
const pointwise = prompts.map((_, i) => judged.slice(i * C, (i + 1) * C).map((j) => j.score));
const pairwise: number[][] = [];
for (const [i, p] of prompts.entries()) {
  const ids = Array.from({ length: C }, (_, c) => String(c));
  const votes = await judgeCandidatePairs(exec, p.text, features[i]!, { paths, seed: `critic-probe/${i}` });
  pairwise.push(pairwiseWinRates(String(i), ids, votes.map((v) => ({ ...v, a: ids[v.a]!, b: ids[v.b]! }))).map((r) => r.score));
}
await exec.release();
const panel = prompts.map((p, i) => panelWinRates(p.spec, videos[i]!));
const random = prompts.map((_, i) => Array.from({ length: C }, (_, c) => new Random('critic-probe', i, c).next()));

function probe(name: string, score: number[][]) {
  let sxy = 0, sxx = 0, syy = 0;
  const gains: number[] = [];
  const perPrompt: number[] = [];
  score.forEach((s, i) => {
    const m = measure[i]!;
    const mm = mean(m);
    const { xy, xx, yy, r } = centredMoments(s, m);
    [sxy, sxx, syy] = [sxy + xy, sxx + xx, syy + yy];
    if (r !== undefined) perPrompt.push(r);
    // Ties at the top share the pick: the mean measure of the top-scored candidates.
    const top = Math.max(...s);
    gains.push(mean(m.filter((_, c) => s[c] === top)) - mm);
  });
  const r = sxy / Math.sqrt(sxx * syy);
  return { name, r, perPrompt: { mean: mean(perPrompt), se: se(perPrompt) }, best: { mean: mean(gains), se: se(gains) } };
}
const rows = [probe('critic, pointwise', pointwise), probe('critic, pairwise win rates', pairwise), probe('panel, pairwise win rates', panel), probe('random', random)];
const panelBest = rows[2]!.best.mean;
console.log(`${P} prompts x ${C} candidates of ${values.bootstrap}'s base generator (sampled in ${sampled.toFixed(0)} s); critic ${values.train ? `warm-started here, tower ${values.train}` : criticRef.uri.split('/').slice(-3).join('/')} (feature version ${critic.config.featureVersion}), ${paths} paths`);
console.log(`measure: the graded evidence, mean of ${HUMAN_DIMENSIONS.join(', ')}; its within-prompt spread (std) ${mean(measure.map((m) => Math.sqrt(mean(m.map((x) => (x - mean(m)) ** 2))))).toFixed(3)}`);
console.log('| ranking | within-prompt r (pooled) | mean per-prompt r | best of ' + C + ' gain | share of the panel\'s |');
console.log('|---|---|---|---|---|');
for (const x of rows) console.log(`| ${x.name} | ${x.r.toFixed(3)} | ${x.perPrompt.mean.toFixed(3)} ± ${x.perPrompt.se.toFixed(3)} | ${x.best.mean.toFixed(4)} ± ${x.best.se.toFixed(4)} | ${(x.best.mean / panelBest).toFixed(2)} |`);
if (critic.config.featureVersion === CRITIC_VISIONS.semantic) {
  // How differently the semantic tower's eye reads these videos from the panel's (full-resolution) perception.
  const same = { scene: 0, objects: 0, kind: 0, colour: 0, motion: 0, compared: 0 };
  const all = videos.flat();
  for (const video of all) {
    const [full, own] = [perceive(video), perceive(criticView(video))];
    same.scene += Number(full.scene === own.scene);
    same.objects += Number(full.objects.length === own.objects.length);
    const top = (p: typeof full) => [...p.objects].sort((a, b) => b.presence - a.presence)[0];
    const [a, b] = [top(full), top(own)];
    if (a && b) {
      same.compared++;
      same.kind += Number(a.kind === b.kind);
      same.colour += Number(a.colour === b.colour);
      same.motion += Number(a.motion.motion === b.motion.motion);
    }
  }
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(0)}%`;
  console.log(`the semantic tower's eye against the panel's perception, ${all.length} videos: same scene ${pct(same.scene, all.length)}, same object count ${pct(same.objects, all.length)}; most present object (${same.compared} videos): same shape ${pct(same.kind, same.compared)}, colour ${pct(same.colour, same.compared)}, motion ${pct(same.motion, same.compared)}`);
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);

/** A critic with tower `vision`, warm-started on the bootstrap's human seed set (its defaults), with its agreement on the bootstrap's test set. */
async function trainCritic(vision: CriticVision): Promise<CriticModel> {
  const featureVersion = CRITIC_VISIONS[vision];
  if (!featureVersion) throw new Error(`--train: no critic vision "${vision}" (${Object.keys(CRITIC_VISIONS).join(', ')})`);
  const t = performance.now();
  const records = async (name: 'humanSeed' | 'humanTest') => {
    const set = await getManifest<HumanSet>(store, boot.outputs[name]!, 'dual-ipo/human-set@1', name);
    return criticExamples(toPairRecords(set, await getVideos(store, set.videos)), { featureVersion });
  };
  const [seedExamples, testExamples] = [await records('humanSeed'), await records('humanTest')];
  const base = await loadCritic(store, boot.outputs['critic']!);
  const config = { ...DEFAULT_CRITIC, featureVersion, features: featureSize(featureVersion) };
  const { model } = await warmStartCritic(initCritic(config, base.config.text.vocab, 'critic-probe/critic-base'), seedExamples, { seed: 'critic-probe' });
  const exec = await CriticOnnx.create(model);
  const agreement = await criticAgreement(exec, testExamples, { paths, seed: 'critic-probe/validate' });
  await exec.release();
  console.log(`warm start (${vision}): ${seedExamples.length} seed pairs, ${((performance.now() - t) / 1000).toFixed(0)} s; agreement on the bootstrap's test set ${agreement.pairwise.agreement.toFixed(3)} pairwise (${Object.entries(agreement.perDimension).map(([d, a]) => `${d} ${a.pairwise.toFixed(2)}`).join(', ')}), ${agreement.pointwise.agreement.toFixed(3)} pointwise`);
  return model;
}
