import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { annotatePairwise, annotatePointwise, makePanel, panelPairwise, panelPointwise, truthPairwise, truthPointwise, TIE_MARGIN } from '../../../lib/world/annotators';
import { assess, HUMAN_DIMENSIONS, type Assessment } from '../../../lib/world/assessment';
import { CORRUPTIONS, renderCorrupted } from '../../../lib/world/corruptions';
import { perceive } from '../../../lib/world/perception';
import { samplePrompts } from '../../../lib/world/prompts';
import { renderVideo } from '../../../lib/world/render';
import type { PromptSpec } from '../../../lib/world/spec';

// A pool of assessed videos: clean renders and every kind of defect.
const prompts = samplePrompts({ count: 40, seed: 'annotators' });
const pool: { spec: PromptSpec; clean: Assessment; other: Assessment; origin: string }[] = prompts.map((p, k) => {
  const kind = CORRUPTIONS[k % CORRUPTIONS.length]!;
  return {
    spec: p.spec,
    clean: assess(p.spec, perceive(renderVideo(p.spec, { seed: k }))),
    other: assess(p.spec, perceive(renderCorrupted(p.spec, kind, { seed: k, severity: 0.6 }).video)),
    origin: kind,
  };
});

describe('annotator panel', () => {
  test('has 10 annotators by default, each with its own seeded noise level', () => {
    const panel = makePanel({ seed: 1 });
    assert.equal(panel.length, 10);
    assert.equal(new Set(panel.map((a) => a.noise)).size, 10);
    assert.ok(panel.every((a) => a.noise >= 0.04 && a.noise <= 0.16));
    assert.deepEqual(makePanel({ seed: 1 }), panel);
    assert.deepEqual(makePanel({ size: 3, noise: [0, 0.1, 0.2] }).map((a) => a.noise), [0, 0.1, 0.2]);
    assert.throws(() => makePanel({ noise: 2 }), /noise level must be in \[0, 1\]/);
  });

  test("disagreement with the evidence matches each annotator's configured noise", () => {
    const levels = [0, 0.05, 0.15, 0.3];
    const panel = makePanel({ size: levels.length, noise: levels, seed: 'noise-test' });
    const trials = 3000;
    panel.forEach((annotator) => {
      let wrongPoint = 0;
      let wrongPair = 0;
      let n = 0;
      for (let i = 0; i < trials; i++) {
        const item = pool[i % pool.length]!;
        const truthP = truthPointwise(item.other);
        const truthQ = truthPairwise(item.clean, item.other);
        const j = annotatePointwise(annotator, item.spec, item.other, `item-${i}`);
        const q = annotatePairwise(annotator, item.spec, item.clean, item.other, `item-${i}`);
        for (const d of HUMAN_DIMENSIONS) {
          n++;
          if (j.labels[d] !== truthP[d]) wrongPoint++;
          if (q.labels[d] !== truthQ[d]) wrongPair++;
        }
      }
      const tolerance = 4 * Math.sqrt((annotator.noise * (1 - annotator.noise)) / n) + 1e-9;
      assert.ok(Math.abs(wrongPoint / n - annotator.noise) <= tolerance, `pointwise: ${(wrongPoint / n).toFixed(3)} vs noise ${annotator.noise}`);
      assert.ok(Math.abs(wrongPair / n - annotator.noise) <= tolerance, `pairwise: ${(wrongPair / n).toFixed(3)} vs noise ${annotator.noise}`);
    });
  });

  test('grades clean renders Good and defects lower on the dimension they damage', () => {
    for (const item of pool) for (const d of HUMAN_DIMENSIONS) assert.equal(truthPointwise(item.clean)[d], 'Good', `${d} of a clean render`);
    const damaged = { wrong_colour: 'semantic', wrong_direction: 'semantic', jitter: 'motion', flicker: 'motion', blur: 'faithfulness', noise: 'faithfulness' } as const;
    for (const [kind, dimension] of Object.entries(damaged)) {
      const items = pool.filter((p) => p.origin === kind);
      const notGood = items.filter((p) => truthPointwise(p.other)[dimension] !== 'Good').length;
      assert.ok(notGood >= items.length - 1, `${kind}: ${notGood}/${items.length} not Good on ${dimension}`);
    }
  });

  test('ties only when the two videos are indistinguishable', () => {
    for (const item of pool) {
      const same = truthPairwise(item.clean, item.clean);
      for (const d of HUMAN_DIMENSIONS) assert.equal(same[d], 'tie');
      const q = truthPairwise(item.clean, item.other);
      for (const d of HUMAN_DIMENSIONS) assert.equal(q[d] === 'tie', Math.abs(item.clean.scores[d] - item.other.scores[d]) < TIE_MARGIN);
    }
    const preferences = pool.flatMap((item) => HUMAN_DIMENSIONS.map((d) => truthPairwise(item.clean, item.other)[d]));
    assert.ok(preferences.filter((l) => l === 'B').length <= 2, 'the clean render is (almost) never worse');
  });

  test('aggregates by majority and explains every judgment', () => {
    const panel = makePanel({ seed: 'majority' });
    const p = prompts[0]!;
    const clean = { video: renderVideo(p.spec, { seed: 0 }) };
    const bad = { video: renderCorrupted(p.spec, 'wrong_colour', { seed: 0 }).video };
    const point = panelPointwise(panel, p.spec, bad);
    assert.equal(point.labels.semantic, 'Normal');
    assert.equal(point.judgments.length, 10);
    assert.ok(point.agreement.semantic >= 0.5);
    assert.ok(point.rationale.mismatched.some((m) => /colour of the .*: expected/.test(m)), point.rationale.text);
    assert.match(point.rationale.text, /semantic consistency Normal/);
    const pair = panelPairwise(panel, p.spec, clean, bad);
    assert.equal(pair.labels.semantic, 'A');
    assert.match(pair.rationale.comparison.semantic, /A is better: in B, the colour of/);
    assert.deepEqual(panelPairwise(panel, p.spec, clean, bad).labels, pair.labels, 'deterministic');
    for (const j of pair.judgments) assert.equal(typeof j.rationale.text, 'string');
    const shaky = panelPointwise(panel, p.spec, { video: renderCorrupted(p.spec, 'jitter', { seed: 0, severity: 0.8 }).video });
    assert.ok(shaky.rationale.motionFlaws.some((f) => /camera shakes/.test(f)), shaky.rationale.text);
  });
});

describe('graded human evidence', () => {
  // Videos that get much of the prompt wrong: clean renders of another prompt.
  const wrong = prompts.slice(0, 20).map((p, k) => ({ spec: p.spec, perception: perceive(renderVideo(prompts[(k + 7) % prompts.length]!.spec, { seed: k })) }));

  test('agrees with the clipped reading on clean renders and where one attribute is wrong, and never reaches Good with a mismatch', () => {
    for (const item of pool) {
      const spec = item.spec;
      const clean = renderVideo(spec, { seed: 'graded' });
      const p = perceive(clean);
      const [clipped, graded] = [assess(spec, p, 'clipped'), assess(spec, p, 'graded')];
      assert.deepEqual(graded.checks, clipped.checks);
      if (clipped.checks.every((c) => c.ok) && !clipped.motionFlaws.length && !clipped.qualityFlaws.length) assert.deepEqual(graded.scores, clipped.scores);
      const failed = graded.checks.filter((c) => !c.ok);
      if (failed.length) assert.ok(graded.scores.semantic < 0.85);
      if (failed.length === 1) assert.ok(Math.abs(graded.scores.semantic - clipped.scores.semantic) < 0.1, `${graded.scores.semantic} vs ${clipped.scores.semantic}`);
    }
  });

  test('is the default: of the assessment and of a panel', () => {
    const { spec, perception } = wrong[0]!;
    assert.deepEqual(assess(spec, perception), assess(spec, perception, 'graded'));
    assert.notDeepEqual(assess(spec, perception).scores, assess(spec, perception, 'clipped').scores, 'a video the two readings score apart');
    const bad = renderCorrupted(spec, 'blur', { seed: 'default', severity: 0.8 }).video;
    const labels = (evidence?: 'graded' | 'clipped') => panelPointwise(makePanel({ seed: 'default', ...(evidence ? { evidence } : {}) }), spec, { video: bad }).scores;
    assert.deepEqual(labels(), labels('graded'));
    assert.notDeepEqual(labels(), labels('clipped'));
  });

  test('keeps ranking videos the clipped reading scores 0: more of the prompt shown scores higher', () => {
    let zeros = 0;
    for (const { spec, perception } of wrong) {
      const [clipped, graded] = [assess(spec, perception, 'clipped'), assess(spec, perception)];
      const total = graded.checks.reduce((s, c) => s + c.weight, 0);
      const shown = graded.checks.filter((c) => c.ok).reduce((s, c) => s + c.weight, 0) / total;
      if (clipped.scores.semantic === 0) {
        zeros++;
        assert.equal(graded.scores.semantic > 0, shown > 0);
      }
      assert.ok(graded.scores.semantic <= shown ** 2 + 1e-12);
      for (const d of HUMAN_DIMENSIONS) assert.ok(graded.scores[d] >= clipped.scores[d] - 0.05, `${d}: graded ${graded.scores[d]} vs clipped ${clipped.scores[d]}`);
    }
    assert.ok(zeros >= 5, `${zeros} of ${wrong.length} mismatched renders score 0 when clipped`);
    // Between videos with as many failed checks, the one that shows more of its prompt scores higher.
    const read = wrong.map(({ spec, perception }) => {
      const a = assess(spec, perception, 'graded');
      const total = a.checks.reduce((s, c) => s + c.weight, 0);
      return { failed: a.checks.filter((c) => !c.ok).length, shown: a.checks.filter((c) => c.ok).reduce((s, c) => s + c.weight, 0) / total, semantic: a.scores.semantic };
    });
    let compared = 0;
    for (const x of read) for (const y of read) if (x.failed === y.failed && x.shown > y.shown + 1e-9 && x.semantic < 0.84) {
      compared++;
      assert.ok(x.semantic > y.semantic, `shown ${x.shown} vs ${y.shown}: semantic ${x.semantic} vs ${y.semantic}`);
    }
    assert.ok(compared > 0);
    // The panel reads its evidence alike for every annotator, and says so in its members.
    const panel = makePanel({ seed: 1, evidence: 'graded' });
    assert.ok(panel.every((a) => a.evidence === 'graded'));
    assert.ok(makePanel({ seed: 1 }).every((a) => a.evidence === 'graded'), 'the default');
    assert.throws(() => makePanel({ evidence: 'lenient' as 'graded' }), /panel evidence must be one of clipped, graded, got "lenient"/);
    const mixed = [...makePanel({ size: 2, seed: 1, evidence: 'clipped' }), ...makePanel({ size: 1, seed: 2 })];
    assert.throws(() => panelPointwise(mixed, wrong[0]!.spec, { video: renderVideo(wrong[0]!.spec, { seed: 0 }) }), /annotator annotator-1 has evidence "graded", annotator-1 "clipped": a panel reads the evidence alike/);
    const { spec, perception } = wrong[0]!;
    const a = panelPointwise(panel, spec, { video: renderVideo(spec, { seed: 0 }), perception });
    assert.deepEqual(a.scores, assess(spec, perception, 'graded').scores);
  });
});
