// The golden fixture of the PyTorch port (python/tests/golden/losses.json) against lib/core: recomputed
// here by scripts/golden-losses.ts, so a change to lib/core that the fixture (and thus the Python
// losses checked against it) does not follow fails this test. Regenerate with
// `node --import tsx scripts/golden-losses.ts`, then run the Python tests (python/README.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GOLDEN_PATH, goldenLosses } from '../../../scripts/golden-losses';

/** Same structure; numbers equal within `tol` (relative to max(1, |expected|)); the path names the first difference. */
function assertSame(actual: unknown, expected: unknown, tol: number, path = '$'): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${path}: ${JSON.stringify(actual)} is not a number`);
    assert.ok(Math.abs((actual as number) - expected) <= tol * Math.max(1, Math.abs(expected)), `${path}: lib/core gives ${actual}, the fixture has ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${path}: length ${(actual as unknown[])?.length} != ${expected.length}`);
    expected.forEach((e, i) => assertSame((actual as unknown[])[i], e, tol, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: keys differ`);
    for (const [k, e] of Object.entries(expected)) assertSame((actual as Record<string, unknown>)[k], e, tol, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

describe('golden fixture of the losses (python/tests/golden/losses.json)', () => {
  test('lib/core recomputes every value of the committed fixture', async () => {
    const fixture = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8'));
    const fresh = JSON.parse(JSON.stringify(await goldenLosses()));
    assertSame(fresh, fixture, 1e-9);
  });

  test('the fixture covers every ported function and holds the values by hand', () => {
    const g = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8'));
    for (const key of ['noisePredictionMse', 'dpo', 'pce', 'srpo', 'diffusionDpo', 'diffusionKto', 'vote', 'jackknife', 'vbench', 'vbenchPartial', 'preferencePairs', 'ktoSplit']) assert.ok(g[key].length > 0, key);
    // DPO pair 0 at beta 0.1: h = 0.25 - (-0.25) = 0.5, loss = softplus(-0.05)
    assert.ok(Math.abs(g.dpo[0].out.perSample[0] - Math.log1p(Math.exp(-0.05))) < 1e-6);
    // SRPO weighs DPO by the detached PCE = sigma(beta (R - Q)): d loss / d refChosen is then -d loss / d policyChosen
    const s = g.srpo[0];
    s.out.perSample.forEach((v: number, i: number) => assert.ok(Math.abs(v - s.out.pce[i] * g.dpo[0].out.perSample[i]) < 1e-6, `srpo[${i}]`));
    s.grads[0].forEach((v: number, i: number) => assert.ok(Math.abs(v + s.grads[2][i]) < 1e-7, `grad[${i}]`));
    // a tie goes to the answer seen first
    assert.deepEqual(g.vote[1].out, { answer: 'B', share: 0.5, margin: 0, tied: true });
  });
});
