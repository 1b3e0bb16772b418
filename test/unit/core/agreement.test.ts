// Critic vs human agreement (appendix C) feeding criticGate's 0.75 threshold.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pairwiseAgreement, pointwiseAgreement, type PairwiseLabel } from '../../../lib/core/agreement';
import { criticGate } from '../../../lib/core/gates';

describe('pairwiseAgreement', () => {
  test('hand vector: human ties excluded, critic ties on decided pairs are misses', () => {
    const critic: PairwiseLabel[] = ['A', 'B', 'A', 'tie', 'B', 'A'];
    const human: PairwiseLabel[] = ['A', 'B', 'B', 'A', 'tie', 'A'];
    // counted: indices 0, 1, 2, 3, 5 (4 is a human tie) -> 5; agreed: 0, 1, 5 -> 3; 3/5 = 0.6
    assert.deepEqual(pairwiseAgreement(critic, human), { agreement: 0.6, agreed: 3, counted: 5, excluded: 1 });
  });

  test('drives the 0.75 gate: 3/4 passes, 2/3 does not', () => {
    const pass = pairwiseAgreement(['A', 'B', 'A', 'A'], ['A', 'B', 'A', 'B']);
    assert.equal(pass.agreement, 0.75);
    assert.equal(criticGate({ agreement: pass.agreement, threshold: 0.75 }).accepted, true);
    const fail = pairwiseAgreement(['A', 'B', 'B'], ['A', 'B', 'A']);
    assert.equal(criticGate({ agreement: fail.agreement, threshold: 0.75 }).accepted, false);
  });

  test('empty or all-tie sets give NaN, which the gate rejects', () => {
    for (const r of [pairwiseAgreement([], []), pairwiseAgreement(['A', 'tie'], ['tie', 'tie'])]) {
      assert.ok(Number.isNaN(r.agreement));
      assert.equal(r.counted, 0);
      assert.equal(criticGate({ agreement: r.agreement, threshold: 0.75 }).accepted, false);
    }
  });

  test('length mismatch and unknown labels are errors', () => {
    assert.throws(() => pairwiseAgreement(['A'], ['A', 'B']), /pairwiseAgreement: critic has 1 labels but human has 2/);
    assert.throws(() => pairwiseAgreement(['a' as PairwiseLabel], ['A']), /critic\[0\] is "a", expected 'A', 'B' or 'tie'/);
    assert.throws(() => pairwiseAgreement(['A'], [null as unknown as PairwiseLabel]), /human\[0\] is null/);
  });
});

describe('pointwiseAgreement', () => {
  test('hand vector: exact match over human-labelled items', () => {
    // counted: 0, 1, 2, 4 (3 unlabelled) -> 4; agreed: 0, 2 -> 2; 2/4 = 0.5
    assert.deepEqual(pointwiseAgreement(['good', 'bad', 'normal', 'good', 'bad'], ['good', 'normal', 'normal', null, 'good']), {
      agreement: 0.5,
      agreed: 2,
      counted: 4,
      excluded: 1,
    });
    // Integer grades: 3/3
    assert.equal(pointwiseAgreement([1, 2, 3], [1, 2, 3]).agreement, 1);
  });

  test('no labelled item gives NaN; NaN grades and mismatches are errors', () => {
    assert.ok(Number.isNaN(pointwiseAgreement(['good'], [null]).agreement));
    assert.ok(Number.isNaN(pointwiseAgreement([], []).agreement));
    assert.throws(() => pointwiseAgreement([1, NaN], [1, 2]), /pointwiseAgreement: critic contains NaN at index 1/);
    assert.throws(() => pointwiseAgreement([1], [1, 2]), /critic has 1 labels but human has 2/);
  });
});
