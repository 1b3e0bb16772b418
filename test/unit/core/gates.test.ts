// gates.ts: the critic gate (appendix C), the eval gate and abnormal-loss rule (section 3.3), and the
// saturation stop (appendix D).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { abnormalLoss, criticGate, evalGate, saturationStop } from '../../../lib/core/gates';

describe('criticGate', () => {
  test('accepts agreement >= threshold (0.75 itself passes), rejects below and NaN', () => {
    assert.equal(criticGate({ agreement: 0.75, threshold: 0.75 }).accepted, true);
    assert.equal(criticGate({ agreement: 0.8133, threshold: 0.75 }).accepted, true);
    const low = criticGate({ agreement: 0.7499, threshold: 0.75 });
    assert.equal(low.accepted, false);
    assert.match(low.reason, /74.99% < threshold 75.00%/);
    assert.match(criticGate({ agreement: NaN, threshold: 0.75 }).reason, /not a number/);
  });
});

describe('evalGate', () => {
  test('no champion accepts; a drop within tolerance accepts; beyond it rejects', () => {
    assert.deepEqual(evalGate({ total: 80.91, tolerance: 0.1 }).accepted, true);
    // 82.74 - 82.33 = 0.41 > 0.1: the paper's "no critic update" regression (Table 6)
    const r = evalGate({ total: 82.33, championTotal: 82.74, tolerance: 0.1 });
    assert.equal(r.accepted, false);
    assert.ok(Math.abs(r.delta + 0.41) < 1e-9);
    assert.equal(evalGate({ total: 82.69, championTotal: 82.74, tolerance: 0.1 }).accepted, true);
    assert.equal(evalGate({ total: NaN, championTotal: 82.74, tolerance: 0.1 }).accepted, false);
  });
});

describe('evalGate with the paired standard error', () => {
  test('a gain must reach k standard errors (less the tolerance); without an error the tolerance rule decides', () => {
    // +0.30 with a standard error of 0.25: one standard error is reached, two are not
    const one = evalGate({ total: 58.4, championTotal: 58.1, tolerance: 0, standardError: 0.25, minStandardErrors: 1 });
    assert.equal(one.accepted, true);
    assert.match(one.reason, /\+0\.30 ± 0\.25 standard error/);
    assert.match(one.reason, /reaches 1 standard error\(s\): needs \+0\.25/);
    const two = evalGate({ total: 58.4, championTotal: 58.1, tolerance: 0, standardError: 0.25, minStandardErrors: 2 });
    assert.equal(two.accepted, false);
    assert.match(two.reason, /below 2 standard error\(s\): needs \+0\.50/);
    // the tolerance lowers the bar: 2 x 0.25 - 0.2 = 0.30 is reached by +0.31, not by +0.29
    assert.equal(evalGate({ total: 58.41, championTotal: 58.1, tolerance: 0.2, standardError: 0.25, minStandardErrors: 2 }).accepted, true);
    assert.equal(evalGate({ total: 58.39, championTotal: 58.1, tolerance: 0.2, standardError: 0.25, minStandardErrors: 2 }).accepted, false);
    // k = 0 is the paper's gate: the error is only reported
    const plain = evalGate({ total: 58.0, championTotal: 58.1, tolerance: 0, standardError: 0.25 });
    assert.equal(plain.accepted, false);
    assert.match(plain.reason, /-0\.10 ± 0\.25/);
    // no (or a broken) standard error: the tolerance rule, said plainly
    for (const standardError of [undefined, Number.NaN]) {
      const r = evalGate({ total: 58.2, championTotal: 58.1, tolerance: 0, minStandardErrors: 1, ...(standardError === undefined ? {} : { standardError }) });
      assert.equal(r.accepted, true);
      assert.match(r.reason, /no paired standard error/);
    }
  });
});

describe('abnormalLoss', () => {
  test('NaN/Inf always abnormal; maxLoss and divergence rules', () => {
    assert.equal(abnormalLoss([0.5, NaN]).abnormal, true);
    assert.equal(abnormalLoss([0.5, Infinity]).abnormal, true);
    assert.equal(abnormalLoss([]).abnormal, false);
    assert.equal(abnormalLoss([0.7, 0.6, 0.5]).abnormal, false);
    assert.equal(abnormalLoss([0.7, 2.5], { maxLoss: 2 }).abnormal, true);
    // window 2: first mean (0.6+0.6)/2 = 0.6, last mean (1.4+1.6)/2 = 1.5 > 2 x 0.6 = 1.2 -> diverged
    assert.equal(abnormalLoss([0.6, 0.6, 1.4, 1.6], { divergenceFactor: 2, window: 2 }).abnormal, true);
    assert.equal(abnormalLoss([0.6, 0.6, 0.5, 0.4], { divergenceFactor: 2, window: 2 }).abnormal, false);
  });
});

describe('saturationStop', () => {
  test("stops once each of the last `patience` gains is below epsilon (appendix D's 88.32 -> 88.33)", () => {
    assert.equal(saturationStop([84.26, 86.28, 88.32, 88.33], { epsilon: 0.05, patience: 1 }).stop, true);
    assert.equal(saturationStop([84.26, 86.28, 88.32, 88.33], { epsilon: 0.05, patience: 2 }).stop, false);
    assert.equal(saturationStop([84.26], { epsilon: 0.05, patience: 1 }).stop, false);
    // A drop counts as below epsilon too
    assert.equal(saturationStop([80, 81, 80.5, 80.6], { epsilon: 0.2, patience: 2 }).stop, true);
  });
});
