import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { jackknifeGain } from '../../../lib/core';

/** The mean of the per-item differences, without item `leftOut`. */
const meanDifference = (base: number[], cand: number[]) => (leftOut?: number) => {
  const d = base.map((b, i) => cand[i]! - b).filter((_, i) => i !== leftOut);
  return d.reduce((a, x) => a + x, 0) / d.length;
};

describe('jackknifeGain', () => {
  test('for a mean, the jackknife error is the textbook standard error of the mean (by hand)', () => {
    // differences 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14/3, standard error sqrt(14/3/4)
    const g = jackknifeGain(4, meanDifference([10, 10, 10, 10], [11, 12, 13, 16]));
    assert.equal(g.gain, 3);
    assert.ok(Math.abs(g.standardError - Math.sqrt(14 / 3 / 4)) < 1e-12, String(g.standardError));
    assert.equal(g.n, 4);
  });

  test('shared noise cancels: a constant shift has no uncertainty, however noisy the scores', () => {
    const base = [50, 61, 47, 58, 66, 52];
    const g = jackknifeGain(base.length, meanDifference(base, base.map((v) => v + 0.5)));
    assert.ok(Math.abs(g.gain - 0.5) < 1e-12);
    assert.ok(g.standardError < 1e-12);
  });

  test('a ratio statistic: the error follows the difference, not a mean of per-item scores', () => {
    // Weighted means (as VBench averages some dimensions over frames): sum(v w) / sum(w).
    const w = [1, 3, 1, 3, 2];
    const base = [0.5, 0.6, 0.4, 0.7, 0.5];
    const cand = [0.6, 0.6, 0.5, 0.7, 0.9];
    const wmean = (v: number[], leftOut?: number) => {
      let s = 0;
      let n = 0;
      v.forEach((x, i) => i !== leftOut && ((s += x * w[i]!), (n += w[i]!)));
      return s / n;
    };
    const g = jackknifeGain(5, (c) => wmean(cand, c) - wmean(base, c));
    assert.ok(Math.abs(g.gain - 1.0 / 10) < 1e-12); // weighted differences 0.1, 0, 0.1, 0, 0.8 over weight 10
    // leave-one-out differences, by hand: 0.9/9, 1.0/7, 0.9/9, 1.0/7, 0.2/8
    const parts = [0.9 / 9, 1.0 / 7, 0.9 / 9, 1.0 / 7, 0.2 / 8];
    const m = parts.reduce((a, b) => a + b, 0) / 5;
    assert.ok(Math.abs(g.standardError - Math.sqrt((4 / 5) * parts.reduce((a, p) => a + (p - m) ** 2, 0))) < 1e-12);
  });

  test('refuses unusable input by name', () => {
    assert.throws(() => jackknifeGain(1, () => 0), /at least 2 clusters, got 1/);
    assert.throws(() => jackknifeGain(3, (c) => (c === 1 ? Number.NaN : 0)), /without cluster 1 is not a finite number/);
    assert.throws(() => jackknifeGain(3, (c) => (c === undefined ? Number.NaN : 0)), /on all clusters is not a finite number/);
  });
});
