// `dual-ipo history`'s text: the audit of round manifests as a user reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHistory } from '../../../lib/cli/campaign-commands';
import type { RoundManifest } from '../../../lib/artifacts/manifest';

const ref = (uri: string) => ({ uri, sha256: 'ab'.repeat(32), size: 10 });

test('history lists each stage with its first figures and always the pairs\' benchmark check', () => {
  const pceMetrics = { kept: 100, total: 128, keptShare: 0.78125, q: 0.1, pceMean: 0.6, rewardChosenMean: 0.2, gapMean: 0.3, points: 40, desirable: 20, benchmarkAgreement: 0.5234, benchmarkChosenTotal: 58.123, benchmarkRejectedTotal: 57.9 };
  const manifest = {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: 'c',
    round: 1,
    status: 'accepted',
    reason: 'eval gate',
    configHash: 'f'.repeat(64),
    codeVersion: '0.1.0',
    inputs: {},
    outputs: { preferences: ref('file:///s/campaigns/c/round-0001/pceFilter/preferences.json') },
    generator: { before: 'g0', after: 'g1', accepted: true },
    critic: { before: 'c0', after: 'c0', refined: false, accepted: false },
    gates: [{ gate: 'eval', round: 1, accepted: true, reason: 'Total 58.5 vs 58.2', figures: { total: 58.5 } }],
    rollbacks: [],
    stages: [{ stage: 'pceFilter', step: 'relabel', seconds: 5.5, reused: false, startedAt: '2026-01-01T00:00:00Z', metrics: pceMetrics }],
    evaluation: { total: 58.5, quality: 66, semantic: 28 },
    championEvaluation: { total: 58.2, quality: 65, semantic: 29 },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:02:00Z',
  } as unknown as RoundManifest;
  const text = formatHistory('c', { campaignId: 'c', workflowStatus: 'COMPLETED', activities: [] }, [manifest]);
  const line = text.split('\n').find((l) => l.includes('stage pceFilter-relabel'))!;
  assert.match(line, /5\.5s {2}kept=100 total=128 keptShare=0\.7813 q=0\.1000 pceMean=0\.6000 rewardChosenMean=0\.2000 benchmarkAgreement=0\.5234 benchmarkChosenTotal=58\.1230 benchmarkRejectedTotal=57\.9000$/);
  assert.doesNotMatch(line, /gapMean|points|desirable/, 'past the first six, only the benchmark check');
  assert.match(text, /gate eval: ACCEPTED {2}total=58\.5000/);
});

test('history shows a sharded stage\'s fan-out: shards, attempts, retries and workers', () => {
  const manifest = {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: 'c',
    round: 1,
    status: 'accepted',
    reason: 'eval gate',
    configHash: 'f'.repeat(64),
    codeVersion: '0.1.0',
    inputs: {},
    outputs: {},
    generator: { before: 'g0', after: 'g1', accepted: true },
    critic: { before: 'c0', after: 'c0', refined: false },
    gates: [],
    rollbacks: [],
    stages: [
      { stage: 'sample', seconds: 30, reused: false, startedAt: '2026-01-01T00:00:00Z', metrics: { videos: 80 }, shards: { count: 10, shardSize: 1, maxParallel: 4, attempts: 12, retried: 2, reused: 1, hosts: { 'w1@a': 6, 'w2@b': 4 }, ledger: ref('file:///s/campaigns/c/round-0001/sample/shards.json') } },
      { stage: 'pceFilter', seconds: 5, reused: false, startedAt: '2026-01-01T00:01:00Z', metrics: {} },
    ],
    evaluation: null,
    championEvaluation: { total: 58.2, quality: 65, semantic: 29 },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:02:00Z',
  } as unknown as RoundManifest;
  const lines = formatHistory('c', { campaignId: 'c', workflowStatus: 'COMPLETED', activities: [] }, [manifest]).split('\n');
  const at = lines.findIndex((l) => l.includes('stage sample'));
  assert.equal(lines[at + 1], '    10 shards of 1 prompts, at most 4 in flight: 12 attempts, 2 retried, 1 reused; workers w1@a:6 w2@b:4; ledger file:///s/campaigns/c/round-0001/sample/shards.json');
  assert.match(lines[at + 2]!, /stage pceFilter/, 'an unsharded stage has no fan-out line');
});

test('history names a critic update rolled back after the eval gate failed, and gives the rollback its line', () => {
  const manifest = {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: 'c',
    round: 2,
    status: 'rejected',
    reason: 'Total 69.00 < champion 72.00',
    configHash: 'f'.repeat(64),
    codeVersion: '0.1.0',
    inputs: {},
    outputs: {},
    generator: { before: 'g1', after: 'g1', accepted: false },
    critic: { before: 'c1', after: 'c1', refined: true, accepted: true },
    gates: [
      { gate: 'critic', round: 2, accepted: true, reason: 'agreement 0.80 >= 0.75', figures: { agreementPairwise: 0.8 } },
      { gate: 'eval', round: 2, accepted: false, reason: 'Total 69.00 < champion 72.00', figures: { total: 69 } },
    ],
    rollbacks: [
      { what: 'generator', from: 'g2', to: 'g1', reason: 'Total 69.00 < champion 72.00' },
      { what: 'critic', from: 'c2', to: 'c1', reason: 'eval gate rejected the round after the critic update: Total 69.00 < champion 72.00' },
    ],
    stages: [],
    evaluation: { total: 69, quality: 70, semantic: 65 },
    championEvaluation: { total: 72, quality: 73, semantic: 68 },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:02:00Z',
  } as unknown as RoundManifest;
  const lines = formatHistory('c', { campaignId: 'c', workflowStatus: 'COMPLETED', activities: [] }, [manifest]).split('\n');
  assert.ok(lines.includes('round 2: REJECTED  generator g1 -> g1  critic c1 -> c1 (c2 rolled back)  Total 69.00'), lines.join('\n'));
  assert.ok(lines.includes('  rollback critic: c2 -> c1 (eval gate rejected the round after the critic update: Total 69.00 < champion 72.00)'));
});
