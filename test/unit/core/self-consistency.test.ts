// selfConsistencyVote: majority vote over k reasoning paths, ScPO share and margin, first-seen ties.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { selfConsistencyVote } from '../../../lib/core/self-consistency';

describe('selfConsistencyVote', () => {
  test('hand vector: k = 8, votes A:5 B:2 tie:1', () => {
    // share = 5/8 = 0.625; margin = (5 - 1)/8 = 0.5 (the lowest answer present is 'tie' with 1 vote)
    assert.deepEqual(selfConsistencyVote(['A', 'B', 'A', 'tie', 'A', 'B', 'A', 'A']), { answer: 'A', share: 0.625, margin: 0.5, tied: false });
  });

  test('two answers: margin = (top - other)/k', () => {
    // B:3, A:1 -> share 3/4, margin (3-1)/4 = 0.5
    assert.deepEqual(selfConsistencyVote(['A', 'B', 'B', 'B']), { answer: 'B', share: 0.75, margin: 0.5, tied: false });
  });

  test('ties: the answer seen first wins, and tied is set', () => {
    // B:2, A:2 -> 'B' was seen first; share 2/4; margin (2-2)/4 = 0
    assert.deepEqual(selfConsistencyVote(['B', 'A', 'A', 'B']), { answer: 'B', share: 0.5, margin: 0, tied: true });
    assert.equal(selfConsistencyVote(['A', 'B', 'B', 'A']).answer, 'A');
    // All different: every answer has 1 vote, the first one wins.
    assert.deepEqual(selfConsistencyVote(['x', 'y', 'z']), { answer: 'x', share: 1 / 3, margin: 0, tied: true });
    // A tie below the top does not make the vote tied: C:2, A:1, B:1
    assert.deepEqual(selfConsistencyVote(['A', 'C', 'B', 'C']), { answer: 'C', share: 0.5, margin: 0.25, tied: false });
  });

  test('unanimous: share 1, margin 0 (no losing answer to pair against, as in ScPO)', () => {
    assert.deepEqual(selfConsistencyVote(['A', 'A', 'A']), { answer: 'A', share: 1, margin: 0, tied: false });
    assert.deepEqual(selfConsistencyVote(['only']), { answer: 'only', share: 1, margin: 0, tied: false });
  });

  test('answers are compared exactly (case and whitespace matter; normalise before voting)', () => {
    assert.equal(selfConsistencyVote(['a', 'A', 'A']).answer, 'A');
  });

  test('no answers or non-strings are errors', () => {
    assert.throws(() => selfConsistencyVote([]), /selfConsistencyVote: no answers/);
    assert.throws(() => selfConsistencyVote(['A', null as unknown as string]), /answers\[1\] is not a string/);
  });
});
