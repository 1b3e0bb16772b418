import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { renderPoses, renderVideo } from '../../../lib/world/render';
import type { PromptSpec } from '../../../lib/world/spec';

const spec: PromptSpec = { subjects: [{ kind: 'robot', color: 'orange', size: 'medium', action: 'move_right' }], scene: 'city street', style: 'cartoon', speed: 'normal' };

test('renders a [T,H,W,3] video in [0, 1], 16 frames of 32x32 by default', () => {
  const v = renderVideo(spec, { seed: 1 });
  assert.deepEqual([v.frames, v.height, v.width, v.data.length], [16, 32, 32, 16 * 32 * 32 * 3]);
  assert.ok(v.data.every((x) => x >= 0 && x <= 1));
  const big = renderVideo(spec, { seed: 1, frames: 8, size: 64 });
  assert.deepEqual([big.frames, big.height, big.width], [8, 64, 64]);
});

test('is deterministic under a seed and varies naturally across seeds', () => {
  assert.deepEqual(renderVideo(spec, { seed: 'a' }).data, renderVideo(spec, { seed: 'a' }).data);
  const starts = new Set(Array.from({ length: 20 }, (_, k) => renderPoses(spec, { seed: k })[0]![0]!.cx.toFixed(2)));
  assert.ok(starts.size > 15, 'start positions vary with the seed');
  const travel = Array.from({ length: 20 }, (_, k) => {
    const path = renderPoses(spec, { seed: k })[0]!;
    return path[15]!.cx - path[0]!.cx;
  });
  assert.ok(Math.max(...travel) - Math.min(...travel) > 0.5, 'speeds vary with the seed');
  assert.ok(travel.every((d) => d > 0), 'moving right moves right');
});

test('refuses bad specs and bad sizes with clear errors', () => {
  assert.throws(() => renderVideo({ ...spec, scene: 'moon' } as never, { seed: 1 }), /spec\.scene: unknown scene "moon"/);
  assert.throws(() => renderVideo(spec, { seed: 1, frames: 1 }), /frames must be an integer >= 2/);
});
