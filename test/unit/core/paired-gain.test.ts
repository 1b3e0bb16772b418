import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { pairedGain } from '../../../lib/core';

describe('pairedGain', () => {
  test('mean difference and its standard error, by hand', () => {
    // differences 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14/3
    const g = pairedGain([10, 10, 10, 10], [11, 12, 13, 16]);
    assert.equal(g.gain, 3);
    assert.ok(Math.abs(g.standardError - Math.sqrt(14 / 3 / 4)) < 1e-12);
    assert.equal(g.n, 4);
  });

  test('shared noise cancels: a constant shift has no uncertainty, however noisy the scores', () => {
    const base = [50, 61, 47, 58, 66, 52];
    const g = pairedGain(base, base.map((v) => v + 0.5));
    assert.ok(Math.abs(g.gain - 0.5) < 1e-12);
    assert.ok(g.standardError < 1e-12);
  });

  test('refuses unpaired or unusable input by name', () => {
    assert.throws(() => pairedGain([1, 2, 3], [1, 2]), /baseline has 3 scores, candidate 2/);
    assert.throws(() => pairedGain([1], [2]), /at least 2 paired scores/);
    assert.throws(() => pairedGain([1, NaN], [2, 3]), /score 1 is not a finite number/);
  });
});
