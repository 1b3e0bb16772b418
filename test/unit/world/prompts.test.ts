import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { filterSpec, promptText, resolveDifficulty, samplePrompts, summarizePrompts } from '../../../lib/world/prompts';
import { Rng } from '../../../lib/world/rng';
import { validateSpec, type PromptSpec } from '../../../lib/world/spec';
import { layoutRegions, motionFits } from '../../../lib/world/trajectories';
import { ACTION_INFO, SCENE_INFO, SUBJECTS } from '../../../lib/world/vocabulary';

describe('prompt sampler', () => {
  test('is deterministic under a seed, and prompt i depends only on (seed, i)', () => {
    const a = samplePrompts({ count: 50, seed: 42 });
    const b = samplePrompts({ count: 50, seed: 42 });
    assert.deepEqual(a, b);
    const tail = samplePrompts({ count: 10, seed: 42, startIndex: 40 });
    assert.deepEqual(tail, a.slice(40));
    const other = samplePrompts({ count: 50, seed: 43 });
    assert.notDeepEqual(other.map((p) => p.text), a.map((p) => p.text));
    assert.equal(new Set([...a, ...other].map((p) => p.id)).size, 100, 'ids are unique across seeds');
  });

  test('keeps each prompt structured spec beside its text, consistent and drawable', () => {
    for (const p of samplePrompts({ count: 500, seed: 'consistency' })) {
      validateSpec(p.spec);
      assert.equal(p.text, promptText(p.spec));
      assert.equal(p.category, SUBJECTS[p.spec.subjects[0]!.kind].category);
      const regions = layoutRegions(p.spec, 32);
      p.spec.subjects.forEach((s, i) => assert.ok(motionFits(s, regions[i]!, p.spec.speed), `${p.text}: ${s.action} does not fit`));
      if (SCENE_INFO[p.spec.scene].kind === 'realistic') for (const s of p.spec.subjects) assert.ok(SUBJECTS[s.kind].habitats.includes(p.spec.scene), p.text);
      if (p.spec.subjects.length === 2) assert.notEqual(p.spec.subjects[0]!.color, p.spec.subjects[1]!.color);
    }
  });

  test('matches its target distribution within sampling error', () => {
    const prompts = samplePrompts({ count: 4000, seed: 'distribution' });
    const summary = summarizePrompts(prompts);
    assert.ok(summary.maxAbsZ < 4, `largest deviation ${summary.maxAbsZ.toFixed(2)} standard errors`);
    assert.ok(Math.abs(summary.facets.difficulty!.simple!.share - 0.5) < 0.04);
  });

  test('follows shifted weights and a drifting difficulty schedule', () => {
    const weights = { category: { figure: 0.1, animal: 0.1, object: 0.8 }, subjectCount: { single: 0.5, multi: 0.5 } };
    const schedule = { start: { simple: 0.8, medium: 0.15, difficult: 0.05 }, end: { simple: 0.2, medium: 0.3, difficult: 0.5 }, rounds: 4 };
    const prompts = samplePrompts({ count: 3000, seed: 'shifted', weights, difficultySchedule: schedule, round: 4 });
    const summary = summarizePrompts(prompts, { weights, difficultySchedule: schedule, round: 4 });
    assert.ok(summary.maxAbsZ < 4, `largest deviation ${summary.maxAbsZ.toFixed(2)} standard errors`);
    assert.ok(summary.facets.category!.object!.share > 0.75);
    assert.ok(summary.facets.difficulty!.difficult!.share > 0.45);
    const mid = resolveDifficulty(schedule, 2);
    for (const [k, v] of Object.entries({ simple: 0.5, medium: 0.225, difficult: 0.275 })) assert.ok(Math.abs(mid[k as keyof typeof mid] - v) < 1e-9, k);
    assert.throws(() => samplePrompts({ count: 1, seed: 1, weights: { category: { dragon: 1 } as never } }), /weights\.category\.dragon: unknown key/);
  });

  test('gives effectively unbounded distinct prompts', () => {
    const prompts = samplePrompts({ count: 5000, seed: 'distinct' });
    const distinct = new Set(prompts.map((p) => p.text)).size;
    assert.ok(distinct / prompts.length > 0.9, `${distinct} distinct of ${prompts.length}`);
  });
});

describe('prompt filter', () => {
  const base = (over: Partial<PromptSpec>): PromptSpec => ({ subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'move_right' }], scene: 'forest', style: 'plain', speed: 'normal', ...over });

  test('repairs inconsistent combinations and says why', () => {
    const fish = filterSpec(base({ subjects: [{ kind: 'fish', color: 'red', size: 'small', action: 'move_right' }], scene: 'desert' }), new Rng(1));
    assert.ok(fish.ok && fish.spec.scene === 'ocean' && fish.repairs.some((r) => /does not belong in the desert/.test(r)));
    const ball = filterSpec(base({ subjects: [{ kind: 'ball', color: 'red', size: 'small', action: 'circle' }] }), new Rng(1));
    assert.ok(ball.ok && ball.spec.style === 'cartoon' && ball.repairs.some((r) => /complex motion/.test(r)));
    const twins = filterSpec(base({ subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'stay' }, { kind: 'cat', color: 'red', size: 'small', action: 'stay' }], relation: { type: 'left of', subject: 0, object: 1 } }), new Rng(1));
    assert.ok(twins.ok && twins.spec.subjects[1]!.color !== 'red');
    const white = filterSpec(base({ subjects: [{ kind: 'cat', color: 'white', size: 'small', action: 'stay' }], scene: 'snowfield' }), new Rng(1));
    assert.ok(white.ok && white.spec.subjects[0]!.color !== 'white' && white.repairs.some((r) => /blends into the snowfield/.test(r)));
    const still = filterSpec(base({ subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'stay' }], speed: 'fast' }), new Rng(1));
    assert.ok(still.ok && still.spec.speed === 'normal');
    const big = filterSpec(base({ subjects: [{ kind: 'person', color: 'red', size: 'large', action: 'move_down' }], speed: 'fast' }), new Rng(1));
    assert.ok(big.ok && big.spec.subjects[0]!.size !== 'large' && big.repairs.some((r) => /no room to move down/.test(r)) && ACTION_INFO[big.spec.subjects[0]!.action].translational);
  });

  test('drops what cannot be repaired', () => {
    const r = filterSpec(
      base({ subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'zigzag' }, { kind: 'ball', color: 'blue', size: 'small', action: 'stay' }], relation: { type: 'left of', subject: 0, object: 1 } }),
      new Rng(1),
    );
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /no room for the red cat to zigzag left of the other subject/);
  });
});

describe('validateSpec', () => {
  const good = { subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'stay' }, { kind: 'ball', color: 'blue', size: 'large', action: 'bounce' }], relation: { type: 'left of', subject: 0, object: 1 }, scene: 'forest', style: 'plain', speed: 'normal' };

  test('accepts a good spec', () => {
    assert.equal(validateSpec(good), good);
  });

  test('names the bad field', () => {
    const bad = (patch: (s: any) => void) => {
      const s = structuredClone(good) as any;
      patch(s);
      return () => validateSpec(s);
    };
    assert.throws(bad((s) => (s.subjects[1].color = 'teal')), { message: /^spec\.subjects\[1\]\.color: unknown colour "teal"/ });
    assert.throws(bad((s) => (s.subjects[0].kind = 'dragon')), /spec\.subjects\[0\]\.kind: unknown subject "dragon"/);
    assert.throws(bad((s) => (s.relation.object = 0)), /spec\.relation: impossible relation: subject 0 cannot be "left of" itself/);
    assert.throws(bad((s) => (s.relation.type = 'inside')), /spec\.relation\.type: unknown relation "inside"/);
    assert.throws(bad((s) => (s.relation.object = 5)), /spec\.relation\.object: expected a subject index in 0\.\.1, got 5/);
    assert.throws(bad((s) => s.subjects.pop()), /spec\.relation: impossible relation "left of" with a single subject/);
    assert.throws(bad((s) => delete s.relation), /spec\.relation: two subjects need a spatial relation/);
    assert.throws(bad((s) => (s.subjects = [])), /spec\.subjects: expected 1 to 2 subjects, got 0/);
    assert.throws(bad((s) => (s.mood = 'happy')), /spec\.mood: unknown field/);
    assert.throws(bad((s) => (s.scene = 'moon')), /spec\.scene: unknown scene "moon"/);
  });
});

test('prompt text reads naturally', () => {
  assert.equal(promptText({ subjects: [{ kind: 'cat', color: 'red', size: 'small', action: 'move_right' }], scene: 'forest', style: 'plain', speed: 'fast' }), 'A small red cat quickly runs to the right in a forest.');
  assert.equal(
    promptText({ subjects: [{ kind: 'person', color: 'blue', size: 'large', action: 'circle' }, { kind: 'ball', color: 'yellow', size: 'small', action: 'stay' }], relation: { type: 'above', subject: 1, object: 0 }, scene: 'kitchen', style: 'cartoon', speed: 'normal' }),
    'A small yellow ball is above a large blue person in a kitchen; the ball rests in place while the person walks in a clockwise circle, in cartoon style.',
  );
});
