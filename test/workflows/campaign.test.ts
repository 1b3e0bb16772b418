// Workflow logic on the time-skipping test server, with scripted activities.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignInput as _CampaignInput } from '../../workflows/definitions';
import { approveUpdate, roundStatusQuery, roundWorkflowId, statusQuery, stopSignal } from '../../workflows/definitions';
import { dualIpoCampaign } from '../../workflows/campaign';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { fakeActivities, type Script } from '../helpers/fake-activities';

const QUEUE = 'wf-test';
let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

function config(overrides: Record<string, any> = {}) {
  const stages = Object.fromEntries(
    ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [
      s,
      { backend: 'command', command: ['true'], taskQueue: QUEUE, maxAttempts: 1 },
    ]),
  );
  const c = parseConfig({ ...overrides, campaign: { id: `c-${randomUUID().slice(0, 8)}`, ...(overrides.campaign ?? {}) }, stages, temporal: { taskQueue: QUEUE } });
  return c;
}

async function runCampaign(script: Script, cfg: ReturnType<typeof config>, during?: (workflowId: string) => Promise<void>) {
  const { activities, recorded } = fakeActivities(script);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities });
  const input: _CampaignInput = { config: cfg, configHash: 'test-hash', store: { root: 'file:///fake' } };
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
    if (during) await during(handle.workflowId);
    return handle.result();
  });
  return { result, recorded };
}

before(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
});

after(async () => {
  await env?.teardown();
});

describe('dualIpoCampaign', () => {
  test('accept path: every round improves, champions advance, manifests record the gates', async () => {
    const cfg = config({ campaign: { maxRounds: 3, saturation: { epsilon: 0.01, patience: 2 } } });
    const { result, recorded } = await runCampaign({ totals: [70, 72, 74, 76] }, cfg);
    assert.equal(result.rounds, 3);
    assert.match(result.stopReason, /maxRounds/);
    assert.equal(result.champion.generator, 'g3');
    assert.equal(result.champion.critic, 'c3');
    assert.deepEqual(result.acceptedTotals, [70, 72, 74, 76]);
    assert.equal(recorded.manifests.length, 3);
    for (const m of recorded.manifests) {
      assert.equal(m.status, 'accepted');
      assert.deepEqual(m.gates.map((g: any) => [g.gate, g.accepted]), [['critic', true], ['eval', true]]);
    }
    assert.equal(recorded.rollbacks.length, 0);
    // The stage order of a round follows the paper.
    const round2 = recorded.calls.filter((c) => c.round === 2 && !['promoteChampion', 'writeRoundManifest'].includes(c.activity)).map((c) => c.activity);
    // An accepted critic re-labels the round's samples before the generator trains (paper 3.3).
    assert.deepEqual(round2, ['sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'label', 'pceFilter', 'generatorTrain', 'evaluate']);
    const relabel = recorded.calls.find((c) => c.activity === 'label' && c.round === 2 && c.step === 'relabel')!.input as any;
    assert.equal(relabel.inputs.critic.uri, 'file:///fake/critic-2');
    const train2 = recorded.calls.find((c) => c.activity === 'generatorTrain' && c.round === 2)!.input as any;
    assert.equal(train2.inputs.preferences.uri, 'file:///fake/prefs-2-relabel');
    const m2 = recorded.manifests.find((m) => m.round === 2)!;
    assert.equal(m2.outputs.preferences.uri, 'file:///fake/prefs-2-relabel');
    assert.equal(m2.outputs.preferencesBeforeCriticUpdate.uri, 'file:///fake/prefs-2-');
  });

  test('critic gate failure keeps the champion critic and discards the candidate', async () => {
    const cfg = config({ campaign: { maxRounds: 2 } });
    const { result, recorded } = await runCampaign({ totals: [70, 72, 74], agreement: (round) => (round === 1 ? 0.6 : 0.8) }, cfg);
    assert.equal(result.rounds, 2);
    const m1 = recorded.manifests.find((m) => m.round === 1)!;
    const criticGate = m1.gates.find((g: any) => g.gate === 'critic');
    assert.equal(criticGate.accepted, false);
    assert.equal(criticGate.figures.agreementPairwise, 0.6);
    assert.equal(m1.critic.after, 'c0');
    assert.deepEqual(m1.rollbacks.map((r: any) => [r.what, r.from, r.to]), [['critic', 'c1', 'c0']]);
    assert.ok(recorded.rollbacks.some((r) => r.kind === 'critic' && r.round === 1 && r.champion.version === 'c0'));
    // Round 2 labels with the kept champion critic, then accepts its own refinement.
    const label2 = recorded.calls.find((c) => c.activity === 'label' && c.round === 2)!.input as any;
    assert.equal(label2.inputs.critic.uri, 'file:///fake/boot-critic');
    assert.ok(!recorded.calls.some((c) => c.round === 1 && c.step === 'relabel'), 'a rejected critic labels nothing');
    assert.equal(result.champion.critic, 'c2');
  });

  test('eval gate failure rolls the generator back and refreshes the critic next round', async () => {
    const cfg = config({ campaign: { maxRounds: 3, criticRefinement: 'on-degradation' }, gates: { eval: { tolerance: 0.5 } } });
    const { result, recorded } = await runCampaign({ totals: [70, 72, 69, 75] }, cfg);
    const [m1, m2, m3] = recorded.manifests.sort((a, b) => a.round - b.round);
    assert.equal(m1.status, 'accepted');
    assert.equal(m1.critic.refined, false, 'on-degradation: no refinement while rounds improve');
    assert.equal(m2.status, 'rejected');
    assert.equal(m2.generator.after, 'g1');
    assert.deepEqual(m2.rollbacks.map((r: any) => [r.what, r.from, r.to]), [['generator', 'g2', 'g1']]);
    assert.equal(m3.critic.refined, true, 'degradation schedules a critic refinement for the next round');
    // Round 3 starts from the champion g1, not the rejected g2.
    const sample3 = recorded.calls.find((c) => c.activity === 'sample' && c.round === 3)!.input as any;
    assert.equal(sample3.inputs.generator.uri, 'file:///fake/generator-1');
    assert.equal(result.champion.generator, 'g3');
    assert.deepEqual(result.acceptedTotals, [70, 72, 75]);
  });

  test('eval gate failure after an accepted critic update rolls the critic back too: the next round labels with the old champion critic', async () => {
    const cfg = config({ campaign: { maxRounds: 3 } });
    const { result, recorded } = await runCampaign({ totals: [70, 72, 69, 75] }, cfg);
    const [m1, m2, m3] = recorded.manifests.sort((a, b) => a.round - b.round);
    assert.deepEqual([m1.status, m2.status, m3.status], ['accepted', 'rejected', 'accepted']);
    // Round 2: the critic gate accepted c2, the eval gate rejected g2; both are discarded.
    assert.deepEqual(m2.gates.map((g: any) => [g.gate, g.accepted]), [['critic', true], ['eval', false]]);
    assert.deepEqual(m2.rollbacks.map((r: any) => [r.what, r.from, r.to]), [['generator', 'g2', 'g1'], ['critic', 'c2', 'c1']]);
    assert.match(m2.rollbacks[1].reason, /eval gate rejected the round after the critic update/);
    assert.deepEqual([m2.critic.before, m2.critic.after, m2.critic.accepted], ['c1', 'c1', true]);
    const pointer = recorded.rollbacks.find((r) => r.kind === 'critic' && r.round === 2)!;
    assert.deepEqual([pointer.candidate.version, pointer.champion.version], ['c2', 'c1'], 'the champion pointer goes back to c1');
    // Round 3 labels with c1 (round 1's critic) and refines c1, not the discarded c2.
    const label3 = recorded.calls.find((c) => c.activity === 'label' && c.round === 3 && !c.step)!.input as any;
    assert.equal(label3.inputs.critic.uri, 'file:///fake/critic-1');
    const train3 = recorded.calls.find((c) => c.activity === 'criticTrain' && c.round === 3)!.input as any;
    assert.equal(train3.inputs.critic.uri, 'file:///fake/critic-1');
    assert.deepEqual([m3.critic.before, result.champion.critic, result.champion.generator], ['c1', 'c3', 'g3']);
  });

  test("campaign.criticOnEvalFailure 'keep': the updated critic stays champion when the eval gate fails", async () => {
    const cfg = config({ campaign: { maxRounds: 3, criticOnEvalFailure: 'keep' } });
    const { recorded } = await runCampaign({ totals: [70, 72, 69, 75] }, cfg);
    const m2 = recorded.manifests.find((m) => m.round === 2)!;
    assert.deepEqual(m2.rollbacks.map((r: any) => r.what), ['generator']);
    assert.equal(m2.critic.after, 'c2');
    const label3 = recorded.calls.find((c) => c.activity === 'label' && c.round === 3 && !c.step)!.input as any;
    assert.equal(label3.inputs.critic.uri, 'file:///fake/critic-2');
  });

  test('eval gate with minStandardErrors: a gain inside its noise is rolled back; each evaluation pairs with the champion of its round', async () => {
    const cfg = config({ campaign: { maxRounds: 3, criticRefinement: 'never' }, gates: { eval: { minStandardErrors: 2 } } });
    // gains over the champion: +0.3 (needs 2 x 0.25 = 0.5: rejected), then +0.9 and +0.6 (accepted)
    const { result, recorded } = await runCampaign({ totals: [70, 70.3, 70.9, 71.5], standardError: () => 0.25 }, cfg);
    const [m1, m2, m3] = recorded.manifests.sort((a, b) => a.round - b.round);
    assert.deepEqual([m1.status, m2.status, m3.status], ['rejected', 'accepted', 'accepted']);
    const gate1 = m1.gates.find((g: any) => g.gate === 'eval');
    assert.match(gate1.reason, /below 2 standard error/);
    assert.equal(gate1.figures.gainStandardError, 0.25);
    assert.equal(gate1.figures.minStandardErrors, 2);
    const baselines = recorded.calls.filter((c) => c.activity === 'evaluate').map((c) => (c.input as any).inputs.baseline?.uri);
    // the base evaluation has none; rounds 1 and 2 pair with the base model's scores, round 3 with round 2's
    assert.deepEqual(baselines, [undefined, 'file:///fake/scores-0', 'file:///fake/scores-0', 'file:///fake/scores-2']);
    assert.deepEqual(result.acceptedTotals, [70, 70.9, 71.5]);
  });

  test('abnormal training loss takes the rejection path without evaluating', async () => {
    const cfg = config({ campaign: { maxRounds: 1 } });
    const { result, recorded } = await runCampaign({ totals: [70, 90], trainMetrics: () => ({ nanCount: 3 }) }, cfg);
    assert.equal(result.champion.generator, 'g0');
    assert.ok(!recorded.calls.some((c) => c.activity === 'evaluate' && c.round === 1));
    assert.match(recorded.manifests[0]!.reason, /non-finite/);
    // The round's accepted critic update goes with the rejected generator.
    assert.deepEqual(recorded.manifests[0]!.rollbacks.map((r: any) => [r.what, r.from, r.to]), [['generator', 'g1', 'g0'], ['critic', 'c1', 'c0']]);
    assert.equal(result.champion.critic, 'c0');
  });

  test('campaign stops after N consecutive rejected rounds', async () => {
    const cfg = config({ campaign: { maxRounds: 10, maxConsecutiveRejected: 2 } });
    const { result } = await runCampaign({ totals: [70, 60, 61, 99] }, cfg);
    assert.equal(result.rounds, 2);
    assert.match(result.stopReason, /2 consecutive rejected/);
  });

  test('saturation stop: Total improves by less than epsilon for k accepted rounds', async () => {
    const cfg = config({ campaign: { maxRounds: 10, saturation: { epsilon: 0.5, patience: 2 } } });
    const { result } = await runCampaign({ totals: [70, 73, 73.2, 73.3, 80] }, cfg);
    assert.equal(result.rounds, 3);
    assert.match(result.stopReason, /saturation/);
  });

  test('manual approval times out and takes the configured default', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, gates: { eval: { approval: { mode: 'manual', timeout: '2h', onTimeout: 'reject' } } } });
    const { result, recorded } = await runCampaign({ totals: [70, 75] }, cfg);
    const gate = recorded.manifests[0]!.gates.find((g: any) => g.gate === 'eval');
    assert.equal(gate.accepted, false, 'the figures passed, but the timeout default rejects');
    assert.equal(gate.approval.timedOut, true);
    assert.equal(result.champion.generator, 'g0');
  });

  test('manual approval through the approve update is recorded', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, gates: { eval: { approval: { mode: 'manual', timeout: '7d', onTimeout: 'reject' } } } });
    const { result, recorded } = await runCampaign({ totals: [70, 69] }, cfg, async (id) => {
      const round = env.client.workflow.getHandle(roundWorkflowId(id, 1));
      for (let i = 0; i < 200; i++) {
        const view = await round.query(roundStatusQuery).catch(() => undefined);
        if (view?.awaitingApproval === 'eval') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await assert.rejects(round.executeUpdate(approveUpdate, { args: [{ gate: 'critic', decision: 'accept', by: 'ana', reason: 'x' }] }), (err: Error) => {
        // The validator's message travels as the cause of the client's WorkflowUpdateFailedError.
        assert.match(String((err.cause as Error | undefined)?.message), /waiting for the eval gate, not the critic gate/);
        return true;
      });
      const record = await round.executeUpdate(approveUpdate, { args: [{ gate: 'eval', decision: 'accept', by: 'ana', reason: 'human study prefers it' }] });
      assert.equal(record.by, 'ana');
    });
    const gate = recorded.manifests[0]!.gates.find((g: any) => g.gate === 'eval');
    assert.equal(gate.accepted, true, 'the approver overrides the failing figures');
    assert.equal(gate.approval.by, 'ana');
    assert.equal(result.champion.generator, 'g1');
  });

  test('stop request ends the campaign after the current round', async () => {
    const cfg = config({ campaign: { maxRounds: 5 } });
    const { result } = await runCampaign({ totals: [70, 71, 72, 73, 74, 75], stageDelayMs: 50 }, cfg, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 200; i++) {
        const s = await handle.query(statusQuery).catch(() => undefined);
        if (s && s.round >= 1 && s.stage !== 'bootstrap') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.signal(stopSignal, { reason: 'test' });
    });
    assert.equal(result.rounds, 1);
    assert.equal(result.stopReason, 'stop requested');
  });

  test('stop --now (cancellation) still runs the compensation: the candidate generator is rolled back, the round is recorded as stopped', async () => {
    const cfg = config({ campaign: { maxRounds: 3 } });
    const { activities, recorded } = fakeActivities({ totals: [70, 72, 74, 76], stageDelayMs: 300 });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities });
    const input: _CampaignInput = { config: cfg, configHash: 'test-hash', store: { root: 'file:///fake' } };
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
      const round = env.client.workflow.getHandle(roundWorkflowId(cfg.campaign.id!, 1));
      for (let i = 0; i < 400; i++) {
        const view = await round.query(roundStatusQuery).catch(() => undefined);
        if (view?.stage === 'evaluate') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
    });
    const m1 = recorded.manifests.find((m) => m.round === 1)!;
    assert.equal(m1.status, 'stopped');
    assert.deepEqual(m1.rollbacks.map((r: any) => [r.what, r.from, r.to]), [['generator', 'g1', 'g0']]);
    assert.ok(recorded.rollbacks.some((r) => r.kind === 'generator' && r.round === 1 && r.champion.version === 'g0'), 'the champion pointer was restored');
  });

  test('static-data ablation (Fig. 3a): round 1 builds the preferences, later rounds train on them again', async () => {
    const cfg = config({ campaign: { maxRounds: 3, criticRefinement: 'never' }, generation: { staticPreferences: true } });
    const { result, recorded } = await runCampaign({ totals: [70, 72, 73, 74] }, cfg);
    assert.equal(result.rounds, 3);
    const stagesOf = (round: number) => recorded.calls.filter((c) => c.round === round && !['promoteChampion', 'writeRoundManifest'].includes(c.activity)).map((c) => c.activity);
    assert.deepEqual(stagesOf(1), ['sample', 'label', 'pceFilter', 'generatorTrain', 'evaluate']);
    assert.deepEqual(stagesOf(3), ['generatorTrain', 'evaluate']);
    const train3 = recorded.calls.find((c) => c.activity === 'generatorTrain' && c.round === 3)!.input as any;
    assert.equal(train3.inputs.preferences.uri, 'file:///fake/prefs-1-');
    assert.equal(train3.inputs.generator.uri, 'file:///fake/generator-2', 'the generator itself keeps training');
  });

  test('history stays bounded: continue-as-new every few rounds', async () => {
    const rounds = 9;
    const cfg = config({ campaign: { maxRounds: rounds, roundsPerRun: 2, saturation: { epsilon: 0, patience: 1 } } });
    const totals = Array.from({ length: rounds + 1 }, (_, i) => 60 + i);
    const { result } = await runCampaign({ totals }, cfg);
    assert.equal(result.rounds, rounds);
    // Every run of the campaign holds at most two rounds' worth of events.
    const lengths: number[] = [];
    let runId: string | undefined = undefined;
    do {
      const history = await env.client.workflow.getHandle(cfg.campaign.id!, runId).fetchHistory();
      lengths.push(history.events?.length ?? 0);
      runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    } while (runId);
    assert.ok(lengths.length >= 4, `expected several runs, got ${lengths.length}`);
    const max = Math.max(...lengths);
    assert.ok(max < 250, `a run's history has ${max} events`);
  });
});
