import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { measurePerception } from '../../../lib/world/accuracy';
import { perceive, PERCEPTION_VERSION } from '../../../lib/world/perception';
import { CORRUPTIONS, renderCorrupted } from '../../../lib/world/corruptions';
import { samplePrompts } from '../../../lib/world/prompts';
import { renderVideo } from '../../../lib/world/render';
import { Rng } from '../../../lib/world/rng';
import type { Video } from '../../../lib/world/spec';

test('reads clean renders right at least 99% of the time, field by field', () => {
  const report = measurePerception({ count: 400, seed: 'perception-test' });
  for (const [field, f] of Object.entries(report.fields)) assert.ok(f.accuracy >= 0.99, `${field}: ${(100 * f.accuracy).toFixed(1)}% (${f.right}/${f.total})\n${report.examples.join('\n')}`);
  assert.ok(report.allRight >= 0.99, `all fields right in ${(100 * report.allRight).toFixed(1)}% of videos\n${report.examples.join('\n')}`);
});

test('works at other frame counts and sizes', () => {
  const report = measurePerception({ count: 60, seed: 'perception-64', frames: 12, size: 64 });
  assert.ok(report.allRight >= 0.95, `${(100 * report.allRight).toFixed(1)}%\n${report.examples.join('\n')}`);
});

test('reads what it sees: a wrong colour is reported as the colour shown', () => {
  const v = renderVideo({ subjects: [{ kind: 'kite', color: 'green', size: 'large', action: 'move_down' }], scene: 'desert', style: 'plain', speed: 'normal' }, { seed: 3 });
  const p = perceive(v);
  assert.equal(p.objects.length, 1);
  assert.deepEqual([p.objects[0]!.kind, p.objects[0]!.colour, p.objects[0]!.size, p.objects[0]!.motion.motion, p.scene], ['kite', 'green', 'large', 'move_down', 'desert']);
});

test('never throws on garbage pixels and returns degraded readings', () => {
  const rng = new Rng('garbage');
  const make = (fill: (i: number) => number): Video => ({ frames: 8, height: 32, width: 32, data: Float32Array.from({ length: 8 * 32 * 32 * 3 }, (_, i) => fill(i)) });
  for (const v of [make(() => rng.next()), make(() => 0), make(() => 1), make(() => NaN), make((i) => (i % 7) - 3), make(() => Infinity)]) {
    const p = perceive(v);
    assert.ok(Array.isArray(p.objects));
    assert.ok(Number.isFinite(p.sceneScore) && Number.isFinite(p.quality.noise) && Number.isFinite(p.temporal.flicker));
  }
  assert.throws(() => perceive({ frames: 2, height: 32, width: 32, data: new Float32Array(5) }), /expected 2x32x32x3/);
});

test('a still camera over a warped background stays still; a shaking one still shakes', () => {
  // A weak generator's background: the plate perturbed the same way in every frame, plus noise that
  // changes every 4 frames. No offset fits it well, and registration used to pick the marginally best
  // one per frame: up to 4 px of camera shake in a video whose frames do not move.
  const prompts = samplePrompts({ count: 40, seed: 'still-camera' });
  let still = 0;
  let shaking = 0;
  prompts.forEach((p, i) => {
    const v = renderVideo(p.spec, { seed: i });
    const n = v.height * v.width * 3;
    const rng = new Rng('warp', String(i));
    const field = Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 0.5);
    const blocks = Array.from({ length: v.frames / 4 }, () => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 0.1));
    const data = v.data.map((x, k) => Math.min(1, Math.max(0, x + field[k % n]! + blocks[Math.floor(k / n / 4)]![k % n]!)));
    const warped = perceive({ ...v, data });
    if (warped.temporal.shake === 0 && warped.temporal.shift.every(([x, y]) => x === warped.temporal.shift[0]![0] && y === warped.temporal.shift[0]![1])) still++;
    if (perceive(renderCorrupted(p.spec, 'jitter', { seed: i, severity: 0.5 }).video).temporal.shake > 0.3) shaking++;
  });
  assert.equal(still, 40, `${still} of 40 warped still videos read without camera motion`);
  assert.ok(shaking >= 36, `${shaking} of 40 shaken renders read as shaking`);
});

test('what perception reads is pinned: a change to it needs a new PERCEPTION_VERSION', () => {
  // Human sets' labels and detector features are cached by PERCEPTION_VERSION, so a change to what it
  // reads must come with a new version (and a new hash here), never with an edited hash alone.
  const prompts = samplePrompts({ count: 18, seed: 'perception-pin' });
  const hash = createHash('sha256');
  prompts.forEach((p, i) => {
    const options = { seed: i, severity: ((i * 37) % 100) / 100, size: i % 6 === 5 ? 48 : 32 };
    const kind = i % (CORRUPTIONS.length + 2);
    const video = kind < CORRUPTIONS.length ? renderCorrupted(p.spec, CORRUPTIONS[kind]!, options).video : renderVideo(p.spec, options);
    hash.update(JSON.stringify(perceive(video)));
  });
  assert.equal(`${PERCEPTION_VERSION}:${hash.digest('hex')}`, '2:b185ae8d40a34cc9ad9294ca1529ed4c61397187c4a47dccc4efc3d5a5761804', 'what perceive reads changed: bump PERCEPTION_VERSION (perception/index.ts) and pin the new hash');
});
