// buildPreferencePairs (top-1 vs bottom-1) and splitForKto (pointwise split).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPreferencePairs, splitForKto } from '../../../lib/core/preferences';

const cands = (scores: Record<string, number>) => Object.entries(scores).map(([id, score]) => ({ id, score }));

describe('buildPreferencePairs', () => {
  test('hand vector: top-1 vs bottom-1 per prompt, gap = difference of scores', () => {
    const pairs = buildPreferencePairs([
      { prompt: 'p1', candidates: cands({ v1: 0.4, v2: 0.9, v3: 0.1, v4: 0.5 }) }, // v2 (0.9) vs v3 (0.1), gap 0.8
      { prompt: 'p2', candidates: cands({ a: 3, b: 1 }) }, // a vs b, gap 2
    ]);
    assert.equal(pairs.length, 2);
    assert.deepEqual({ ...pairs[0], gap: Number(pairs[0]!.gap.toFixed(12)) }, { prompt: 'p1', chosen: 'v2', rejected: 'v3', chosenScore: 0.9, rejectedScore: 0.1, gap: 0.8 });
    assert.deepEqual(pairs[1], { prompt: 'p2', chosen: 'a', rejected: 'b', chosenScore: 3, rejectedScore: 1, gap: 2 });
  });

  test('ties are broken by id (smallest id first), independent of input order', () => {
    // Top tie between 'c' and 'a' -> 'a'; bottom tie between 'b' and 'd' -> the last in (score desc, id asc) order: 'd'
    const scores = { c: 5, b: 1, a: 5, d: 1 };
    const fwd = buildPreferencePairs([{ prompt: 'p', candidates: cands(scores) }]);
    const rev = buildPreferencePairs([{ prompt: 'p', candidates: cands(scores).reverse() }]);
    assert.deepEqual(fwd, rev);
    assert.equal(fwd[0]!.chosen, 'a');
    assert.equal(fwd[0]!.rejected, 'd');
  });

  test('all ties, single candidates and gaps below minGap are dropped', () => {
    const groups = [
      { prompt: 'tied', candidates: cands({ a: 2, b: 2, c: 2 }) },
      { prompt: 'one', candidates: cands({ a: 2 }) },
      { prompt: 'none', candidates: [] },
      { prompt: 'small', candidates: cands({ a: 2, b: 1.5 }) }, // gap 0.5
      { prompt: 'exact', candidates: cands({ a: 2, b: 1 }) }, // gap 1 = minGap: kept
    ];
    assert.deepEqual(buildPreferencePairs(groups, { minGap: 1 }).map((p) => p.prompt), ['exact']);
    assert.deepEqual(buildPreferencePairs(groups).map((p) => p.prompt), ['small', 'exact']);
    assert.deepEqual(buildPreferencePairs([]), []);
  });

  test('NaN scores, duplicate ids and a bad minGap are errors', () => {
    assert.throws(() => buildPreferencePairs([{ prompt: 'p', candidates: cands({ a: 1, b: NaN }) }]), /buildPreferencePairs: scores of prompt "p" contains NaN at index 1/);
    assert.throws(() => buildPreferencePairs([{ prompt: 'p', candidates: [{ id: 'a', score: 1 }, { id: 'a', score: 2 }] }]), /duplicate candidate id "a"/);
    assert.throws(() => buildPreferencePairs([], { minGap: -1 }), /minGap must be >= 0/);
    assert.throws(() => buildPreferencePairs([], { minGap: NaN }), /minGap must be a finite number/);
  });
});

describe('splitForKto', () => {
  const s = (id: string, score: number) => ({ id, prompt: 'p', score });

  test('hand vector: grades 1-5 around threshold 3', () => {
    // 4, 5 > 3 desirable; 1, 2 < 3 undesirable; 3 (= threshold) neutral; input order kept
    const split = splitForKto([s('a', 4), s('b', 1), s('c', 3), s('d', 5), s('e', 2)], { threshold: 3 });
    assert.deepEqual(split.desirable.map((x) => x.id), ['a', 'd']);
    assert.deepEqual(split.undesirable.map((x) => x.id), ['b', 'e']);
    assert.deepEqual(split.neutral.map((x) => x.id), ['c']);
  });

  test('margin widens the neutral band: desirable iff > t + m, undesirable iff < t - m', () => {
    // t 0.5, m 0.1: 0.61 desirable, 0.6 neutral (not > 0.6), 0.4 neutral, 0.39 undesirable
    const split = splitForKto([s('a', 0.61), s('b', 0.6), s('c', 0.4), s('d', 0.39)], { threshold: 0.5, margin: 0.1 });
    assert.deepEqual([split.desirable, split.neutral, split.undesirable].map((g) => g.map((x) => x.id)), [['a'], ['b', 'c'], ['d']]);
  });

  test('empty input, all ties at the threshold, and errors', () => {
    assert.deepEqual(splitForKto([], { threshold: 0 }), { desirable: [], undesirable: [], neutral: [] });
    assert.equal(splitForKto([s('a', 1), s('b', 1)], { threshold: 1 }).neutral.length, 2);
    assert.throws(() => splitForKto([s('a', NaN)], { threshold: 0 }), /splitForKto: scores contains NaN at index 0/);
    assert.throws(() => splitForKto([], { threshold: NaN }), /threshold must be a finite number/);
    assert.throws(() => splitForKto([], { threshold: 0, margin: -1 }), /margin must be >= 0/);
  });
});
