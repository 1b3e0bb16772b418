// pairwiseWinRates (the critic's ranking from pairwise judgements), buildPreferencePairs (top-1 vs
// bottom-1) and splitForKto (pointwise split).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPreferencePairs, pairwiseWinRates, splitForKto } from '../../../lib/core/preferences';

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

describe('pairwiseWinRates', () => {
  test('hand vector: win rate over the answers about each candidate, a tie counting half', () => {
    // 3 candidates, 4 answers per pair:
    //   x vs y: x 3, y 1        x vs z: x 2, z 0, tie 2        y vs z: y 0, z 4
    // x: (3 + 2 + 1) / 8 = 0.75; y: (1 + 0) / 8 = 0.125; z: (0 + 1 + 4) / 8 = 0.625
    const rates = pairwiseWinRates('p', ['x', 'y', 'z'], [
      { a: 'x', b: 'y', aWins: 3, bWins: 1, ties: 0 },
      { a: 'x', b: 'z', aWins: 2, bWins: 0, ties: 2 },
      { a: 'y', b: 'z', aWins: 0, bWins: 4, ties: 0 },
    ]);
    assert.deepEqual(rates, [{ id: 'x', score: 0.75 }, { id: 'y', score: 0.125 }, { id: 'z', score: 0.625 }]);
    // The pair: the most-winning candidate vs the least-winning one, which no pointwise score decides.
    assert.deepEqual(buildPreferencePairs([{ prompt: 'p', candidates: rates }]).map((p) => [p.chosen, p.rejected, p.gap]), [['x', 'y', 0.625]]);
  });

  test('which side a pair lists first does not matter', () => {
    const fwd = pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'y', aWins: 5, bWins: 2, ties: 1 }]);
    const rev = pairwiseWinRates('p', ['x', 'y'], [{ a: 'y', b: 'x', aWins: 2, bWins: 5, ties: 1 }]);
    assert.deepEqual(fwd, rev);
    assert.deepEqual(fwd.map((c) => c.score), [5.5 / 8, 2.5 / 8]);
  });

  test('a lone candidate scores 0.5; an unjudged one among several, unknown ids, self-pairs, bad counts are errors', () => {
    assert.deepEqual(pairwiseWinRates('p', ['x'], []), [{ id: 'x', score: 0.5 }]);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y', 'z'], [{ a: 'x', b: 'y', aWins: 1, bWins: 0, ties: 0 }]), /candidate "z" of prompt "p" is in no judged pair/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'w', aWins: 1, bWins: 0, ties: 0 }]), /names "w", which is not a candidate/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'x', aWins: 1, bWins: 0, ties: 0 }]), /compares a candidate with itself/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'y', aWins: -1, bWins: 0, ties: 0 }]), /aWins -1/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'y', aWins: 0, bWins: NaN, ties: 0 }]), /bWins NaN/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'y'], [{ a: 'x', b: 'y', aWins: 0, bWins: 0, ties: 0 }]), /has no answers/);
    assert.throws(() => pairwiseWinRates('p', ['x', 'x'], []), /duplicate candidate id "x"/);
  });
});
