// Why does the critic gate reject the critic's updates? The gate's figure (appendix C's pairwise
// agreement, lib/core/agreement.ts) leaves out the pairs the annotators tie on a dimension and counts
// the critic's own tie on a pair the annotators decided as a miss. For each round of a campaign,
// this reads the round's human test set (its fixed and refreshed parts apart) and judges it with the
// critic the round started from and the round's SRPO candidate, as validate does, and prints per
// dimension how often each side ties and the agreement three ways: the gate's (critic tie = miss),
// a critic tie as half a point, and on the pairs both sides decided (with that share of pairs).
// Two references judge the same pairs under the same rule: another panel of ten annotators (its own
// noise) and the graded evidence itself read per dimension (the noise-free answer, ties only when
// equal): what a critic could reach at best on these labels.
// Usage:
//   npx tsx bench/critic-gate-ties.ts --store .data/artifacts --campaign <id> [--paths 8]
import { parseArgs } from 'node:util';
import { openStore, type ArtifactRef } from '../lib/artifacts';
import { manifestKey, readManifest } from '../lib/artifacts/manifest';
import { initTf } from '../lib/models/backend';
import { pairwiseAgreement, type PairwiseLabel } from '../lib/core';
import { comparePairs, CriticOnnx, DIMENSIONS, loadCritic, type CriticExample } from '../lib/models/critic';
import { PAIR_CLASSES } from '../lib/models/critic/model';
import { getManifest, getVideos, toPairRecords, type HumanSet } from '../lib/models/datasets';
import { cachedCriticExamples } from '../lib/stages/builtin/critic-features';
import { makePanel, panelPairwise, panelView, type PairRecord } from '../lib/world';

const { values } = parseArgs({ options: { store: { type: 'string', default: '.data/artifacts' }, campaign: { type: 'string' }, paths: { type: 'string', default: '8' } } });
if (!values.campaign) throw new Error('--campaign <id>: a campaign with round manifests in the store');
await initTf(() => {});
const store = openStore(values.store!);

type Tally = { decided: number; agreed: number; criticTies: number; humanTies: number; pairs: number };
const empty = (): Tally => ({ decided: 0, agreed: 0, criticTies: 0, humanTies: 0, pairs: 0 });

/** One judge's labels: per pair, per dimension (DIMENSIONS order). */
type Labels = PairwiseLabel[][];

// Rounds share the starting critic, and a round whose champion did not change shares the test set too.
const judgedSets = new Map<string, Labels>();
async function criticLabels(criticRef: ArtifactRef, testRef: ArtifactRef, test: CriticExample[]): Promise<Labels> {
  const key = `${criticRef.sha256}/${testRef.sha256}`;
  if (!judgedSets.has(key)) judgedSets.set(key, await judgeSet(criticRef, test));
  return judgedSets.get(key)!;
}

async function judgeSet(criticRef: ArtifactRef, test: CriticExample[]): Promise<Labels> {
  const critic = await loadCritic(store, criticRef);
  const exec = await CriticOnnx.create(critic);
  // validate's seed and paths are the campaign's; the votes here are their own draw of the same judge.
  const judged = await comparePairs(exec, test.map((e) => ({ prompt: e.prompt, a: e.a.features, b: e.b.features })), { paths: Number(values.paths), seed: 'critic-gate-ties' });
  await exec.release();
  return judged.map((j) => DIMENSIONS.map((dim) => j.labels[dim]));
}

function referenceLabels(records: PairRecord[]): { panel: Labels; evidence: Labels } {
  const another = makePanel({ seed: 'critic-gate-ties/another-panel', evidence: 'graded' });
  const panel: Labels = [];
  const evidence: Labels = [];
  for (const r of records) {
    const [a, b] = [r.a.video!, r.b.video!];
    const labels = panelPairwise(another, r.prompt.spec, { video: a, key: `${r.id}/a` }, { video: b, key: `${r.id}/b` }).labels;
    panel.push(DIMENSIONS.map((d) => labels[d]));
    const [ea, eb] = [a, b].map((video) => panelView(another, r.prompt.spec, { video }).assessment.scores);
    evidence.push(DIMENSIONS.map((d) => (ea![d] > eb![d] ? 'A' : ea![d] < eb![d] ? 'B' : 'tie')));
  }
  return { panel, evidence };
}

function tally(judged: Labels, test: CriticExample[], parts: Array<[string, number, number]>) {
  return parts.map(([part, lo, hi]) => {
    const byDimension = DIMENSIONS.map((dim, d) => {
      const human = test.slice(lo, hi).map((e) => (e.pair[d]! >= 0 ? PAIR_CLASSES[e.pair[d]!]! : 'tie'));
      const own = judged.slice(lo, hi).map((labels) => labels[d]!);
      // The gate's own count (human ties left out, a critic tie a miss), and the critic's ties it hides.
      const gate = pairwiseAgreement(own, human);
      const criticTies = own.filter((x, i) => x === 'tie' && human[i] !== 'tie').length;
      return { dim, decided: gate.counted, agreed: gate.agreed, criticTies, humanTies: gate.excluded, pairs: human.length };
    });
    const all = byDimension.reduce((s, t) => ({ decided: s.decided + t.decided, agreed: s.agreed + t.agreed, criticTies: s.criticTies + t.criticTies, humanTies: s.humanTies + t.humanTies, pairs: s.pairs + t.pairs }), empty());
    return { part, byDimension, all };
  });
}

const f = (x: number) => x.toFixed(3);
const line = (name: string, t: Tally) =>
  `| ${name} | ${t.humanTies}/${t.pairs} | ${t.criticTies}/${t.decided} | ${f(t.agreed / t.decided)} | ${f((t.agreed + t.criticTies / 2) / t.decided)} | ${f(t.agreed / (t.decided - t.criticTies))} (${f((t.decided - t.criticTies) / t.decided)}) |`;

// A round whose champion did not change keeps the set the last refresh drew (the manifest names
// only sets a round drew itself; before any refresh, the bootstrap's).
let refreshed: ArtifactRef | undefined;
for (let round = 1; ; round++) {
  const key = await store.head(manifestKey(values.campaign, round));
  if (!key) break;
  const m = await readManifest(store, key);
  refreshed = m.outputs['humanTest'] ?? refreshed;
  const testRef = refreshed ?? m.inputs['humanTest'];
  const [start, candidate] = [m.inputs['critic'], m.outputs['criticCandidate']];
  if (!testRef || !start) continue;
  const set = await getManifest<HumanSet & { stats?: { fixedPairs?: number } }>(store, testRef, 'dual-ipo/human-set@1', 'humanTest');
  const featureVersion = (await loadCritic(store, start)).config.featureVersion;
  const records = toPairRecords(set, await getVideos(store, set.videos));
  const test = await cachedCriticExamples(store, testRef, records, featureVersion);
  const reference = referenceLabels(records);
  const fixed = set.stats?.fixedPairs ?? 0;
  const parts: Array<[string, number, number]> = fixed > 0 && fixed < test.length ? [['fixed', 0, fixed], ['refreshed', fixed, test.length]] : [['all', 0, test.length]];
  console.log(`\n${values.campaign} round ${round}: human test set ${testRef.uri.split('/').slice(-3).join('/')} (${test.length} pairs, ${fixed} fixed)`);
  console.log('| critic, part, dimension | annotators tie | critic ties where they decided | agreement (gate: critic tie = miss) | critic tie = 1/2 | where both decided (share) |');
  console.log('|---|---|---|---|---|---|');
  const judges: Array<[string, Labels]> = [[`critic ${m.critic.before} (round's start)`, await criticLabels(start, testRef, test)]];
  if (candidate) judges.push([`SRPO candidate (${m.critic.accepted ? 'accepted' : 'rejected'})`, await criticLabels(candidate, testRef, test)]);
  judges.push(['another panel', reference.panel], ['the graded evidence', reference.evidence]);
  for (const [name, labels] of judges) {
    for (const { part, byDimension, all } of tally(labels, test, parts)) {
      console.log(line(`${name}, ${part}, all`, all));
      for (const t of byDimension) console.log(line(`${name}, ${part}, ${t.dim}`, t));
    }
  }
}
