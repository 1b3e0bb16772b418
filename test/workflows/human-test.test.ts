// The human test set refreshed from the champion's candidates (workflows/human-test.ts) on the
// time-skipping server with scripted activities: the simulated panel's labels go through the same
// update path as a person's, a refused file keeps the wait going, a timeout keeps the previous set or
// fails the critic gate, and the wait shows in the status query.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignInput } from '../../workflows/definitions';
import { dualIpoCampaign } from '../../workflows/campaign';
import { humanLabelsStatusQuery, humanTestWorkflowId, submitHumanLabelsUpdate } from '../../workflows/human-test-definitions';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { fakeActivities, type Script } from '../helpers/fake-activities';

const QUEUE = 'wf-human-test';
let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

function config(overrides: Record<string, any> = {}) {
  const stages = Object.fromEntries(
    ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [
      s,
      // The export reads the builtin sample stage's candidates (the config refuses a command sampler).
      s === 'sample' ? { taskQueue: QUEUE, maxAttempts: 1 } : { backend: 'command', command: ['true'], taskQueue: QUEUE, maxAttempts: 1 },
    ]),
  );
  return parseConfig({ ...overrides, campaign: { id: `h-${randomUUID().slice(0, 8)}`, ...(overrides.campaign ?? {}) }, stages, temporal: { taskQueue: QUEUE } });
}

async function runCampaign(script: Script, cfg: ReturnType<typeof config>, during?: (workflowId: string) => Promise<void>) {
  const { activities, recorded } = fakeActivities(script);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities });
  const input: CampaignInput = { config: cfg, configHash: 'test-hash', store: { root: 'file:///fake' } };
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
    if (during) await during(handle.workflowId);
    return handle.result();
  });
  return { result, recorded };
}

const validateInputs = (recorded: Awaited<ReturnType<typeof runCampaign>>['recorded']) =>
  recorded.calls.filter((c) => c.activity === 'validate').map((c) => [c.round, (c.input as any).inputs.humanTest.uri]);

async function awaitingLabels(campaignId: string, round: number) {
  const handle = env.client.workflow.getHandle(humanTestWorkflowId(campaignId, round));
  for (let i = 0; i < 300; i++) {
    const view = await handle.query(humanLabelsStatusQuery).catch(() => undefined);
    if (view?.phase === 'awaiting-labels') return { handle, view };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the round never waited for labels');
}

before(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
});

after(async () => {
  await env?.teardown();
});

describe('human test set from the champion', () => {
  test('simulated panel: refreshed when the champion changes, through the same ingest; the gate validates on it', async () => {
    const cfg = config({ campaign: { maxRounds: 3 }, humanTest: { source: 'champion', pairs: 12 } });
    // Round 2 is rejected: the champion stays g1, so round 3 keeps round 2's set.
    const { result, recorded } = await runCampaign({ totals: [70, 72, 71, 74] }, cfg);
    assert.equal(result.rounds, 3);
    assert.deepEqual(validateInputs(recorded), [
      [1, 'file:///fake/human-test-from-simulated-labels-1'],
      [2, 'file:///fake/human-test-from-simulated-labels-2'],
      [3, 'file:///fake/human-test-from-simulated-labels-2'],
    ]);
    const exports = recorded.calls.filter((c) => c.activity === 'exportHumanTestPairs').map((c) => c.input as any);
    assert.deepEqual(exports.map((e) => [e.round, e.generator.version, e.pairs, e.samples.uri, e.preferences.uri]), [
      [1, 'g0', 12, 'file:///fake/samples-1', 'file:///fake/prefs-1-'],
      [2, 'g1', 12, 'file:///fake/samples-2', 'file:///fake/prefs-2-'],
    ]);
    const ingests = recorded.calls.filter((c) => c.activity === 'ingestHumanTestLabels').map((c) => c.input as any);
    assert.ok(ingests.every((i) => i.base.uri === 'file:///fake/boot-humanTest' && i.fixedShare === 0.5), 'the fixed part always comes from the bootstrap set');
    const [m1, m2, m3] = recorded.manifests.sort((a, b) => a.round - b.round);
    assert.equal(m1.humanTest.refreshed, true);
    assert.equal(m1.humanTest.by, 'simulated panel');
    assert.equal(m1.outputs.humanTest.uri, 'file:///fake/human-test-from-simulated-labels-1');
    assert.equal(m2.status, 'rejected');
    assert.equal(m3.humanTest.refreshed, false);
    assert.equal(m3.humanTest.humanTest.uri, 'file:///fake/human-test-from-simulated-labels-2');
  });

  test('external annotators: a refused file keeps the wait going (named in status); a valid one is ingested and used by the gate', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, humanTest: { source: 'champion', annotators: 'external', timeout: '7d' } });
    const bad = { uri: 'file:///fake/labels-bad.jsonl', sha256: 'a'.repeat(64), size: 10 };
    const good = { uri: 'file:///fake/labels-good.jsonl', sha256: 'b'.repeat(64), size: 10 };
    const script: Script = { totals: [70, 72], invalidLabels: (uri) => (uri === bad.uri ? 'labels-bad.jsonl: 1 problem, nothing ingested:\n  line 3: unknown pair "x"' : undefined) };
    const { recorded } = await runCampaign(script, cfg, async (id) => {
      const { handle, view } = await awaitingLabels(id, 1);
      assert.equal(view.annotators, 'external');
      assert.equal(view.generator, 'g0');
      assert.equal(view.export?.folder, 'file:///fake/round-1/human-test/export/');
      assert.ok(view.waitingSince && view.deadline && Date.parse(view.deadline) - Date.parse(view.waitingSince) === 7 * 24 * 3600 * 1000);
      await assert.rejects(handle.executeUpdate(submitHumanLabelsUpdate, { args: [{ labels: bad, by: 'ana' }] }), (err: Error) => {
        assert.match(String((err.cause as Error | undefined)?.message), /line 3: unknown pair "x"/);
        return true;
      });
      const after = await handle.query(humanLabelsStatusQuery);
      assert.equal(after.phase, 'awaiting-labels');
      assert.match(after.refused[0]!.error, /unknown pair/);
      assert.equal(after.refused[0]!.by, 'ana');
      const receipt = await handle.executeUpdate(submitHumanLabelsUpdate, { args: [{ labels: good, by: 'ana' }] });
      assert.equal(receipt.humanTest.uri, 'file:///fake/human-test-from-labels-good.jsonl');
    });
    assert.ok(!recorded.calls.some((c) => c.activity === 'simulatedHumanLabels'));
    assert.deepEqual(validateInputs(recorded), [[1, 'file:///fake/human-test-from-labels-good.jsonl']]);
    const m1 = recorded.manifests[0]!;
    assert.equal(m1.humanTest.by, 'ana');
    assert.equal(m1.humanTest.refused, 1);
    assert.equal(m1.outputs.humanLabels.uri, good.uri);
  });

  test('timeout, keep-previous: the gate validates on the previous (bootstrap) set, the manifest records the timeout', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, humanTest: { source: 'champion', annotators: 'external', timeout: '3d', reminderEvery: '1d' } });
    const { recorded } = await runCampaign({ totals: [70, 72] }, cfg);
    assert.deepEqual(validateInputs(recorded), [[1, 'file:///fake/boot-humanTest']]);
    const m1 = recorded.manifests[0]!;
    assert.equal(m1.humanTest.timedOut, true);
    assert.equal(m1.humanTest.onTimeout, 'keep-previous');
    assert.match(m1.humanTest.reason, /no valid human labels within 3d/);
    assert.equal(m1.critic.refined, true);
  });

  test('timeout, fail-gate: no critic update this round, a failed critic gate is recorded', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, humanTest: { source: 'champion', annotators: 'external', timeout: '2h', onTimeout: 'fail-gate' } });
    const { result, recorded } = await runCampaign({ totals: [70, 72] }, cfg);
    assert.ok(!recorded.calls.some((c) => c.activity === 'criticTrain' || c.activity === 'validate'));
    const gate = recorded.manifests[0]!.gates.find((g: any) => g.gate === 'critic');
    assert.equal(gate.accepted, false);
    assert.match(gate.reason, /critic gate failed: no valid human labels within 2h/);
    assert.equal(result.champion.critic, 'c0');
    assert.equal(result.champion.generator, 'g1', 'the generator still trains on the champion critic\'s labels');
  });

  test('source renders (or no humanTest section): no export, the bootstrap set every round', async () => {
    const cfg = config({ campaign: { maxRounds: 2 } });
    const { recorded } = await runCampaign({ totals: [70, 72, 74] }, cfg);
    assert.ok(!recorded.calls.some((c) => c.activity === 'exportHumanTestPairs'));
    assert.deepEqual(validateInputs(recorded), [[1, 'file:///fake/boot-humanTest'], [2, 'file:///fake/boot-humanTest']]);
  });
});
