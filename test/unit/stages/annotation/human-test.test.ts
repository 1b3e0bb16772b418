// Export -> simulated panel -> ingest on a local store, with a small round of rendered "candidates":
// the export's files, the pairs it leaves out, the refreshed set's fixed and new parts, idempotence,
// and a refused labels file that writes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ArtifactRef, type ArtifactStore } from '../../../../lib/artifacts';
import { renderVideo, samplePrompts } from '../../../../lib/world';
import { fromPairRecord, getManifest, getVideos, promptRecord, putMatrix, putVideos, toPairRecords, type HumanSet, type SampleSet } from '../../../../lib/models/datasets';
import { buildHumanSet } from '../../../../lib/models/human-sets';
import { choosePairs, exportHumanTest, humanTestFolder, ingestHumanLabels, simulateHumanLabels, type HumanTestExport } from '../../../../lib/stages/annotation/human-test';
import { LabelsError } from '../../../../lib/stages/annotation/labels';

let dir: string;
let store: ArtifactStore;
let samples: ArtifactRef;
let preferences: ArtifactRef;
let base: ArtifactRef;
const generator = { version: 'g1', ref: { uri: 'file:///g1.ckpt', sha256: 'c'.repeat(64), size: 1 } };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dual-ipo-annotation-'));
  store = openStore(dir);
  // A round of 4 prompts x 4 candidates (renders standing in for the generator's samples).
  const prompts = samplePrompts({ count: 4, seed: 'ann/prompts' });
  const candidates = prompts.flatMap((_, p) => [0, 1, 2, 3].map((c) => ({ id: `p${p}-c${c}`, prompt: p, candidate: c, seed: `s/${p}/${c}` })));
  const videos = candidates.map((c) => renderVideo(prompts[c.prompt]!.spec, { seed: c.seed }));
  const set: SampleSet = {
    format: 'dual-ipo/samples@1',
    round: 2,
    generator: generator.ref.sha256,
    prompts: prompts.map(promptRecord),
    candidates,
    videos: await putVideos(store, 'r/videos.dipv', videos, candidates.map((c) => c.id)),
    latents: await putMatrix(store, 'r/latents.bin', new Float32Array(candidates.length * 2), candidates.length, 2),
  };
  samples = await store.putJson('r/samples.json', set);
  preferences = await store.putJson('r/preferences.json', { format: 'dual-ipo/preferences@1', pairs: prompts.map((_, p) => ({ chosen: `p${p}-c0`, rejected: `p${p}-c3` })) });
  const built = await buildHumanSet({ split: 'heldout-test', pairs: 4, seed: 'ann', generatorShare: 0 });
  const human: HumanSet = {
    format: 'dual-ipo/human-set@1',
    split: 'heldout-test',
    records: built.records.map(fromPairRecord),
    videos: await putVideos(store, 'boot/human-test/videos.dipv', built.records.flatMap((r) => [r.a.video!, r.b.video!]), built.records.flatMap((r) => [`${r.id}/a`, `${r.id}/b`])),
    stats: built.stats,
  };
  base = await store.putJson('boot/human-test.json', human);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('human test set from the champion', () => {
  test('choosePairs: one pair per prompt first, disjoint, deterministic, never an excluded candidate', () => {
    const cands = [0, 1, 2].flatMap((p) => [0, 1, 2, 3, 4].map((c) => ({ id: `${p}-${c}`, prompt: p })));
    const pairs = choosePairs(cands, 5, 'seed', new Set(['0-0', '1-0']));
    assert.deepEqual(pairs, choosePairs(cands, 5, 'seed', new Set(['0-0', '1-0'])));
    assert.equal(pairs.length, 5);
    assert.deepEqual(new Set(pairs.slice(0, 3).map(([a]) => cands[a]!.prompt)), new Set([0, 1, 2]));
    const used = pairs.flat();
    assert.equal(new Set(used).size, used.length, 'no candidate in two pairs');
    assert.ok(!used.some((i) => ['0-0', '1-0'].includes(cands[i]!.id)));
    assert.equal(choosePairs(cands, 100, 'seed').length, 6, 'at most two disjoint pairs of five candidates per prompt');
  });

  test('export -> simulated panel -> ingest: files for annotators, the fixed part plus the labelled pairs', async () => {
    const out = await exportHumanTest(store, { campaignId: 'c1', round: 2, samples, preferences, generator, pairs: 6, seed: '1' });
    assert.equal(out.pairs, 4, 'asked for 6: each prompt has only c1 and c2 outside its preference pair');
    const exp = await getManifest<HumanTestExport>(store, out.export, 'dual-ipo/human-test-export@1', 'export');
    assert.equal(exp.generator.version, 'g1');
    assert.ok(exp.pairs.every((p) => !/-c[03]$/.test(p.candidateA) && !/-c[03]$/.test(p.candidateB)), 'the preference pairs\' candidates are left out');
    const folder = `${humanTestFolder('c1', 2)}export/`;
    for (const name of ['label-studio-tasks.json', 'label-studio-config.xml', 'pairs.jsonl', 'pairs.csv', 'videos.dipv', `${exp.pairs[0]!.videoA}`]) assert.ok(await store.exists(`${folder}${name}`), name);
    const tasks = await store.getJson<any[]>(exp.files.labelStudio);
    assert.equal(tasks.length, 4);
    assert.equal(tasks[0].data.videoA, `${store.uriFor(`${folder}export.json`).replace(/\/export\.json$/, '')}/${exp.pairs[0]!.videoA}`);
    // Idempotent: a retry returns the committed export.
    assert.deepEqual((await exportHumanTest(store, { campaignId: 'c1', round: 2, samples, preferences, generator, pairs: 6, seed: '1' })).export, out.export);

    const { labels } = await simulateHumanLabels(store, { export: out.export, seed: 'ann' });
    const ingested = await ingestHumanLabels(store, { export: out.export, labels, base, fixedShare: 0.5 });
    assert.deepEqual([ingested.fixedPairs, ingested.refreshedPairs], [2, 4]);
    const set = await getManifest<HumanSet>(store, ingested.humanTest, 'dual-ipo/human-set@1', 'humanTest');
    const baseSet = await getManifest<HumanSet>(store, base, 'dual-ipo/human-set@1', 'humanTest');
    assert.deepEqual(set.records.slice(0, 2), baseSet.records.slice(0, 2), 'the fixed part is the bootstrap set\'s first pairs, unchanged');
    assert.deepEqual(set.records.slice(2).map((r) => r.id), exp.pairs.map((p) => p.id));
    assert.ok(set.records.slice(2).every((r) => r.a.origin === 'generator:g1' && r.split === 'heldout-test'));
    // The critic reads it like any human set: pixels for every record, matching the export's.
    const records = toPairRecords(set, await getVideos(store, set.videos));
    const exported = await getVideos(store, exp.videos);
    assert.deepEqual(records[2]!.a.video!.data, exported.videos[0]!.data);
    assert.equal((await ingestHumanLabels(store, { export: out.export, labels, base, fixedShare: 0.5 })).humanTest.sha256, ingested.humanTest.sha256);
  });

  test('a labels file with a bad row is refused naming it, and nothing is written', async () => {
    const out = await exportHumanTest(store, { campaignId: 'c2', round: 1, samples, generator, pairs: 3, seed: '1' });
    const exp = await store.getJson<HumanTestExport>(out.export);
    const lines = exp.pairs.map((p, i) => JSON.stringify({ pair: p.id, semantic: i === 1 ? 'maybe' : 'A', motion: 'B', faithfulness: 'tie' }));
    const labels = await store.put('uploads/labels.jsonl', lines.join('\n'));
    const before = await store.list(humanTestFolder('c2', 1));
    await assert.rejects(ingestHumanLabels(store, { export: out.export, labels, base, fixedShare: 0.5 }), (err: Error) => {
      assert.ok(err instanceof LabelsError);
      assert.match(err.message, new RegExp(`line 2: pair "${exp.pairs[1]!.id}", "semantic" is "maybe"`));
      return true;
    });
    assert.deepEqual(await store.list(humanTestFolder('c2', 1)), before);
  });
});
