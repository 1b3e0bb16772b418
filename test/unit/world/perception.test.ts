import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { measurePerception } from '../../../lib/world/accuracy';
import { perceive } from '../../../lib/world/perception';
import { renderVideo } from '../../../lib/world/render';
import { Rng } from '../../../lib/world/rng';
import type { Video } from '../../../lib/world/spec';

test('reads clean renders right at least 99% of the time, field by field', () => {
  const report = measurePerception({ count: 400, seed: 'perception-test' });
  for (const [field, f] of Object.entries(report.fields)) assert.ok(f.accuracy >= 0.99, `${field}: ${(100 * f.accuracy).toFixed(1)}% (${f.right}/${f.total})\n${report.examples.join('\n')}`);
  assert.ok(report.allRight >= 0.99, `all fields right in ${(100 * report.allRight).toFixed(1)}% of videos\n${report.examples.join('\n')}`);
  assert.ok(report.msPerVideo < 10, `${report.msPerVideo.toFixed(2)} ms per video`);
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
