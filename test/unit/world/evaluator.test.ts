import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { VBENCH_DIMENSIONS, VBENCH_NORMALIZE, type VBenchDimension } from '../../../lib/core/vbench';
import { CORRUPTION_EFFECTS, CORRUPTIONS, renderCorrupted } from '../../../lib/world/corruptions';
import { evaluateVideos, pairedTotalGain, temporalFlickering, totalOfParts, videoParts, type EvalResult } from '../../../lib/world/evaluator';
import { perceive } from '../../../lib/world/perception';
import { samplePrompts } from '../../../lib/world/prompts';
import { renderVideo } from '../../../lib/world/render';
import type { Video } from '../../../lib/world/spec';

// A fixed benchmark: enough prompts that every dimension is covered (figures, two subjects, travel).
const prompts = samplePrompts({ count: 48, seed: 'evaluator-test', weights: { subjectCount: { single: 0.5, multi: 0.5 } } });
const clean = prompts.map((p, k) => renderVideo(p.spec, { seed: k }));
const perceptions = clean.map((v) => perceive(v));
const truth = evaluateVideos(prompts.map((p, k) => ({ spec: p.spec, video: clean[k]!, perception: perceptions[k] })), { perVideo: true });

/** Drop of a dimension on VBench's normalised scale (positive = worse than ground truth). */
function drop(result: EvalResult, d: VBenchDimension): number {
  return (truth.dimensions[d] - result.dimensions[d]) / (VBENCH_NORMALIZE[d].max - VBENCH_NORMALIZE[d].min);
}

describe('VBench-style evaluator', () => {
  test('covers all 16 dimensions and aggregates with vbenchScores', () => {
    assert.deepEqual(truth.missing, []);
    for (const d of VBENCH_DIMENSIONS) assert.ok(truth.dimensions[d] >= 0 && truth.dimensions[d] <= 1 && truth.coverage[d] > 0, d);
    assert.equal(truth.perVideo!.length, prompts.length);
  });

  test("each video's Total is the Total it gets when evaluated alone", () => {
    assert.equal(truth.videoTotals!.length, prompts.length);
    for (const k of [0, 1, 2, 3, 4, 5]) {
      const alone = evaluateVideos([{ spec: prompts[k]!.spec, video: clean[k]!, perception: perceptions[k] }]).total;
      assert.ok(Math.abs(truth.videoTotals![k]! - alone) < 1e-9, `video ${k}: ${truth.videoTotals![k]} vs ${alone}`);
    }
    assert.equal(evaluateVideos([{ spec: prompts[0]!.spec, video: clean[0]! }]).videoTotals, undefined);
  });

  test("a set's Total from its videos' parts, with any videos left out, is the Total of evaluating the rest", () => {
    const parts = videoParts(truth);
    assert.ok(Math.abs(totalOfParts(parts) - truth.total) < 1e-9, `${totalOfParts(parts)} vs ${truth.total}`);
    // Keep only the first 2 videos: they cover fewer dimensions, which take their group's mean.
    const rest = evaluateVideos(prompts.slice(0, 2).map((p, k) => ({ spec: p.spec, video: clean[k]!, perception: perceptions[k] })));
    assert.ok(rest.missing.length > 0, 'the check covers the missing-dimension rule');
    assert.ok(Math.abs(totalOfParts(parts, (i) => i >= 2) - rest.total) < 1e-9, `${totalOfParts(parts, (i) => i >= 2)} vs ${rest.total}`);
  });

  test('pairedTotalGain: the Total difference, with a jackknife error over prompts that vanishes for identical sets', () => {
    const base = videoParts(truth);
    const noisy = prompts.map((p, k) => renderCorrupted(p.spec, k % 2 ? 'noise' : 'blur', { seed: k, severity: 0.6 }).video);
    const worse = evaluateVideos(prompts.map((p, k) => ({ spec: p.spec, video: noisy[k]! })), { perVideo: true });
    const promptOf = (i: number) => Math.floor(i / 2); // two videos per "prompt" here
    const g = pairedTotalGain(base, videoParts(worse), promptOf);
    assert.ok(Math.abs(g.gain - (worse.total - truth.total)) < 1e-9);
    assert.ok(g.gain < 0 && g.standardError > 0 && g.standardError < -g.gain, `${g.gain} ± ${g.standardError}`);
    assert.equal(g.n, 24);
    assert.deepEqual(pairedTotalGain(base, base, promptOf), { gain: 0, standardError: 0, n: 24 });
    assert.throws(() => pairedTotalGain(base, { values: base.values.slice(1), weights: base.weights.slice(1) }, promptOf), /baseline scored 48 videos, the candidate 47/);
    assert.throws(() => pairedTotalGain(base, base, (i) => i + 1), /promptOf must number the 48 prompts 0\.\.47/);
  });

  test('scores ground-truth videos near the top', () => {
    const d = truth.dimensions;
    for (const dim of ['background_consistency', 'temporal_flickering', 'motion_smoothness', 'aesthetic_quality', 'imaging_quality'] as const) assert.ok(d[dim] >= 0.95, `${dim} ${d[dim]}`);
    assert.ok(d.subject_consistency >= 0.88, `subject_consistency ${d.subject_consistency}`);
    for (const dim of ['object_class', 'multiple_objects', 'human_action', 'color', 'scene'] as const) assert.ok(d[dim] >= 0.97, `${dim} ${d[dim]}`);
    // VBench's rule wants the offset mostly along the relation's axis; a subject high in the left
    // half and its partner low in the right half fails it even when "left of" holds.
    assert.ok(d.spatial_relationship >= 0.9, `spatial_relationship ${d.spatial_relationship}`);
    // The similarity dimensions sit on VBench's cosine scale: a perfect match is the top of its range.
    for (const dim of ['appearance_style', 'temporal_style', 'overall_consistency'] as const) assert.ok(d[dim] >= 0.97 * VBENCH_NORMALIZE[dim].max, `${dim} ${d[dim]}`);
    assert.ok(truth.total > 90 && truth.semantic > 95, `total ${truth.total}, semantic ${truth.semantic}`);
  });

  for (const kind of CORRUPTIONS) {
    test(`${kind} lowers exactly the dimensions it should`, () => {
      const result = evaluateVideos(prompts.map((p, k) => ({ spec: p.spec, video: renderCorrupted(p.spec, kind, { seed: k, severity: 0.5 }).video })));
      const effects = CORRUPTION_EFFECTS[kind];
      for (const d of effects.hurts) assert.ok(drop(result, d as VBenchDimension) >= 0.02, `${kind} should lower ${d}: drop ${drop(result, d as VBenchDimension).toFixed(3)}`);
      for (const d of effects.spares) assert.ok(Math.abs(drop(result, d as VBenchDimension)) <= 0.04, `${kind} should leave ${d} alone: change ${drop(result, d as VBenchDimension).toFixed(3)}`);
      assert.ok(result.total < truth.total, `total ${result.total.toFixed(2)} vs ${truth.total.toFixed(2)}`);
    });
  }

  test('uses VBench temporal flickering formula exactly', () => {
    const v: Video = { frames: 2, height: 1, width: 1, data: Float32Array.from([0, 0, 0, 1, 0.5, 0]) };
    // |0-255| + |0-128| + 0 over 3 values = 127.67; (255 - 127.67) / 255
    assert.ok(Math.abs(temporalFlickering(v) - (255 - (255 + 128) / 3) / 255) < 1e-12);
  });

  test('reports uncovered dimensions instead of inventing them', () => {
    const single = prompts.map((p, k) => ({ p, k })).filter(({ p }) => p.spec.subjects.length === 1).slice(0, 5);
    const r = evaluateVideos(single.map(({ p, k }) => ({ spec: p.spec, video: clean[k]!, perception: perceptions[k] })));
    assert.ok(r.missing.includes('multiple_objects') && r.missing.includes('spatial_relationship'));
    assert.ok(Number.isNaN(r.dimensions.multiple_objects));
    assert.ok(Number.isFinite(r.total));
  });

  test('never throws on noisy or broken videos', () => {
    const noisy: Video = { frames: 16, height: 32, width: 32, data: Float32Array.from({ length: 16 * 32 * 32 * 3 }, (_, i) => ((i * 7919) % 101) / 100) };
    const broken: Video = { ...noisy, data: new Float32Array(noisy.data.length).fill(NaN) };
    const r = evaluateVideos([{ spec: prompts[0]!.spec, video: noisy }, { spec: prompts[1]!.spec, video: broken }]);
    for (const d of VBENCH_DIMENSIONS) assert.ok(Number.isNaN(r.dimensions[d]) || (r.dimensions[d] >= 0 && r.dimensions[d] <= 1), d);
    assert.ok(r.total < truth.total);
  });
});
