// The simulated user study: the panel's pairwise verdicts of one set of videos against another on
// the same prompts, with a standard error over prompts.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { jackknifeGain } from '../../../lib/core/paired-gain';
import { makePanel, panelView } from '../../../lib/world/annotators';
import { CORRUPTIONS, renderCorrupted } from '../../../lib/world/corruptions';
import { samplePrompts } from '../../../lib/world/prompts';
import { renderVideo } from '../../../lib/world/render';
import { userStudy, type StudyPair } from '../../../lib/world/user-study';

const panel = makePanel({ seed: 'study-test', evidence: 'graded' });
// 12 prompts, 2 videos each: a clean render and a visibly defective one of the same prompt.
const prompts = samplePrompts({ count: 12, seed: 'user-study' });
const videos = prompts.flatMap((p, k) =>
  [0, 1].map((s) => ({
    spec: p.spec,
    cluster: k,
    clean: panelView(panel, p.spec, { video: renderVideo(p.spec, { seed: `${k}/${s}` }) }),
    defective: panelView(panel, p.spec, { video: renderCorrupted(p.spec, CORRUPTIONS[(2 * k + s) % CORRUPTIONS.length]!, { seed: `${k}/${s}`, severity: 0.8 }).video }),
  })),
);
const pairs = (candidate: 'clean' | 'defective', base: 'clean' | 'defective'): StudyPair[] => videos.map((v) => ({ spec: v.spec, cluster: v.cluster, candidate: v[candidate], base: v[base] }));

describe('user study', () => {
  test('clean renders win against defective ones of the same prompts, and lose the other way round', () => {
    const better = userStudy(panel, pairs('clean', 'defective'));
    assert.equal(better.pairs, 24);
    assert.equal(better.wins + better.losses + better.ties, 24);
    assert.ok(better.wins > 2 * better.losses, `clean vs defective: ${better.wins} wins, ${better.losses} losses`);
    assert.equal(better.net, (better.wins - better.losses) / 24);
    assert.ok(better.net > 2 * better.standardError!, `net ${better.net} ± ${better.standardError}`);
    const worse = userStudy(panel, pairs('defective', 'clean'));
    assert.ok(worse.net < -2 * worse.standardError!, `defective vs clean: net ${worse.net} ± ${worse.standardError}`);
    // Per dimension: counted from the candidate's side, so swapping the sides swaps wins and losses
    // up to the annotators' noise (their slips are drawn per ordered pair).
    for (const d of ['semantic', 'motion', 'faithfulness'] as const) {
      const b = better.dimensions[d];
      assert.equal(b.wins + b.losses + b.ties, 24);
    }
    assert.ok(better.dimensions.faithfulness.wins + better.dimensions.motion.wins > worse.dimensions.faithfulness.wins + worse.dimensions.motion.wins);
  });

  test('a generator against itself ties every pair; the error is the jackknife over prompts of the net score', () => {
    const same = userStudy(panel, pairs('clean', 'clean'));
    assert.deepEqual([same.wins, same.losses, same.ties, same.net, same.standardError], [0, 0, 24, 0, 0]);
    const study = userStudy(panel, pairs('clean', 'defective'));
    // The same figure recomputed by hand: per pair +1 / 0 / -1 from the dimension balance, one cluster per prompt.
    const verdicts = pairs('clean', 'defective').map((p) => {
      const one = userStudy(panel, [p]);
      return one.wins - one.losses;
    });
    const expected = jackknifeGain(12, (leftOut) => {
      const kept = verdicts.filter((_, i) => Math.floor(i / 2) !== leftOut);
      return kept.reduce((a, v) => a + v, 0) / kept.length;
    });
    assert.equal(study.net, expected.gain);
    assert.ok(Math.abs(study.standardError! - expected.standardError) < 1e-12);
    assert.equal(userStudy(panel, pairs('clean', 'defective').slice(0, 2)).standardError, undefined, 'one prompt: no error over prompts');
    assert.throws(() => userStudy(panel, []), /no pairs/);
  });
});
