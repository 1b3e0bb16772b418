// vbenchScores: VBench's own normalisation and weights (scripts/constant.py, cal_final_score.py).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VBENCH_DIMENSIONS, VBENCH_NORMALIZE, vbenchScores, type VBenchDimension } from '../../../lib/core/vbench';
import { assertClose } from './grad-check';

const at = (pick: (d: VBenchDimension) => number) => Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, pick(d)])) as Record<VBenchDimension, number>;
const atMax = () => at((d) => VBENCH_NORMALIZE[d].max);

describe('vbenchScores', () => {
  test('every dimension at its Max gives 100 / 100 / 100', () => {
    // Quality: 6 x 1 + 0.5 x 1 (dynamic degree) over 6.5 = 1; Semantic 9/9 = 1; Total (4+1)/5 = 1
    const s = vbenchScores(atMax());
    assertClose([s.total, s.quality, s.semantic], [100, 100, 100], 1e-12);
  });

  test('every dimension at its Min gives 0', () => {
    const s = vbenchScores(at((d) => VBENCH_NORMALIZE[d].min));
    assertClose([s.total, s.quality, s.semantic], [0, 0, 0], 1e-12);
  });

  test('dynamic degree weighs 0.5 and Quality divides by 6.5', () => {
    // dynamic_degree 0, the rest at Max: Quality = 6/6.5 = 92.307692; Total = (4 x 92.307692 + 100)/5 = 93.846154
    const s = vbenchScores({ ...atMax(), dynamic_degree: 0 });
    assertClose([s.quality, s.semantic, s.total], [92.307692, 100, 93.846154], 1e-8);
  });

  test('Semantic uses the per-dimension min/max', () => {
    // scene 0.4111 = Max/2 -> 0.5; appearance_style at (0.0009 + 0.2855)/2 = 0.1432 -> 0.5
    // Semantic = (7 + 0.5 + 0.5)/9 = 88.888889; Total = (400 + 88.888889)/5 = 97.777778
    const s = vbenchScores({ ...atMax(), scene: 0.4111, appearance_style: 0.1432 });
    assertClose([s.semantic, s.total], [88.888889, 97.777778], 1e-8);
  });

  test("reproduces the paper's CogVideoX-2B rows (Table A1 dimensions -> Tables 2-3 scores)", () => {
    // The 16 per-dimension scores of Table A1 (printed x100) give 80.91 / 82.18 / 75.83, as Table 2 prints.
    const cog2b = {
      subject_consistency: 96.78, background_consistency: 96.63, temporal_flickering: 98.89, motion_smoothness: 97.73,
      dynamic_degree: 59.86, aesthetic_quality: 60.82, imaging_quality: 61.68, object_class: 83.37, multiple_objects: 62.63,
      human_action: 98.0, color: 79.41, spatial_relationship: 69.9, scene: 51.14, appearance_style: 24.8, temporal_style: 24.36,
      overall_consistency: 26.66,
    };
    // Within the tables' printing (2 decimals): |ours - printed| <= 0.01. Ours: 80.9108 / 82.1802 / 75.8330.
    const printed = (s: { total: number; quality: number; semantic: number }, p: number[]) =>
      [s.total, s.quality, s.semantic].forEach((v, i) => assert.ok(Math.abs(v - p[i]!) <= 0.01, `${v} vs printed ${p[i]}`));
    printed(vbenchScores(at((d) => cog2b[d] / 100)), [80.91, 82.18, 75.83]);
    // Third iteration: 82.74 / 83.92 / 78.00 (Table 2; its dimensions are the KTO_3 row of Table A1)
    const it3 = { ...cog2b, subject_consistency: 96.79, background_consistency: 97.48, temporal_flickering: 99.35, motion_smoothness: 98.17,
      dynamic_degree: 69.46, aesthetic_quality: 62.28, imaging_quality: 62.87, object_class: 85.77, multiple_objects: 63.51, human_action: 99.03,
      color: 82.33, spatial_relationship: 70.23, scene: 54.41, appearance_style: 25.48, temporal_style: 25.39, overall_consistency: 27.66 };
    // Ours: 82.7427 / 83.9284 / 78.0001 (the paper prints Quality truncated, 83.92)
    printed(vbenchScores(at((d) => it3[d] / 100)), [82.74, 83.92, 78.0]);
  });

  test('no clipping: a score below Min normalises below 0, as in cal_final_score.py', () => {
    // subject_consistency 0.1462 - 0.1 x (1 - 0.1462) = 0.06082 -> -0.1 normalised
    // Quality = (5 x 1 + 0.5 x 1 - 0.1)/6.5 = 5.4/6.5 = 83.076923
    const s = vbenchScores({ ...atMax(), subject_consistency: 0.1462 - 0.08538 });
    assertClose(s.quality, 83.076923, 1e-8);
  });

  test('a missing, out-of-range, NaN or unknown dimension is an error naming it', () => {
    const { scene: _scene, ...noScene } = atMax();
    assert.throws(() => vbenchScores(noScene as Record<VBenchDimension, number>), /vbenchScores: missing dimension scene/);
    assert.throws(() => vbenchScores({ ...atMax(), color: 1.2 }), /vbenchScores: color must be a raw score in \[0, 1\], got 1.2/);
    assert.throws(() => vbenchScores({ ...atMax(), color: 79.41 }), /color must be a raw score in \[0, 1\]/);
    assert.throws(() => vbenchScores({ ...atMax(), human_action: NaN }), /human_action must be a raw score in \[0, 1\], got NaN/);
    assert.throws(() => vbenchScores({ ...atMax(), dynamic_degree: -0.01 }), /dynamic_degree/);
    assert.throws(() => vbenchScores({ ...atMax(), 'imaging quality': 0.5 } as Record<VBenchDimension, number>), /unknown dimension "imaging quality"/);
  });
});
