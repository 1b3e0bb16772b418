// The bootstrap cache's id: default settings keep the id their caches were written under, and each
// switch that changes the models gets its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCacheId, bootstrapSeed, resolveSizes } from '../../../lib/stages/builtin/bootstrap';
import { readParams } from '../../../lib/stages/params';
import type { StageRequest } from '../../../lib/stages/contract';

const sizesOf = (params: Record<string, unknown>) => resolveSizes(readParams('bootstrap', { request: { stage: 'bootstrap', round: 0, params } as StageRequest }));

describe('bootstrap cache id', () => {
  test('the quickstart of seed 1 keeps its id: a switch left at its default does not change it', () => {
    // Models version 2 (issue 18): decoded videos interpolate the tubelets' keyframes, which changes
    // the generator samples in the human sets, and the panel reads the evidence graded by default;
    // under models version 1 (perception version 2) the quickstart's id was cf38310afcb913e90f68.
    assert.equal(bootstrapCacheId('1', sizesOf({ size: 'quickstart' })), 'b67d45ecd9d7a9ecebcf');
    assert.equal(bootstrapCacheId('1', sizesOf({ size: 'quickstart', criticVision: 'statistics', humanEvidence: 'graded' })), 'b67d45ecd9d7a9ecebcf', 'the defaults named explicitly');
    assert.equal(bootstrapCacheId('1', sizesOf({ size: 'quickstart', humanEvidence: 'clipped' })), '92347de3ba8b48fc0e08', 'the former default is now a switch');
  });

  test('the critic tower and the panel evidence each change the id alone', () => {
    const ids = [{}, { criticVision: 'detector' }, { criticVision: 'semantic' }, { criticVision: 'semantic', humanEvidence: 'clipped' }, { humanEvidence: 'clipped' }, { criticVision: 'detector', humanEvidence: 'clipped' }].map((extra) => bootstrapCacheId('1', sizesOf({ size: 'quickstart', ...extra })));
    assert.equal(new Set(ids).size, 6, ids.join(' '));
    assert.throws(() => sizesOf({ size: 'quickstart', humanEvidence: 'lenient' }), /humanEvidence/);
  });

  test("param baseSeed gives campaigns of other seeds the same base models (an experiment's shared base)", () => {
    const params = (extra: Record<string, unknown>) => readParams('bootstrap', { request: { stage: 'bootstrap', round: 0, params: { size: 'quickstart', ...extra } as Record<string, unknown> } as StageRequest });
    assert.equal(bootstrapSeed(params({ seed: 2 })), '2');
    assert.equal(bootstrapSeed(params({ seed: 2, baseSeed: 1 })), '1');
    assert.equal(bootstrapCacheId(bootstrapSeed(params({ seed: 5, baseSeed: 1 })), sizesOf({ size: 'quickstart' })), 'b67d45ecd9d7a9ecebcf', 'seed 5 on the seed-1 base: the seed-1 quickstart cache');
    assert.throws(() => params({ seed: 2, baseSeed: 1.5 }), /baseSeed/);
  });
});
