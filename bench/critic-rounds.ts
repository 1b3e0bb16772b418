// After a campaign's rounds, does its critic agree with the panel on the current generator's
// candidates more than the critic it started from (issue 18, item 5: the SRPO-refined critic against
// the fixed one)? Reads the campaign's round manifests for its champion generator and champion
// critic, samples fresh prompts x C candidates of that generator, and asks each critic (the champion,
// the bootstrap's, and any --critic keys) for its pairwise judgements of every candidate pair. A
// critic agrees on a pair when its majority vote prefers the candidate the panel judges better (the
// graded evidence, mean of the three human dimensions, bench/panel-evidence.ts; pairs the panel
// sees as equal are left out; a tied vote counts half). Prints each critic's agreement and within-prompt
// correlation of its win rates, and the champion minus the starting critic, paired over prompts;
// every round's SRPO candidate is probed too, kept by its gate or not. Agreement is also given on the
// pairs a refreshed human test set could draw: without the labelling critic's top and bottom candidates.
// Usage:
//   npx tsx bench/critic-rounds.ts --store .data/artifacts --campaign <id> [--prompts 96] [--candidates 8] [--paths 8] [--critic <key> ...]
import { parseArgs } from 'node:util';
import { pairwiseWinRates } from '../lib/core';
import { openStore, type ArtifactRef } from '../lib/artifacts';
import { manifestKey, readManifest, type RoundManifest } from '../lib/artifacts/manifest';
import { initTf } from '../lib/models/backend';
import { CriticOnnx, judgeCandidatePairs, loadCritic, videoFeatures } from '../lib/models/critic';
import { samplePrompts } from '../lib/world';
import { centredMoments, mean, panelEvidence, sampleCandidates, se } from './panel-evidence';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: '.data/artifacts' },
    campaign: { type: 'string' },
    critic: { type: 'string', multiple: true, default: [] },
    prompts: { type: 'string', default: '96' },
    candidates: { type: 'string', default: '8' },
    paths: { type: 'string', default: '8' },
  },
});
if (!values.campaign) throw new Error('--campaign <id>: a campaign with round manifests in the store');
const [P, C, paths] = [Number(values.prompts), Number(values.candidates), Number(values.paths)];
await initTf(() => {});
const store = openStore(values.store!);

// The champions after the last round: a round's critic update counts when accepted and not rolled back.
const manifests: RoundManifest[] = [];
for (let round = 1; ; round++) {
  const key = await store.head(manifestKey(values.campaign, round));
  if (!key) break;
  manifests.push(await readManifest(store, key));
}
if (!manifests.length) throw new Error(`--campaign ${values.campaign}: no round manifest in ${values.store}`);
const first = manifests[0]!;
const [startCritic, baseGenerator] = [first.inputs['critic'], first.inputs['generator']];
if (!startCritic || !baseGenerator) throw new Error(`round 1 manifest of ${values.campaign} names no critic or generator input`);
let critic: { ref: ArtifactRef; version: string } = { ref: startCritic, version: first.critic.before };
let generator: { ref: ArtifactRef; version: string } = { ref: baseGenerator, version: first.generator.before };
for (const m of manifests) {
  const candidate = m.outputs['criticCandidate'];
  if (m.critic.accepted && candidate && !m.rollbacks.some((r) => r.what === 'critic')) critic = { ref: candidate, version: m.critic.after };
  const g = m.outputs['generatorCandidate'];
  if (m.generator.accepted && g) generator = { ref: g, version: m.generator.after };
}

const started = performance.now();
const prompts = samplePrompts({ count: P, seed: 'critic-rounds' });
const videos = await sampleCandidates(store, generator.ref, prompts, C, 'critic-rounds');
const measure = panelEvidence(prompts, videos);

// The candidates' features per tower: every critic of one tower reads the same ones.
const featuresByVersion = new Map<number, Float32Array[][]>();
const featuresFor = (version: number) => {
  if (!featuresByVersion.has(version)) featuresByVersion.set(version, videos.map((vs) => vs.map((v) => videoFeatures(v, version))));
  return featuresByVersion.get(version)!;
};

/** Per prompt: the share of the panel's unequal pairs the critic's majority agrees with, and the r of its win rates. */
async function judge(ref: ArtifactRef) {
  const loaded = await loadCritic(store, ref);
  const exec = await CriticOnnx.create(loaded);
  const agreement: number[] = [];
  const r: number[] = [];
  const decided: Array<Array<{ a: number; b: number; agreed: number }>> = [];
  const winRates: number[][] = [];
  for (const [i, p] of prompts.entries()) {
    const features = featuresFor(loaded.config.featureVersion)[i]!;
    const votes = await judgeCandidatePairs(exec, p.text, features, { paths, seed: `critic-rounds/${i}` });
    const m = measure[i]!;
    const pairs: Array<{ a: number; b: number; agreed: number }> = [];
    for (const v of votes) {
      const panel = Math.sign(m[v.a]! - m[v.b]!);
      if (panel === 0) continue;
      const own = Math.sign(v.aWins - v.bWins);
      pairs.push({ a: v.a, b: v.b, agreed: own === 0 ? 0.5 : Number(own === panel) });
    }
    decided.push(pairs);
    if (pairs.length) agreement.push(mean(pairs.map((x) => x.agreed)));
    const ids = features.map((_, c) => String(c));
    const rates = pairwiseWinRates(String(i), ids, votes.map((v) => ({ ...v, a: ids[v.a]!, b: ids[v.b]! }))).map((x) => x.score);
    winRates.push(rates);
    r.push(centredMoments(rates, m).r ?? 0);
  }
  await exec.release();
  return { agreement, r, decided, winRates };
}

const critics: Array<{ name: string; ref: ArtifactRef }> = [
  { name: `champion critic (${critic.version})`, ref: critic.ref },
  { name: `starting critic (${first.critic.before})`, ref: startCritic },
];
// Every SRPO update, kept or not: what refinement did to the critic, whatever its gate said.
for (const m of manifests) {
  const candidate = m.outputs['criticCandidate'];
  if (candidate && candidate.sha256 !== critic.ref.sha256) critics.push({ name: `round ${m.round} SRPO candidate (${m.critic.accepted ? `accepted as ${m.critic.after}` : 'rejected by its gate'})`, ref: candidate });
}
for (const key of values.critic!) {
  const head = await store.head(key);
  if (!head) throw new Error(`--critic ${key}: not in ${values.store}`);
  critics.push({ name: key, ref: head });
}
const judged = [];
for (const c of critics) judged.push({ ...c, ...(await judge(c.ref)) });
// The champion human test set's refreshed pairs leave out the candidates of the round's preference
// pairs (lib/stages/annotation/human-test.ts): the labelling critic's top-1 and bottom-1 of a prompt.
// The same agreement without them tells how much harder the pairs left over are.
const champion = judged[0]!;
const extremes = champion.winRates.map((rates) => new Set([rates.indexOf(Math.max(...rates)), rates.indexOf(Math.min(...rates))]));
const results = judged.map((x) => ({
  ...x,
  middle: x.decided.flatMap((pairs, i) => {
    const kept = pairs.filter((p) => !extremes[i]!.has(p.a) && !extremes[i]!.has(p.b));
    return kept.length ? [mean(kept.map((p) => p.agreed))] : [];
  }),
}));

console.log(`${values.campaign}: ${manifests.length} rounds; champion generator ${generator.version}, ${P} fresh prompts x ${C} candidates, ${paths} paths; critic refined and kept: ${critic.ref.sha256 !== startCritic.sha256 ? 'yes' : 'no'}`);
console.log('| critic | agreement with the panel (pairs) | the same without the champion critic\'s top and bottom candidates | within-prompt r of win rates |');
console.log('|---|---|---|---|');
for (const x of results) console.log(`| ${x.name} | ${mean(x.agreement).toFixed(3)} ± ${se(x.agreement).toFixed(3)} | ${mean(x.middle).toFixed(3)} ± ${se(x.middle).toFixed(3)} | ${mean(x.r).toFixed(3)} ± ${se(x.r).toFixed(3)} |`);
const start = results[1]!;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
const differences = results.filter((x) => x !== start).map((x) => {
  // Same prompts, same candidates, same pairs the panel decides: paired over prompts.
  const d = x.agreement.map((v, i) => v - start.agreement[i]!);
  const dr = x.r.map((v, i) => v - start.r[i]!);
  console.log(`${x.name} - starting critic, paired over prompts: agreement ${signed(mean(d))} ± ${se(d).toFixed(3)}, r ${signed(mean(dr))} ± ${se(dr).toFixed(3)}`);
  return { name: x.name, agreement: mean(d), agreementSe: se(d), r: mean(dr), rSe: se(dr) };
});
console.log(`JSON ${JSON.stringify({ campaign: values.campaign, generator: generator.version, critic: critic.version, refined: critic.ref.sha256 !== startCritic.sha256, rows: results.map((x) => ({ name: x.name, agreement: mean(x.agreement), agreementSe: se(x.agreement), middle: mean(x.middle), middleSe: se(x.middle), r: mean(x.r), rSe: se(x.r) })), differences })}`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
