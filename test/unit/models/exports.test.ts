// Preference exports in the ecosystem's formats, as their consumers read them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePickAPicCsv, pickAPicCsv, trlPreferenceJsonl, trlUnpairedJsonl, videoLocator } from '../../../lib/models/exports';
import { fromTubelets, toTubelets, tubeletCount, tubeletSize, quantize, dequantize } from '../../../lib/models/video';
import { Random } from '../../../lib/models/nn/random';

const pairs = Array.from({ length: 40 }, (_, i) => ({
  prompt: i === 3 ? 'A red "cat", quickly, runs\nto the right.' : `prompt ${i}`,
  chosen: videoLocator('file:///s/videos.dipv', `p${i}/0`),
  rejected: videoLocator('file:///s/videos.dipv', `p${i}/7`),
  chosenScore: 0.8,
  rejectedScore: 0.2,
}));

describe('TRL formats', () => {
  test('preference JSON lines: prompt / chosen / rejected per line', () => {
    const lines = trlPreferenceJsonl(pairs).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 40);
    assert.deepEqual(Object.keys(lines[0]).slice(0, 3), ['prompt', 'chosen', 'rejected']);
    assert.equal(lines[3].prompt, pairs[3]!.prompt);
    assert.equal(lines[0].chosen, 'file:///s/videos.dipv#p0/0');
    assert.equal(trlPreferenceJsonl([]), '');
  });

  test('unpaired JSON lines: prompt / completion / label (boolean)', () => {
    const lines = trlUnpairedJsonl([
      { prompt: 'a', completion: 'x#1', label: true },
      { prompt: 'a', completion: 'x#2', label: false },
    ])
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { prompt: 'a', completion: 'x#1', label: true },
      { prompt: 'a', completion: 'x#2', label: false },
    ]);
  });
});

describe('Pick-a-Pic table', () => {
  test('caption, video_0, video_1, label_0: both orders occur and label_0 always names the chosen video', () => {
    const rows = parsePickAPicCsv(pickAPicCsv(pairs));
    assert.equal(rows.length, 40);
    for (const [i, r] of rows.entries()) {
      assert.equal(r.caption, pairs[i]!.prompt); // quotes, commas and newlines survive
      const preferred = r.label_0 === 1 ? r.video_0 : r.video_1;
      assert.equal(preferred, pairs[i]!.chosen);
      assert.ok(r.label_0 === 0 || r.label_0 === 1);
    }
    const ones = rows.filter((r) => r.label_0 === 1).length;
    assert.ok(ones > 5 && ones < 35, `label_0 = 1 in ${ones} of 40 rows`);
    assert.throws(() => parsePickAPicCsv('a,b\n1,2\n'), /not a Pick-a-Pic table/);
  });
});

describe('video layout', () => {
  test('tubelets are a pure reordering and invert exactly', () => {
    const layout = { frames: 16, size: 32, tubeletFrames: 4, patch: 8 };
    const video = new Random('v').normals(16 * 32 * 32 * 3);
    const t = new Float32Array(tubeletCount(layout) * tubeletSize(layout));
    toTubelets(video, layout, t);
    assert.deepEqual(fromTubelets(t, layout).data, video);
    // The first tubelet holds frames 0-3 of the top-left 8x8 block.
    assert.equal(t[3], video[3]); // frame 0, pixel (0, 1)
    assert.equal(t[8 * 3], video[32 * 3]); // frame 0, pixel (1, 0)
    assert.equal(t[64 * 3], video[32 * 32 * 3]); // frame 1, pixel (0, 0)
    const bytes = quantize(Float32Array.from([-1, 0, 0.5, 1, 2]));
    assert.deepEqual(Array.from(bytes), [0, 0, 128, 255, 255]);
    assert.ok(Math.abs(dequantize(bytes)[2]! - 128 / 255) < 1e-7);
  });
});
