// Sharded builtin stages against unsharded ones at toy size: the same samples, labels, preference
// pairs and scores, whatever the shard boundaries (shards of sample and label need not align), and a
// rerun after a lost shard redoes that shard alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ArtifactRef, type ArtifactStore } from '../../../lib/artifacts';
import { outputPrefix } from '../../../lib/artifacts/manifest';
import { builtinStages } from '../../../lib/stages/builtin';
import { loadSamples } from '../../../lib/stages/builtin/samples';
import { loadLabels } from '../../../lib/stages/builtin/shards';
import { runStage } from '../../../lib/stages/runner';
import { mergeShardsImpl, shardSpec } from '../../../lib/stages/shards';
import { runStageLocally } from '../../../lib/stages/local';
import type { StageName, StageRequest, StageResult } from '../../../lib/stages/contract';
import type { PreferenceSet } from '../../../lib/models/datasets';
import { jobDir } from '../../../lib/stages/command/backend';

let dir: string;
let store: ArtifactStore;
let boot: Awaited<ReturnType<typeof runStageLocally>>;
const SEED = 11;
const PROMPTS = 5;
const EVAL_PROMPTS = 5;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dual-ipo-shards-'));
  store = openStore(dir);
  boot = await runStageLocally(store, 'bootstrap', { campaignId: 'boot', round: 0, params: { seed: SEED, size: 'tiny', promptsPerRound: PROMPTS, candidatesPerPrompt: 3, evalPrompts: EVAL_PROMPTS } });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PARAMS: Record<string, Record<string, unknown>> = {
  sample: { seed: SEED, round: 1, promptsPerRound: PROMPTS, candidatesPerPrompt: 3, batch: 4 },
  label: { seed: SEED, round: 1, paths: 3, batch: 8 },
  pceFilter: { seed: SEED, round: 1, paths: 2, usePce: false },
  evaluate: { seed: SEED, round: 1, batch: 4 },
};

function request(campaignId: string, stage: StageName, inputs: Record<string, ArtifactRef>): StageRequest {
  return { campaignId, round: 1, stage, backend: 'builtin', inputs, store: { root: store.root }, params: PARAMS[stage]! };
}

const run = (r: StageRequest) => runStage(r, { resolveImpl: () => builtinStages[r.stage], scratchRoot: join(dir, 'scratch') });

/** The stage in shards of `shardSize` prompts (through the stage runner, as the activities do), then the merge. */
async function sharded(campaignId: string, stage: StageName, inputs: Record<string, ArtifactRef>, prompts: number, shardSize: number): Promise<{ merged: StageResult; shards: StageResult[] }> {
  const plan = { prompts, shardSize, shards: Math.ceil(prompts / shardSize) };
  const base = request(campaignId, stage, inputs);
  const shards = await Promise.all(Array.from({ length: plan.shards }, (_, i) => run({ ...base, shard: shardSpec(plan, i) })));
  const ledger = { attempts: shards.map(() => 1), hostOf: shards.map(() => 0), hosts: ['test'] };
  const merged = await runStage(base, { resolveImpl: () => mergeShardsImpl(plan, ledger), scratchRoot: join(dir, 'scratch') });
  return { merged, shards };
}

const timeless = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !/seconds|PerSecond|^shards$/i.test(k)));
const ctx = () => ({ store }) as any;

describe('sharded builtin stages', () => {
  test('sample, label, pceFilter and evaluate in shards give the unsharded results', async () => {
    const o = boot.outputs;
    // Unsharded.
    const sample = await run(request('whole', 'sample', { generator: o.generator! }));
    const label = await run(request('whole', 'label', { critic: o.critic!, samples: sample.outputs.samples! }));
    const filter = await run(request('whole', 'pceFilter', { labels: label.outputs.labels!, critic: o.critic! }));
    const evaluated = await run(request('whole', 'evaluate', { generator: o.generator!, evalPrompts: o.evalPrompts! }));

    // Sharded: sample by 2 prompts, label by 3 (boundaries that do not align), evaluate by 2.
    const sSample = await sharded('shard', 'sample', { generator: o.generator! }, PROMPTS, 2);
    assert.equal(sSample.shards.length, 3);
    const sLabel = await sharded('shard', 'label', { critic: o.critic!, samples: sSample.merged.outputs.samples! }, PROMPTS, 3);
    const sFilter = await run(request('shard', 'pceFilter', { labels: sLabel.merged.outputs.labels!, critic: o.critic! }));
    const sEvaluated = await sharded('shard', 'evaluate', { generator: o.generator!, evalPrompts: o.evalPrompts! }, EVAL_PROMPTS, 2);

    const [a, b] = [await loadSamples(ctx(), sample.outputs.samples!), await loadSamples(ctx(), sSample.merged.outputs.samples!)];
    assert.deepEqual(b.set.prompts, a.set.prompts);
    assert.deepEqual(b.set.candidates, a.set.candidates);
    assert.deepEqual(b.latents, a.latents, 'the same noise per candidate gives the same latents');
    assert.deepEqual(b.videos.map((v) => v.data), a.videos.map((v) => v.data));
    assert.deepEqual(timeless(sSample.merged.metrics), timeless(sample.metrics));

    const [la, lb] = [await loadLabels(store, label.outputs.labels!), await loadLabels(store, sLabel.merged.outputs.labels!)];
    assert.deepEqual(lb.items, la.items, 'each video keeps its voting noise (it depends on its index in the round)');
    assert.deepEqual(timeless(sLabel.merged.metrics), timeless(label.metrics));

    const [pa, pb] = [await store.getJson<PreferenceSet>(filter.outputs.preferences!), await store.getJson<PreferenceSet>(sFilter.outputs.preferences!)];
    assert.deepEqual(pb.pairs, pa.pairs);
    assert.deepEqual(pb.points, pa.points);
    assert.deepEqual(timeless(sFilter.metrics), timeless(filter.metrics));

    assert.deepEqual(timeless(sEvaluated.merged.metrics), timeless(evaluated.metrics));
    const [ea, eb] = [await store.getJson<Record<string, unknown>>(evaluated.outputs.scores!), await store.getJson<Record<string, unknown>>(sEvaluated.merged.outputs.scores!)];
    for (const key of ['total', 'quality', 'semantic', 'dimensions', 'coverage', 'missing', 'videos', 'videoTotals', 'videoParts', 'prompts']) assert.deepEqual(eb[key], ea[key], key);
    assert.deepEqual(Object.keys(sEvaluated.merged.outputs).filter((k) => k.startsWith('gif')).sort(), Object.keys(evaluated.outputs).filter((k) => k.startsWith('gif')).sort());

    // Paired with a baseline, the merge gives the unsharded gain and standard error.
    const withBase = await run({ ...request('whole-b', 'evaluate', { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: evaluated.outputs.scores! }) });
    const sWithBase = await sharded('shard-b', 'evaluate', { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: evaluated.outputs.scores! }, EVAL_PROMPTS, 2);
    assert.ok(Number.isFinite(withBase.metrics.gainStandardError));
    assert.equal(sWithBase.merged.metrics.gainStandardError, withBase.metrics.gainStandardError);
    assert.equal(sWithBase.merged.metrics.pairedGain, withBase.metrics.pairedGain);

    // The ledger lists every shard with its range, attempt and worker.
    const ledger = await store.getJson<{ shards: { from: number; to: number; attempt: number; worker: string }[] }>(sSample.merged.outputs.shardLedger!);
    assert.deepEqual(ledger.shards.map((s) => [s.from, s.to, s.attempt, s.worker]), [[0, 2, 1, 'test'], [2, 4, 1, 'test'], [4, 5, 1, 'test']]);
  });

  test('a rerun after a lost shard redoes that shard alone and reuses the rest', async () => {
    const o = boot.outputs;
    const first = await sharded('rerun', 'sample', { generator: o.generator! }, PROMPTS, 2);
    assert.ok(first.shards.every((s) => !s.reused));
    await store.delete(`${outputPrefix('rerun', 1, 'sample', undefined, 1)}result.json`);
    await store.delete(`${outputPrefix('rerun', 1, 'sample')}result.json`);
    const again = await sharded('rerun', 'sample', { generator: o.generator! }, PROMPTS, 2);
    assert.deepEqual(again.shards.map((s) => s.reused), [true, false, true]);
    assert.deepEqual(again.merged.outputs.samples, first.merged.outputs.samples, 'the redone shard wrote the same bytes');
  });

  test('command jobs of two shards of one stage get folders of their own', () => {
    const base = request('cmd', 'sample', {});
    const dirs = [undefined, 0, 1].map((i) => jobDir('/jobs', { request: i === undefined ? base : { ...base, shard: shardSpec({ prompts: 4, shardSize: 2, shards: 2 }, i) } }));
    assert.deepEqual(dirs, ['/jobs/cmd/round-0001/sample', '/jobs/cmd/round-0001/sample/shards/00000', '/jobs/cmd/round-0001/sample/shards/00001']);
  });
});
