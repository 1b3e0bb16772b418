// The bootstrap cache's id: default settings keep the id their caches were written under, and each
// switch that changes the models gets its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCacheId, resolveSizes } from '../../../lib/stages/builtin/bootstrap';
import { readParams } from '../../../lib/stages/params';
import type { StageRequest } from '../../../lib/stages/contract';

const sizesOf = (params: Record<string, unknown>) => resolveSizes(readParams('bootstrap', { request: { stage: 'bootstrap', round: 0, params } as StageRequest }));

describe('bootstrap cache id', () => {
  test('the quickstart of seed 1 keeps its id: a switch left at its default does not change it', () => {
    // Perception version 2 (2026-11-27, the still camera); under version 1 the id was 264fb6fe0d498f3a6516.
    assert.equal(bootstrapCacheId('1', sizesOf({ size: 'quickstart' })), 'cf38310afcb913e90f68');
    assert.equal(bootstrapCacheId('1', sizesOf({ size: 'quickstart', criticVision: 'statistics', humanEvidence: 'clipped' })), 'cf38310afcb913e90f68', 'the defaults named explicitly');
  });

  test('the critic tower and the panel evidence each change the id alone', () => {
    const ids = [{}, { criticVision: 'detector' }, { humanEvidence: 'graded' }, { criticVision: 'detector', humanEvidence: 'graded' }].map((extra) => bootstrapCacheId('1', sizesOf({ size: 'quickstart', ...extra })));
    assert.equal(new Set(ids).size, 4, ids.join(' '));
    assert.throws(() => sizesOf({ size: 'quickstart', humanEvidence: 'lenient' }), /humanEvidence/);
  });
});
