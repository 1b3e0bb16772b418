import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { assertTrainable, buildHumanSeedSet, buildHumanTestSet, DEFAULT_SEED_PAIRS, DEFAULT_TEST_VIDEOS, defaultVideoSource, humanSeedPairs, type VideoSource } from '../../../lib/world/datasets';
import { renderVideo } from '../../../lib/world/render';

test('the defaults are the paper sizes: 6,000 seed pairs and 1,000 held-out videos', () => {
  assert.equal(DEFAULT_SEED_PAIRS, 6000);
  assert.equal(DEFAULT_TEST_VIDEOS, 1000);
});

test('builds a small human seed set with pairwise and pointwise labels and rationales', async () => {
  const set = await buildHumanSeedSet({ pairs: 24, seed: 'seed-set' });
  assert.equal(set.records.length, 24);
  assert.equal(set.panel.length, 10);
  for (const r of set.records) {
    assert.equal(r.split, 'seed');
    assert.ok(r.a.video && r.b.video);
    for (const v of [r.a, r.b]) assert.ok(['Good', 'Normal', 'Bad'].includes(v.pointwise.labels.semantic) && v.pointwise.rationale.text.length > 0);
    assert.ok(['A', 'B', 'tie'].includes(r.pairwise.labels.motion));
    assert.equal(r.pairwise.judgments.length, 10);
  }
  // The default source mixes clean renders with defects, so most pairs have a preference.
  assert.ok(Object.keys(set.stats.origins).length >= 4, JSON.stringify(set.stats.origins));
  // About half of all pair-dimensions of renders are ties (0.53 over 600 pairs, 0.61 on these 24): a defect shows on one or two dimensions.
  assert.ok(set.stats.tieRate < 2 / 3, `tie rate ${set.stats.tieRate}`);
  assert.ok(set.stats.grades.Good! > 0 && set.stats.grades.Bad! + set.stats.grades.Normal! > 0);
  const again = await buildHumanSeedSet({ pairs: 24, seed: 'seed-set', keepVideos: false });
  assert.deepEqual(
    again.records.map((r) => r.pairwise.labels),
    set.records.map((r) => r.pairwise.labels),
    'deterministic under a seed',
  );
  assert.equal(again.records[0]!.a.video, undefined);
});

test('annotates videos from any source, streaming', async () => {
  const seen: string[] = [];
  const source: VideoSource = (prompt, variant) => {
    seen.push(`${prompt.id}/${variant}`);
    return { video: renderVideo(prompt.spec, { seed: variant, frames: 8 }), origin: `generator sample ${variant}` };
  };
  let count = 0;
  for await (const r of humanSeedPairs({ pairs: 5, seed: 'custom', videoSource: source, panel: { size: 3 } })) {
    count++;
    assert.equal(r.a.origin, 'generator sample 0');
    assert.equal(r.pairwise.judgments.length, 3);
  }
  assert.equal(count, 5);
  assert.equal(seen.length, 10);
});

test('the held-out test set is separate and refuses to be trained on', async () => {
  const test = await buildHumanTestSet({ videos: 12, seed: 'shared-seed' });
  const seed = await buildHumanSeedSet({ pairs: 6, seed: 'shared-seed' });
  assert.equal(test.records.length, 6);
  assert.equal(test.stats.videos, 12);
  assert.ok(test.records.every((r) => r.split === 'heldout-test'));
  const testIds = new Set(test.records.map((r) => r.prompt.id));
  assert.ok(seed.records.every((r) => !testIds.has(r.prompt.id)), 'no prompt is shared');
  assert.doesNotThrow(() => assertTrainable(seed.records));
  assert.throws(() => assertTrainable([...seed.records, test.records[0]!]), /held-out human test set: it is for validation only, never for training/);
  await assert.rejects(buildHumanTestSet({ videos: 5 }), /even integer/);
});

test('the default source is deterministic and rejects unknown defects', () => {
  const source = defaultVideoSource({ seed: 1 });
  const [prompt] = [{ id: 'p', text: '', difficulty: 'simple' as const, category: 'animal' as const, spec: { subjects: [{ kind: 'cat' as const, color: 'red' as const, size: 'small' as const, action: 'stay' as const }], scene: 'forest' as const, style: 'plain' as const, speed: 'normal' as const } }];
  const a = source(prompt!, 3) as { video: { data: Float32Array }; origin: string };
  const b = source(prompt!, 3) as { video: { data: Float32Array }; origin: string };
  assert.deepEqual(a.video.data, b.video.data);
  assert.equal(a.origin, b.origin);
  assert.throws(() => defaultVideoSource({ mix: { melt: 1 } as never }), /mix\.melt: unknown/);
});
