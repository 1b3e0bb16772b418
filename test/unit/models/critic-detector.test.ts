// The critic's detector tower (feature version 2): its readings, critics built on it, their
// checkpoints, and the human sets' feature cache.
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../lib/artifacts';
import { initTf } from '../../../lib/models/backend';
import { fitVocabulary } from '../../../lib/models/text';
import { buildHumanSeedSet, perceive, renderCorrupted, renderVideo, samplePrompts, SCENES, SUBJECT_KINDS, COLOURS, type Video } from '../../../lib/world';
import {
  CRITIC_VISIONS,
  CriticOnnx,
  criticExamples,
  criticView,
  semanticReadings,
  FEATURE_SIZE,
  READINGS_SIZE,
  TINY_CRITIC,
  decodeCritic,
  detectorReadings,
  encodeCritic,
  featureSize,
  initCritic,
  judgeVideos,
  pixelStatistics,
  videoFeatures,
} from '../../../lib/models/critic';
import { cachedCriticExamples, cachedVideoFeatures, criticFeaturesCacheKey } from '../../../lib/stages/builtin/critic-features';
import { putVideos, type HumanSet } from '../../../lib/models/datasets';

const prompts = samplePrompts({ count: 200, seed: 'detector-test' });
const vocab = fitVocabulary(prompts.map((p) => p.text));
const DETECTOR = { ...TINY_CRITIC, featureVersion: CRITIC_VISIONS.detector, features: featureSize(CRITIC_VISIONS.detector) };

before(async () => {
  await initTf(() => {});
});

describe('critic detector tower', () => {
  test('version 2 is the pixel statistics followed by the readings of the world-trained detector', () => {
    const prompt = prompts.find((p) => p.spec.subjects.length === 1)!;
    const video = renderVideo(prompt.spec, { seed: 'detector-test' });
    const features = videoFeatures(video, 2);
    assert.equal(features.length, FEATURE_SIZE + READINGS_SIZE);
    assert.equal(featureSize(1), FEATURE_SIZE);
    assert.deepEqual(features.subarray(0, FEATURE_SIZE), pixelStatistics(video));
    assert.deepEqual(videoFeatures(video, 1), pixelStatistics(video));
    const readings = features.subarray(FEATURE_SIZE);
    assert.deepEqual(readings, detectorReadings(perceive(video)));
    // A clean render: the scene one-hot and the first object's kind and colour name the prompt's.
    const argmax = (from: number, n: number) => [...readings.subarray(from, from + n)].reduce((best, v, i, all) => (v > all[best]! ? i : best), 0);
    assert.equal(SCENES[argmax(0, SCENES.length)], prompt.spec.scene);
    const slot = SCENES.length + 1 + 3 + 4;
    assert.equal(readings[slot], 1, 'the first object slot is filled');
    assert.equal(SUBJECT_KINDS[argmax(slot + 1, SUBJECT_KINDS.length)], prompt.spec.subjects[0]!.kind);
    assert.equal(COLOURS[argmax(slot + 1 + SUBJECT_KINDS.length + 2, COLOURS.length)], prompt.spec.subjects[0]!.color);
    for (const v of readings) assert.ok(Number.isFinite(v) && Math.abs(v) <= 2, `reading ${v} is O(1)`);
  });

  test("version 3 (the 'semantic' tower) reads the detector's readings through the critic's own eye: half its 2 x 2 block's mean, 32 levels, its own errors", () => {
    const prompt = prompts.find((p) => p.spec.subjects.length === 1)!;
    const video = renderVideo(prompt.spec, { seed: 'semantic-test' });
    const view = criticView(video);
    assert.deepEqual([view.frames, view.height, view.width], [video.frames, video.height, video.width]);
    const index = (t: number, y: number, x: number, c: number) => ((t * video.height + y) * video.width + x) * 3 + c;
    for (const [t, y, x] of [[0, 0, 0], [5, 10, 21], [15, 31, 30]] as const) {
      for (let c = 0; c < 3; c++) {
        const [y0, x0] = [y - (y % 2), x - (x % 2)];
        const block = [index(t, y0, x0, c), index(t, y0 + 1, x0, c), index(t, y0, x0 + 1, c), index(t, y0 + 1, x0 + 1, c)].reduce((sum, i) => sum + video.data[i]!, 0) / 4;
        const expected = Math.round(((video.data[index(t, y, x, c)]! + block) / 2) * 31) / 31;
        assert.ok(Math.abs(view.data[index(t, y, x, c)]! - expected) < 1e-6, `pixel ${t},${y},${x},${c}: half its own value, half its block's, on 32 levels`);
      }
    }
    assert.ok(view.data.some((v, i) => Math.abs(v - video.data[i]!) > 0.02), 'the eye does not see the pixels as they are');
    const features = videoFeatures(video, 3);
    assert.equal(CRITIC_VISIONS.semantic, 3);
    assert.equal(features.length, featureSize(3));
    assert.deepEqual(features.subarray(0, FEATURE_SIZE), pixelStatistics(video), 'the statistics read the full video');
    assert.deepEqual(features.subarray(FEATURE_SIZE), semanticReadings(video));
    // Not the panel's perception copied: over a few defective videos its readings differ from version 2's.
    const differ = prompts.slice(0, 8).filter((p, i) => {
      const v = renderCorrupted(p.spec, i % 2 ? 'blur' : 'noise', { seed: i, severity: 0.6 }).video;
      return videoFeatures(v, 3).subarray(FEATURE_SIZE).some((x, j) => Math.abs(x - videoFeatures(v, 2)[FEATURE_SIZE + j]!) > 1e-6);
    }).length;
    assert.equal(differ, 8);
  });

  test('version 2 is pinned: a change to the statistics or to the world perception it reads needs a new feature version', () => {
    // Checkpoints, bootstrap caches and the human sets' feature cache (cache/critic-features/*-v2.mat)
    // all assume that version 2 computes what it computed when they were written.
    const pinned = samplePrompts({ count: 6, seed: 'detector-pin' });
    const hash = createHash('sha256');
    pinned.forEach((p, i) => hash.update(Buffer.from(videoFeatures(i % 2 ? renderCorrupted(p.spec, 'blur', { seed: i, severity: 0.6 }).video : renderVideo(p.spec, { seed: i }), 2).buffer)));
    assert.equal(hash.digest('hex'), '2befeded5875d7ce00e9e7a9f2373854ee358d2519ec18dc2e24e18908e33b7e', 'the features of version 2 changed: add a version (features.ts CRITIC_VISIONS) instead');
  });

  test('a detector critic judges videos, round-trips as a checkpoint, and unknown or mismatched versions are refused by name', async () => {
    const critic = initCritic(DETECTOR, vocab, 1);
    assert.equal(critic.params['vis.proj.w']!.shape[0], featureSize(2));
    const videos = prompts.slice(0, 3).map((p, i) => ({ prompt: p.text, video: renderVideo(p.spec, { seed: `d${i}` }) }));
    const exec = await CriticOnnx.create(critic);
    try {
      const judged = await judgeVideos(exec, videos, { paths: 2, seed: 1 });
      assert.equal(judged.length, 3);
      // Features of another tower are refused, naming the item and both sizes.
      await assert.rejects(judgeVideos(exec, [{ prompt: videos[0]!.prompt, features: pixelStatistics(videos[0]!.video) }]), /item 0 has 873 features, this critic reads \d+ \(feature version 2\)/);
    } finally {
      await exec.release();
    }
    assert.deepEqual(decodeCritic(encodeCritic(critic)).config, critic.config);
    const future = Buffer.from(encodeCritic(critic)).toString('latin1').replace('"featureVersion":2', '"featureVersion":7');
    assert.throws(() => decodeCritic(Buffer.from(future, 'latin1'), 'future.ckpt'), /future\.ckpt: config\.featureVersion: .*unknown feature version 7/);
    assert.throws(() => initCritic({ ...DETECTOR, features: FEATURE_SIZE }, vocab, 1), /config\.features is 873, feature version 2 has \d+ values/);
  });

  describe('human-set feature cache', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'critic-features-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('the second read of a set takes the cached features, which equal the computed ones', async () => {
      const store = openStore(dir);
      const built = await buildHumanSeedSet({ pairs: 6, seed: 'detector-cache' });
      const set: HumanSet = { format: 'dual-ipo/human-set@1', split: 'seed', records: [], videos: await putVideos(store, 'set/videos.dipv', built.records.flatMap((r) => [r.a.video!, r.b.video!]), built.records.flatMap((r) => [`${r.id}/a`, `${r.id}/b`])), stats: built.stats } as unknown as HumanSet;
      const ref = await store.putJson('set.json', set);
      const first = await cachedCriticExamples(store, ref, built.records, 2);
      const cached = await store.list('cache/critic-features/');
      assert.deepEqual(cached.filter((k) => k.endsWith('.mat')), [criticFeaturesCacheKey(ref, 2)]);
      assert.match(criticFeaturesCacheKey(ref, 2), /-v2-p\d+\.mat$/, 'features that read perception are keyed by its version too');
      assert.match(criticFeaturesCacheKey(ref, 1), /-v1\.mat$/, 'pixel statistics alone are not');
      // Records without pixels: only the cache can give their features.
      const blind = built.records.map((r) => ({ ...r, a: { ...r.a, video: undefined as unknown as Video }, b: { ...r.b, video: undefined as unknown as Video } }));
      const second = await cachedCriticExamples(store, ref, blind, 2);
      assert.equal(second.length, first.length);
      second.forEach((e, i) => {
        assert.deepEqual(e.a.features, first[i]!.a.features);
        assert.deepEqual(e.b.features, first[i]!.b.features);
        assert.deepEqual(e.pair, first[i]!.pair);
      });
      // Another version is its own cache entry (the pixels are needed again).
      await assert.rejects(cachedCriticExamples(store, ref, blind, 1), /has no pixels/);
    });

    test('computing the features of many videos reports progress as it goes (the stage heartbeats)', async () => {
      const store = openStore(dir);
      const video = renderVideo(samplePrompts({ count: 1, seed: 'features-progress' })[0]!.spec, { seed: 1 });
      const videos = Array.from({ length: 150 }, () => video);
      const of = await store.putJson('progress-set.json', { videos: 150 });
      const reported: Array<[number, number]> = [];
      const rows = await cachedVideoFeatures(store, of, videos.length, () => videos, 1, async (done, total) => void reported.push([done, total]));
      assert.equal(rows.length, 150);
      assert.deepEqual(reported, [[64, 150], [128, 150]]);
      // Cached: nothing to compute, nothing to report.
      reported.length = 0;
      await cachedVideoFeatures(store, of, videos.length, () => videos, 1, async (done, total) => void reported.push([done, total]));
      assert.deepEqual(reported, []);
    });

    test('critic examples streamed from pair records report progress at the same pace', async () => {
      const [record] = (await buildHumanSeedSet({ pairs: 1, seed: 'features-progress' })).records;
      const reported: number[] = [];
      const examples = await criticExamples(Array.from({ length: 130 }, () => record!), { featureVersion: 1, onProgress: (done) => void reported.push(done) });
      assert.equal(examples.length, 130);
      assert.deepEqual(reported, [64, 128]);
    });
  });
});
